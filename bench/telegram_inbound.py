"""Inbound: updates per second and p95 latency through the whole stack — webhook → conversation
engine → database → sendMessage at the fake Bot API — for `stadtlotse run` in webhook mode, and
for a bare python-telegram-bot echo bot (webhook into the same kind of ASGI server) measured in
the same run on the same fake server. Both run as their own process, as in production.

Each simulated resident writes, waits for the answer, writes again (as people do); `--users`
residents do so at the same time. Latency: from the webhook POST to the bot's sendMessage
arriving at the fake server. Next to throughput: the CPU milliseconds each bot process spends
per update (from /proc), the SQL statements Stadtlotse runs per update, and the machine's load
average (system CPU, the kernel's share, is given apart). Update ids continue from the clock, so
a second run on the same `--database` is not taken for a redelivery of the first. `--profile F`
writes a CPU-time cProfile of our bot during the measured load (pstats format).

    python bench/telegram_inbound.py [--users 20] [--messages 25] [--database URL] [--profile F]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench_secret"
FIRST_USER = 500_000
STATEMENTS_FILE = "STADTLOTSE_BENCH_STATEMENTS_FILE"
PROFILE_FILE = "STADTLOTSE_BENCH_PROFILE"  # where to write a CPU-time cProfile of the load


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), all its threads."""
    return sum(process_cpu_split(pid))


