"""Headless Chromium for page tests, driven through its command line (no driver library):
`dump_dom(url)` gives the DOM after the page's scripts ran, `screenshot(url, path)` a PNG at a
phone's size. Tests that need it call `chromium_or_skip()`: where no Chromium is installed they
are skipped with the reason (CI installs it: see .ci/run; here `apt-get install -y chromium`).

Serve the app on a free loopback port (`serve(web_app)`) and point the browser at it.

    async with serve(create_web_app(app)) as base:
        dom = await dump_dom(f"{base}/meldungen")
        await screenshot(f"{base}/meldungen", tmp_path / "page.png")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PHONE = (390, 844)  # an iPhone 12-15's CSS pixels
TIMEOUT = 60.0


def find_chromium() -> str | None:
    wanted = os.environ.get("STADTLOTSE_TEST_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def chromium_or_skip() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(
            "no Chromium found (looked for "
            + ", ".join(NAMES)
            + " and $STADTLOTSE_TEST_CHROMIUM); "
            "install it with `apt-get install -y chromium` (.ci/run does)"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(web_app: Any) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        if task.done():
            await task  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _run(*arguments: str, timeout: float = TIMEOUT) -> bytes:
    chromium = chromium_or_skip()
    with tempfile.TemporaryDirectory(prefix="stadtlotse-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            # nothing outside this machine: an external name (map tiles) fails at once instead
            # of waiting on a resolver that cannot answer, which stalled the page's load
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            *arguments,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"chromium took longer than {timeout} s") from None
    if process.returncode != 0:
        raise AssertionError(f"chromium failed ({process.returncode}): {err.decode()[-2000:]}")
    return out


async def dump_dom(
    url: str, *, size: tuple[int, int] = PHONE, wait_ms: int = 3000, timeout: float = TIMEOUT
) -> str:
    """The DOM after scripts ran (virtual time lets timers and loads settle first)."""
    out = await _run(
        f"--window-size={size[0]},{size[1]}",
        f"--virtual-time-budget={wait_ms}",
        "--dump-dom",
        url,
        timeout=timeout,
    )
    return out.decode("utf-8")


async def screenshot(
    url: str,
    path: Path,
    *,
    size: tuple[int, int] = PHONE,
    wait_ms: int = 3000,
    timeout: float = TIMEOUT,
) -> Path:
    """A PNG of the page as a phone shows it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await _run(
        f"--window-size={size[0]},{size[1]}",
        f"--virtual-time-budget={wait_ms}",
        f"--screenshot={path}",
        url,
        timeout=timeout,
    )
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "no screenshot"
    return path
