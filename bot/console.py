"""The console channel: `stadtlotse chat` and `stadtlotse run` without a chat channel.

Reads lines from standard input (typed or piped), writes replies to standard output, buttons as
numbered options where a typed number picks them, else as labels to type (handlers/picking.py).
Files and images are written to var/console/ and their path is shown.
Special lines: `@file PATH` sends a photo or PDF, `@location LAT,LON` shares a location.
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
import uuid
from pathlib import Path
from typing import TextIO

from flows.types import Attachment, Inbound, Reply

NAME = "console"
DEFAULT_USER = "console-user"


def parse_line(
    line: str, *, user: str, chat: str, key: str, is_group: bool = False
) -> Inbound | None:
    """One typed line as an Inbound; None for an empty line."""
    text = line.rstrip("\r\n")
    base = {
        "channel": NAME,
        "user_id": user,
        "chat_id": chat,
        "key": key,
        "is_group": is_group,
        "display_name": "" if user.isdigit() or user == DEFAULT_USER else user.capitalize(),
    }
    if text.startswith("@file "):
        path = Path(text[6:].strip()).expanduser()
        if not path.is_file():
            return Inbound(kind="text", text=text, **base)  # type: ignore[arg-type]
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        kind = "photo" if mime.startswith("image/") else "document"
        attachment = Attachment(kind, path.name, mime, path.read_bytes())  # type: ignore[arg-type]
        return Inbound(kind="media", attachments=(attachment,), **base)  # type: ignore[arg-type]
    if text.startswith("@location "):
        try:
            lat, lon = (float(part) for part in text[10:].split(","))
        except ValueError:
            return Inbound(kind="text", text=text, **base)  # type: ignore[arg-type]
        return Inbound(kind="location", location=(lat, lon), **base)  # type: ignore[arg-type]
    if text.startswith("/") and len(text) > 1 and not text[1].isspace():
        command, _sep, args = text[1:].partition(" ")
        command = command.split("@", 1)[0]
        return Inbound(kind="command", command=command, text=args, **base)  # type: ignore[arg-type]
    return Inbound(kind="text", text=text, **base)  # type: ignore[arg-type]


class ConsoleChannel:
    """Prints replies. Also the delivery target of console notifications (outbox)."""

    name = NAME

    def __init__(self, out: TextIO | None = None, media_dir: Path = Path("var/console")) -> None:
        self.out = out or sys.stdout
        self.media_dir = media_dir
        self._counter = 0
        self.delivered: list[tuple[str, Reply]] = []  # notifications shown, for tests

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def render(self, reply: Reply, prefix: str = "") -> str:
        lines = (
            [prefix + line if prefix else line for line in reply.text.splitlines()]
            if reply.text
            else []
        )
        if reply.media is not None:
            self.media_dir.mkdir(parents=True, exist_ok=True)
            path = self.media_dir / reply.media.filename
            path.write_bytes(reply.media.data)
            label = "image" if reply.media.kind == "image" else "file"
            lines.append(f"{prefix}[{label}: {path}]")
        number = 0
        for button in reply.buttons:
            if button.url:
                lines.append(f"{prefix}  ↗ {button.label}: {button.url}")
            elif reply.options != "numbered" or not button.action:
                lines.append(f"{prefix}  ▸ {button.label}")  # chosen by typing the label
            else:
                number += 1
                lines.append(f"{prefix}  [{number}] {button.label}")
        return "\n".join(lines)

    def show(self, replies: list[Reply], prefix: str = "") -> None:
        for reply in replies:
            self.out.write(self.render(reply, prefix) + "\n")
        self.out.flush()

    async def deliver(self, chat_id: str, reply: Reply, *, thread: str = "") -> str:
        self._counter += 1
        self.delivered.append((chat_id, reply))
        self.out.write(
            self.render(reply, prefix=f"[{chat_id}] " if chat_id.startswith("room:") else "🔔 ")
            + "\n"
        )
        self.out.flush()
        return f"console-{self._counter}"


async def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines from a blocking stream, fed into a queue by a thread; None marks the end."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    loop.run_in_executor(None, pump)
    return queue


def session_key() -> str:
    return uuid.uuid4().hex[:12]