def process_cpu_split(pid: int) -> tuple[float, float]:
    """User and system (kernel: socket sends, wakeups) CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# --------------------------------------------------------------------------- Stadtlotse
def stadtlotse_main() -> None:
    """`stadtlotse run`, counting the SQL statements of every database it opens; SIGUSR1 writes
    the count so far to the file named by STADTLOTSE_BENCH_STATEMENTS_FILE."""
    from sqlalchemy import event

    import storage.db
    from bot.cli import main

    counted = [0]
    original = storage.db.Database.__init__

    def counting_init(self: storage.db.Database, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]

        def seen(*_args: object) -> None:
            counted[0] += 1

        event.listen(self.engine.sync_engine, "before_cursor_execute", seen)

    storage.db.Database.__init__ = counting_init  # type: ignore[method-assign]
    target = Path(os.environ[STATEMENTS_FILE])
    profile_to = os.environ.get(PROFILE_FILE, "")
    profiler = cProfile.Profile(time.process_time) if profile_to else None  # CPU, not wall
    profiling = [False]

    def report(*_args: object) -> None:
        target.write_text(str(counted[0]))
        if profiler is None:
            return
        if profiling[0]:  # the second report ends the measured load
            profiler.disable()
            profiler.dump_stats(profile_to)
        else:
            profiler.enable()
        profiling[0] = not profiling[0]

    signal.signal(signal.SIGUSR1, report)
    raise SystemExit(main(["run"]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- the echo bot
def echo_main(port: int, api: str) -> None:
    """A bare PTB echo bot: Application without updater, webhook into a Starlette app served by
    uvicorn (PTB's customwebhookbot example), answering every text with the same text."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "?")

    async def main() -> None:
        application = (
            Application.builder()
            .token("123:TEST")
            .base_url(f"{api}/bot")
            .updater(None)
            .concurrent_updates(True)
            .build()
        )
        application.add_handler(MessageHandler(filters.TEXT, echo))

        async def telegram(request: Request) -> Response:
            if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
                return Response(status_code=403)
            await application.update_queue.put(
                Update.de_json(await request.json(), application.bot)
            )
            return Response()

        server = uvicorn.Server(
            uvicorn.Config(
                Starlette(routes=[Route("/telegram", telegram, methods=["POST"])]),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        async with application:
            await application.bot.set_webhook(
                f"http://127.0.0.1:{port}/telegram", secret_token=SECRET
            )
            await application.start()
            await server.serve()
            await application.stop()

    with contextlib.suppress(KeyboardInterrupt):  # SIGINT ends the run: no traceback
        asyncio.run(main())


# --------------------------------------------------------------------------- the load
async def load(fake: object, users: int, messages: int, text: str) -> dict[str, float]:
    from tests.support.fake_telegram import FakeTelegram

    assert isinstance(fake, FakeTelegram)
    latencies: list[float] = []

    async def resident(user: int) -> None:
        for _ in range(messages):
            before = len(fake.sent(user))
            started = time.monotonic()
            await fake.send_text(user, text, first_name="Bench", language_code="de")
            await fake.wait_until(lambda u=user, b=before: len(fake.sent(u)) > b, timeout=30)
            latencies.append(time.monotonic() - started)

    began = time.monotonic()
    await asyncio.gather(*(resident(FIRST_USER + u) for u in range(users)))
    wall = time.monotonic() - began
    latencies.sort()
    return {
        "updates": len(latencies),
        "updates_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


async def statements_so_far(process: asyncio.subprocess.Process, path: Path) -> int:
    path.unlink(missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    for _ in range(100):
        if path.exists() and path.read_text():
            return int(path.read_text())
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not report its statement count")


async def measure(
    name: str, command: list[str], env: dict[str, str], fake: object, args: argparse.Namespace,
    text: str,
) -> dict[str, Any]:  # fmt: skip
    from tests.support.fake_telegram import FakeTelegram

    assert isinstance(fake, FakeTelegram)
    fake.webhook_url = ""
    counting = STATEMENTS_FILE in env
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT)
    try:
        await fake.wait_until(lambda: bool(fake.webhook_url), timeout=60)
        await asyncio.sleep(0.5)  # the web server binds right after setWebhook
        await load(fake, 3, 3, text)  # warm up (first contact creates the residents)
        path = Path(env.get(STATEMENTS_FILE, ""))
        statements = await statements_so_far(process, path) if counting else 0
        load_before, split_before = load_average(), process_cpu_split(process.pid)
        result: dict[str, Any] = await load(fake, args.users, args.messages, text)
        split_after = process_cpu_split(process.pid)
        user, system = (
            after - before for before, after in zip(split_before, split_after, strict=True)
        )
        result["cpu_ms_per_update"] = round((user + system) * 1000 / result["updates"], 2)
        result["system_cpu_ms_per_update"] = round(system * 1000 / result["updates"], 2)
        if counting:
            statements = await statements_so_far(process, path) - statements
            result["statements_per_update"] = round(statements / result["updates"], 2)
        result["load_average_before"] = load_before
        result["load_average_after"] = load_average()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)
    print(f"{name:<12} " + "  ".join(f"{k} {v}" for k, v in result.items()))
    return result


async def main(args: argparse.Namespace) -> None:
    from tests.support.fake_telegram import FakeTelegram, RateLimits

    workdir = Path(tempfile.mkdtemp(prefix="inbound-"))
    database = args.database or f"sqlite+aiosqlite:///{workdir / 'inbound.db'}"
    # update ids go on from the clock (milliseconds): a second run on the same database
    # must not look like Telegram redelivering the first run's updates
    first_update_id = int(time.time() * 1000)
    async with FakeTelegram(
        limits=RateLimits(enabled=False), first_update_id=first_update_id
    ) as fake:
        api = fake.base_url.removesuffix("/bot")
        port = free_port()
        echo = await measure(
            "PTB echo",
            [sys.executable, __file__, "--echo-bot", str(port), "--api", api],
            dict(os.environ), fake, args, "menu",
        )  # fmt: skip
        port = free_port()
        env = os.environ | {
            "STADTLOTSE_TELEGRAM_TOKEN": fake.token,
            "STADTLOTSE_TELEGRAM_API_URL": api,
            "STADTLOTSE_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "STADTLOTSE_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "STADTLOTSE_WEB_PORT": str(port),
            "STADTLOTSE_DATABASE_URL": database,
            "STADTLOTSE_LOG_LEVEL": "WARNING",
            "STADTLOTSE_PAYMENTS": "demo",  # no Stripe here; payments are not measured
            STATEMENTS_FILE: str(workdir / "statements"),
        }
        if args.profile:
            env[PROFILE_FILE] = str(Path(args.profile).resolve())
        ours = await measure(
            "Stadtlotse", [sys.executable, __file__, "--stadtlotse"], env, fake, args, "menu"
        )
    result = {
        "database": database.split(":")[0],
        "users_at_once": args.users,
        "messages_each": args.messages,
        "ptb_echo": echo,
        "stadtlotse": ours,
        "throughput_ratio": round(ours["updates_per_second"] / echo["updates_per_second"], 3),
        "cpu_ratio": round(ours["cpu_ms_per_update"] / echo["cpu_ms_per_update"], 2),
        "p95_ratio": round(ours["p95_ms"] / echo["p95_ms"], 2),
    }
    print(f"throughput Stadtlotse / echo bot: {result['throughput_ratio']}, "
          f"p95 latency ratio: {result['p95_ratio']}")  # fmt: skip
    out = ROOT / "bench" / "results" / "telegram_inbound.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=25)
    parser.add_argument("--database", default="", help="default: a fresh SQLite file")
    parser.add_argument("--profile", default="", help="write a CPU-time profile of our bot here")
    parser.add_argument("--echo-bot", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--stadtlotse", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.stadtlotse:
        stadtlotse_main()
    elif arguments.echo_bot:
        echo_main(arguments.echo_bot, arguments.api)
    else:
        asyncio.run(main(arguments))
