"""Broadcast: 36,000 notifications to 36,000 private chats through the real outbox sender and
python-telegram-bot, against the fake Bot API with its global limit raised (default 3,000/s).

The sender runs as a separate process. Once about half the messages have arrived it is killed
with SIGKILL, then started again; afterwards every chat is counted at the fake server: lost
(nothing arrived) and duplicated (arrived more than once) messages. Runs on SQLite and, where
reachable, PostgreSQL.

    python bench/broadcast.py [--count 36000] [--rate 3000] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402

from storage.db import Database  # noqa: E402

FIRST_CHAT = 1_000_000
KEY = "Action day on {day}: a {amount} city voucher is waiting for you in your wallet."
PG_ADMIN = os.environ.get("STADTLOTSE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


# --------------------------------------------------------------------------- the sender process
async def sender_main(db_url: str, api_url: str, rate: float) -> None:
    import flows  # noqa: F401  (registers every flow: buttons and menus)
    from bot.clock import make_clock
    from bot.sender.delivery import Delivery
    from bot.sender.outbox import OutboxSender
    from bot.sender.ratelimit import Limits
    from bot.telegram import TelegramChannel
    from flows.types import Inbound, Reply
    from services.city import load_city

    async def no_conversation(inbound: Inbound) -> list[Reply]:
        return []

    db = Database(db_url)
    statements = 0

    def counted(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    channel = TelegramChannel(
        "123:TEST", no_conversation, api_url=api_url, limits=Limits(global_per_second=rate)
    )
    await channel.start()
    sender = OutboxSender(db, load_city(), {"telegram": channel}, make_clock(None))
    stats = await Delivery(sender, until_idle=True, poll_interval=0.2).run()
    await channel.stop()
    await db.dispose()
    print(json.dumps(stats.__dict__ | {"statements": statements}))


# --------------------------------------------------------------------------- the benchmark
def time_children() -> float:
    """CPU seconds of the sender processes that ended (both are waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def configured_rate() -> float:
    """Telegram's global send limit as `stadtlotse run` configures it."""
    from bot.settings import Settings

    return float(Settings.model_fields["telegram_rate_global"].default)


async def prepare(db: Database, count: int) -> None:
    from storage.models.identity import ChannelAccount, Citizen
    from storage.models.outbox import Notification

    await db.create_all()
    now = datetime.now(UTC)
    chunk = 4000
    async with db.engine.begin() as conn:
        for start in range(0, count, chunk):
            ids = range(start + 1, min(count, start + chunk) + 1)
            await conn.execute(
                insert(Citizen), [{"id": i, "language": "de", "created_at": now} for i in ids]
            )
            await conn.execute(
                insert(ChannelAccount),
                [
                    {
                        "channel": "telegram",
                        "external_id": str(FIRST_CHAT + i),
                        "chat_id": str(FIRST_CHAT + i),
                        "citizen_id": i,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                insert(Notification),
                [
                    {
                        "citizen_id": i,
                        "key": KEY,
                        "params": {"day": "5 December", "amount": "10 €"},
                        "buttons": [],
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT setval('citizen_id_seq', :n)"), {"n": count})


async def start_sender(db_url: str, api_url: str, rate: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--sender", "--db", db_url, "--api", api_url,
        "--rate", str(rate), stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip


async def one_run(database: str, count: int, rate: float, kill_at: float) -> dict[str, object]:
    from tests.support.fake_telegram import FakeTelegram, RateLimits

    workdir = Path(tempfile.mkdtemp(prefix="broadcast-"))
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'broadcast.db'}"
    else:
        admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.engine.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS stadtlotse_bench_broadcast"))
            await conn.execute(text("CREATE DATABASE stadtlotse_bench_broadcast"))
        await admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/stadtlotse_bench_broadcast"
    db = Database(url)
    began = time.monotonic()
    await prepare(db, count)
    print(f"[{database}] {count} residents and notifications written in "
          f"{time.monotonic() - began:.1f} s")  # fmt: skip

    limits = RateLimits(global_per_second=rate, private_per_second=1.0, private_burst=3)
    cpu_before, load_start = time_children(), round(os.getloadavg()[0], 2)
    async with FakeTelegram(limits=limits) as fake:
        api = fake.base_url.removesuffix("/bot")
        sender = await start_sender(url, api, rate)
        await fake.wait_until(
            lambda: len(fake.sent()) >= 1 or sender.returncode is not None, timeout=60
        )
        if sender.returncode is not None:
            raise SystemExit("the sender process ended early")
        first_at = time.monotonic()
        await fake.wait_until(lambda: len(fake.sent()) >= count * kill_at, timeout=600)
        sender.send_signal(signal.SIGKILL)
        await sender.wait()
        killed_at = time.monotonic()
        sent_before_kill = len(fake.sent())
        async with db.uow() as uow:
            claimed = (
                await uow.session.execute(
                    text("SELECT count(*) FROM notification WHERE status = 'sending'")
                )
            ).scalar()
        print(f"[{database}] killed after {sent_before_kill} messages; "
              f"{claimed} rows were claimed (status sending)")  # fmt: skip

        restarted_at = time.monotonic()
        sender = await start_sender(url, api, rate)
        out, _ = await sender.communicate()
        finished_at = time.monotonic()
        second = json.loads(out.decode().strip().splitlines()[-1])
        last_at = max(r.at for r in fake.requests if r.method == "sendMessage")
        resumed_at = min(
            r.at for r in fake.requests if r.method == "sendMessage" and r.at >= restarted_at
        )

        per_chat = Counter(m.chat_id for m in fake.sent())
        expected = set(range(FIRST_CHAT + 1, FIRST_CHAT + count + 1))
        lost = len(expected - set(per_chat))
        duplicated = sum(n - 1 for n in per_chat.values() if n > 1)
        async with db.uow() as uow:
            statuses = dict(
                (
                    await uow.session.execute(
                        text("SELECT status, count(*) FROM notification GROUP BY status")
                    )
                ).all()
            )
        first_rate = sent_before_kill / (killed_at - first_at)
        second_rate = (count - sent_before_kill + duplicated) / (last_at - restarted_at)
        # the share of the limit while a sender was sending (its start-up after the kill
        # is the restart's cost, counted in rate_fraction_after_restart)
        sending = (killed_at - first_at) + (last_at - resumed_at)
        share = len(fake.sent()) / sending / rate
        load_end = os.getloadavg()[0]
        result = {
            "database": database,
            "notifications": count,
            "limit_per_second": rate,
            "rate_before_kill": round(first_rate, 1),
            "rate_after_restart": round(second_rate, 1),
            "rate_fraction_of_limit": round(first_rate / rate, 3),
            "rate_fraction_after_restart": round(second_rate / rate, 3),
            "share_of_limit": round(share, 3),
            "sender_cpu_ms_per_message": round(
                (time_children() - cpu_before) * 1000 / max(1, len(fake.sent())), 3
            ),
            "statements_per_message_after_restart": round(
                second.get("statements", 0) / max(1, count - sent_before_kill), 2
            ),
            "load_average": {"start": load_start, "end": round(load_end, 2)},
            "wall_seconds": round(finished_at - first_at, 2),
            "http_429": fake.rate_limited,
            "lost": lost,
            "duplicated": duplicated,
            "claimed_at_kill": claimed,
            "recovered_by_restart": second.get("recovered"),
            "statuses": statuses,
            "minutes_at_30_per_second": round(count / 30 / 60, 1),
        }
    await db.dispose()
    if database == "postgresql":
        admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.engine.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS stadtlotse_bench_broadcast"))
        await admin.dispose()
    return result


async def reachable_postgres() -> bool:
    try:
        db = Database(PG_ADMIN)
        async with db.engine.connect() as conn:
            await conn.execute(select(1))
        await db.dispose()
        return True
    except Exception:
        return False


async def main(args: argparse.Namespace) -> None:
    results = []
    for database in args.databases.split(","):
        if database == "postgresql" and not await reachable_postgres():
            print("PostgreSQL not reachable: skipped")
            continue
        result = await one_run(database, args.count, args.rate, args.kill_at)
        results.append(result)
        for key, value in result.items():
            print(f"  {key:<28} {value}")
    out = ROOT / "bench" / "results" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=36_000)
    parser.add_argument(
        "--rate", default="3000", help="messages per second, or 'configured' (the bot's limit)"
    )
    parser.add_argument("--kill-at", type=float, default=0.5, help="share sent before SIGKILL")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--out", default="broadcast.json", help="file name in bench/results")
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    arguments.rate = configured_rate() if arguments.rate == "configured" else float(arguments.rate)
    if arguments.sender:
        asyncio.run(sender_main(arguments.db, arguments.api, arguments.rate))
    else:
        asyncio.run(main(arguments))
