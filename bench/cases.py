"""Benchmark: a department queue with 36,000 cases (5,000 open).

Measures listing the department's queue (/queue), listing one resident's cases (/cases), and
posting 1,000 new-case notifications through the outbox (written with the case, then delivered
by the outbox sender to a console-like channel that only records).

    python bench/cases.py                       # SQLite file in a temporary folder
    python bench/cases.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python bench/cases.py --cases 100000 --open 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

import flows  # noqa: F401  (registers forms and their titles)
import storage.models  # noqa: F401
from bot.sender.outbox import OutboxSender
from flows.types import Reply
from services.cases import records as cases
from services.cases.rules import APPROVED, IN_PROGRESS, QUESTION, REJECTED, SUBMITTED
from services.city import load_city
from services.clock import FrozenClock
from storage.db import Database
from storage.models.cases import Case
from storage.models.identity import Citizen

RESULTS = Path(__file__).parent / "results" / "cases.json"
DEPARTMENT = "steuern"


class RecordingChannel:
    name = "console"

    def __init__(self) -> None:
        self.sent = 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, chat_id: str, reply: Reply, *, thread: str = "") -> str:
        self.sent += 1
        return f"m{self.sent}"


async def fill(db: Database, total: int, open_cases: int, residents: int, now: datetime) -> None:
    rng = random.Random(7)
    async with db.uow() as uow:
        await uow.session.execute(
            insert(Citizen),
            [
                {"language": "de", "first_name": f"R{i}", "created_at": now}
                for i in range(residents)
            ],
        )
        await uow.commit()
    closed = [APPROVED, REJECTED]
    open_states = [SUBMITTED, IN_PROGRESS, QUESTION]
    batch: list[dict[str, object]] = []
    async with db.uow() as uow:
        for number in range(1, total + 1):
            is_open = number > total - open_cases
            created = now - timedelta(minutes=(total - number) * 7)
            batch.append(
                {
                    "reference": f"AH-2026-{number:06d}",
                    "citizen_id": rng.randint(1, residents),
                    "form": "dogtax",
                    "department": DEPARTMENT if number % 4 else "ordnung",
                    "status": rng.choice(open_states if is_open else closed),
                    "answers": {"dog_name": "Bello", "chip": f"{number:015d}"},
                    "summary": f"Bello {number}",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(batch) == 5000:
                await uow.session.execute(insert(Case), batch)
                batch = []
        if batch:
            await uow.session.execute(insert(Case), batch)
        await uow.commit()


async def timed(label: str, rounds: int, action: object) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await action()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    figures = {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(sorted(samples)[int(len(samples) * 0.95) - 1], 2),
    }
    print(f"{label:<45} median {figures['median_ms']:8.2f} ms   p95 {figures['p95_ms']:8.2f} ms")
    return figures


async def run(args: argparse.Namespace) -> dict[str, object]:
    folder = tempfile.mkdtemp(prefix="bench-cases-")
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
    db = Database(url)
    if url.startswith("postgres"):
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS bench_cases CASCADE"))
            await conn.execute(text("CREATE SCHEMA bench_cases"))
        await db.dispose()
        db = Database(url, connect_args={"server_settings": {"search_path": "bench_cases"}})
    await db.create_all()
    city = load_city()
    clock = FrozenClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    now = clock.now()

    start = time.perf_counter()
    await fill(db, args.cases, args.open, args.residents, now)
    fill_s = time.perf_counter() - start
    print(f"{args.cases} cases ({args.open} open) for {args.residents} residents: {fill_s:.1f} s")

    async def list_queue() -> None:
        async with db.uow() as uow:
            found, total = await cases.queue(uow, DEPARTMENT)
            assert found and total > 0

    async def list_resident() -> None:
        async with db.uow() as uow:
            await cases.list_own(uow, random.randint(1, args.residents))

    queue = await timed("department queue (20 oldest open + count)", 50, list_queue)
    own = await timed("one resident's cases", 200, list_resident)

    start = time.perf_counter()
    async with db.uow() as uow:
        for n in range(args.notifications):
            await cases.submit(
                uow,
                city,
                citizen_id=1 + n % args.residents,
                form="dogtax",
                department=DEPARTMENT,
                answers={"dog_name": "Rex"},
                summary=f"Rex {n}",
                now=now,
            )
        await uow.commit()
    submit_s = time.perf_counter() - start
    channel = RecordingChannel()
    sender = OutboxSender(db, city, {"console": channel}, clock)
    start = time.perf_counter()
    while True:
        stats = await sender.drain()
        if stats.sent == 0:
            break
    deliver_s = time.perf_counter() - start
    print(
        f"{args.notifications} new cases with their room notification: {submit_s:.2f} s "
        f"({args.notifications / submit_s:.0f}/s)"
    )
    print(
        f"outbox delivered {channel.sent} notifications: {deliver_s:.2f} s "
        f"({channel.sent / deliver_s:.0f}/s)"
    )
    if url.startswith("postgres"):
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS bench_cases CASCADE"))
    await db.dispose()
    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "cases": args.cases,
        "open_cases": args.open,
        "residents": args.residents,
        "fill_seconds": round(fill_s, 2),
        "queue": queue,
        "resident_cases": own,
        "new_cases": args.notifications,
        "submit_seconds": round(submit_s, 2),
        "deliver_seconds": round(deliver_s, 2),
        "delivered": channel.sent,
        "deliveries_per_second": round(channel.sent / deliver_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--cases", type=int, default=36000)
    parser.add_argument("--open", type=int, default=5000)
    parser.add_argument("--residents", type=int, default=12000)
    parser.add_argument("--notifications", type=int, default=1000)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[str(result["database"])] = result
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
