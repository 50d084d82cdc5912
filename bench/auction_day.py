"""Benchmark: the daily auction step for 100,000 listed items, 50,000 wish prices and 100,000
deal-alert subscriptions, on SQLite and PostgreSQL.

Prints seconds for the set-based step (services.auction.daily.daily_step) and for a naive
per-item loop measured in the same run on a sample of items (rolled back, then extrapolated to
all items), and their ratio. Writes bench/results/auction_day.json.

    python bench/auction_day.py                      # both databases, default sizes
    python bench/auction_day.py --items 20000 --naive-sample 500 --databases sqlite
    python bench/auction_day.py --databases postgresql --statements 10   # slowest statements
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import Meter  # noqa: E402
from sqlalchemy import event, func, insert, select, text, update

import storage.models  # noqa: F401
from services.auction import due
from services.auction import items as auction
from services.auction.daily import daily_step, price_rules, price_sql
from services.auction.price import Rule, floor_day, price_on, reach_day
from services.city import load_city
from storage.db import Database
from storage.models.auction import (
    AuctionAlert,
    AuctionDayRun,
    AuctionItem,
    AuctionKeywordHit,
    AuctionSubscription,
    AuctionWish,
)
from storage.models.identity import Citizen
from storage.models.outbox import Notification

POSTGRES = os.environ.get(
    "STADTLOTSE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SCHEMA = f"bench_auction_day_{os.getpid()}"  # its own: never one that tests or others use
CATEGORIES = ["fahrrad", "handy", "schmuck", "schluessel", "taschen", "sonstiges"]
BATCH = 5000


def words(n: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ter", "van", "bro", "sel", "dun", "rix", "pol", "gan", "wu"]
    found: set[str] = set()
    while len(found) < n:
        found.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(found)


async def insert_all(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    async with db.uow() as uow:
        for start in range(0, len(rows), BATCH):
            await uow.session.execute(insert(model), rows[start : start + BATCH])
        await uow.commit()


async def fill(db: Database, args: argparse.Namespace, now: datetime, today: int) -> dict[str, int]:
    rng = random.Random(20261125)
    vocab = words(args.vocabulary, rng)
    rule = Rule()
    citizens = [{"id": n, "language": "de", "created_at": now} for n in range(1, args.people + 1)]
    await insert_all(db, Citizen, citizens)
    items, hits_by_word = [], {}  # type: ignore[var-annotated]
    for n in range(1, args.items + 1):
        start = rng.randint(10, 500) * 100
        floor = start * rng.randint(10, 40) // 100
        started = today - rng.randint(1, 100)  # some sat at the floor long enough to end
        title_words = rng.sample(vocab, 3)
        yesterday = price_on(start, floor, rule, today - 1 - started)
        at_floor = started + floor_day(start, floor, rule)
        items.append(
            {
                "id": n,
                "title": " ".join(title_words).title(),
                "description": "",
                "found_place": "",
                "category": rng.choice(CATEGORIES),
                "found_on": now.date(),
                "notice_on": now.date(),
                "photo_file_id": None,
                "start_cents": start,
                "floor_cents": floor,
                "variant": "linear",
                "rate_bp": 100,
                "rounding": "half_up",
                "start_dayno": started,
                "floor_dayno": at_floor,
                "ends_dayno": at_floor + 14,
                "status": "listed",
                "search_text": " ".join(title_words),
                "listed_by": None,
                "created_at": now,
                "closed_at": None,
            }
        )
        for word in title_words:
            hits_by_word.setdefault(word, []).append(n)
    await insert_all(db, AuctionItem, items)
    # the step ran yesterday: tonight's alerts are the limits crossed since then
    await insert_all(db, AuctionDayRun, [{"dayno": today - 1, "ran_at": now - timedelta(days=1)}])
    subs, used = [], set()
    for n in range(1, args.subscriptions + 1):
        kind = rng.random()
        keyword = rng.choice(vocab) if kind < 0.95 else ""
        category = rng.choice(CATEGORIES) if kind >= 0.80 else ""
        top = 300 if keyword else 20
        subs.append(
            {
                "id": n,
                "citizen_id": rng.randint(1, args.people),
                "category": category,
                "keyword": keyword,
                "max_cents": rng.randint(100, top * 100),
                "active": True,
                "created_at": now,
            }
        )
        if keyword:
            used.add(keyword)
    await insert_all(db, AuctionSubscription, subs)
    hits = [{"keyword": w, "item_id": i} for w in sorted(used) for i in hits_by_word.get(w, [])]
    await insert_all(db, AuctionKeywordHit, hits)
    async with db.uow() as uow:  # as yesterday's step left them: due when a limit is crossed
        await due.advance(uow, today - 1, price_sql(today - 1, await price_rules(uow)))
        await uow.commit()
    wishes = []
    for n in range(1, args.wishes + 1):
        item = items[rng.randrange(len(items))]
        yesterday = price_on(
            item["start_cents"], item["floor_cents"], rule, today - 1 - item["start_dayno"]
        )
        low, high = item["floor_cents"], yesterday - 1
        if high <= low:
            continue
        wishes.append(
            {
                "id": n,
                "item_id": item["id"],
                "citizen_id": rng.randint(1, args.people),
                "amount_cents": (amount := rng.randint(low, high)),
                "due_dayno": item["start_dayno"]
                + reach_day(item["start_cents"], item["floor_cents"], rule, amount),
                "status": "active",
                "created_at": now - timedelta(minutes=rng.randint(1, 10_000)),
            }
        )
    await insert_all(db, AuctionWish, wishes)
    return {
        "items": len(items),
        "subscriptions": len(subs),
        "keyword_hits": len(hits),
        "wishes": len(wishes),
        "people": len(citizens),
    }


async def naive_step(db: Database, city: Any, now: datetime, sample: int) -> float:
    """The per-item loop the set-based step replaces; rolled back afterwards."""
    today = auction.today(city, now)
    started = time.perf_counter()
    async with db.uow() as uow:
        s = uow.session
        ids = (
            (
                await s.execute(
                    select(AuctionItem.id)
                    .where(AuctionItem.status == "listed")
                    .order_by(AuctionItem.id)
                    .limit(sample)
                )
            )
            .scalars()
            .all()
        )
        for item_id in ids:
            item = await s.get(AuctionItem, item_id)
            assert item is not None
            old = auction.price_for_day(item, today - 1)
            new = auction.price_for_day(item, today)  # prices are no longer stored
            best = (
                (
                    await s.execute(
                        select(AuctionWish)
                        .where(
                            AuctionWish.item_id == item_id,
                            AuctionWish.status == "active",
                            AuctionWish.amount_cents >= new,
                        )
                        .order_by(AuctionWish.amount_cents.desc(), AuctionWish.created_at)
                        .limit(1)
                    )
                )
                .scalars()
                .first()
            )
            if best is not None:
                await s.execute(
                    update(AuctionWish).where(AuctionWish.id == best.id).values(status="won")
                )
                await s.execute(
                    update(AuctionItem).where(AuctionItem.id == item_id).values(status="reserved")
                )
                continue
            subs = (
                (
                    await s.execute(
                        select(AuctionSubscription).where(
                            AuctionSubscription.active == True,  # noqa: E712
                            AuctionSubscription.max_cents >= new,
                            AuctionSubscription.max_cents < old,
                        )
                    )
                )
                .scalars()
                .all()
            )
            for sub in subs:
                if sub.category and sub.category != item.category:
                    continue
                if sub.keyword and sub.keyword not in item.search_text:
                    continue
                s.add(
                    AuctionAlert(
                        subscription_id=sub.id,
                        item_id=item_id,
                        citizen_id=sub.citizen_id,
                        run="naive",
                        created_at=now,
                    )
                )
                s.add(
                    Notification(
                        citizen_id=sub.citizen_id,
                        key="Deal alert",
                        params={},
                        next_attempt_at=now,
                        created_at=now,
                        dedupe_key=f"naive:{sub.id}:{item_id}",
                    )
                )
            if item.ends_dayno <= today:
                await s.execute(
                    update(AuctionItem).where(AuctionItem.id == item_id).values(status="ended")
                )
            await s.flush()
        await uow.rollback()
    return time.perf_counter() - started


class StatementTimes:
    """Wall time of each statement while the block runs (--statements N prints the slowest)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine.sync_engine
        self.times: list[tuple[float, str]] = []

    def _before(self, conn: Any, *args: Any) -> None:
        conn.info["statement_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        began = conn.info.pop("statement_started", time.perf_counter())
        self.times.append((time.perf_counter() - began, " ".join(statement.split())))

    def __enter__(self) -> StatementTimes:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def print(self, count: int) -> None:
        print(f"{'':<10} {len(self.times)} statements, {sum(t for t, _ in self.times):.3f} s:")
        for seconds, statement in sorted(self.times, reverse=True)[:count]:
            print(f"{'':<10} {seconds * 1000:8.1f} ms  {statement[:110]}")


async def measure(name: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    city = load_city()
    now = datetime(2026, 11, 25, 23, 5, tzinfo=UTC)  # 00:05 in Ahaus
    today = auction.today(city, now)
    await db.create_all()
    began = time.perf_counter()
    sizes = await fill(db, args, now, today)
    # a live database is vacuumed and has statistics (autovacuum); a fresh one not
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in (
            "auction_item",
            "auction_subscription",
            "auction_keyword_hit",
            "auction_wish",
        ):
            vacuum = "VACUUM " if conn.dialect.name == "postgresql" else ""
            await conn.execute(text(f"{vacuum}ANALYZE {table}"))
    setup = time.perf_counter() - began
    sample = min(args.naive_sample, sizes["items"])
    with Meter(db) as naive_meter:
        naive = await naive_step(db, city, now, sample)
    naive_all = naive * sizes["items"] / sample
    with Meter(db) as meter, StatementTimes(db) as times:
        async with db.uow() as uow:
            report = await daily_step(uow, city, now)
            await uow.commit()
    step = meter.wall
    if args.statements:
        times.print(args.statements)
    async with db.uow() as uow:
        notes = (
            await uow.session.execute(select(func.count()).select_from(Notification))
        ).scalar_one()
    result = {
        "database": name,
        **sizes,
        "setup_seconds": round(setup, 2),
        "daily_step_seconds": round(step, 3),
        "repriced": report.repriced,
        "wish_awards": report.awarded,
        "alerts": report.alerts,
        "ended": report.ended,
        "notifications": notes,
        "naive_sample_items": sample,
        "naive_sample_seconds": round(naive, 3),
        "naive_extrapolated_seconds": round(naive_all, 1),
        "speedup": round(naive_all / step, 1),
        "step": meter.figures(1, "step"),
        "naive_sample": naive_meter.figures(sample, "item"),
    }
    print(f"{name:<10} step {step:7.2f} s  ({report})")
    print(
        f"{'':<10} naive loop {naive:6.2f} s for {sample} items -> ~{naive_all:7.1f} s for "
        f"{sizes['items']}: the set-based step is {naive_all / step:5.1f}x faster"
    )
    return result


async def main() -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--wishes", type=int, default=50_000)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=36_000)
    parser.add_argument("--vocabulary", type=int, default=5_000)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--statements", type=int, default=0, help="print the N slowest statements of the step"
    )
    args = parser.parse_args()
    results = []
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
                try:
                    results.append(await measure(name, db, args))
                finally:
                    await db.dispose()
        elif name == "postgresql":
            admin = Database(POSTGRES)
            try:
                async with admin.engine.begin() as conn:
                    await conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
            except OSError as error:
                print(f"postgresql skipped: {error}")
                continue
            finally:
                await admin.dispose()
            db = Database(POSTGRES, connect_args={"server_settings": {"search_path": SCHEMA}})
            try:
                results.append(await measure(name, db, args))
            finally:
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
                await db.dispose()
    return results


def save(results: list[dict[str, Any]]) -> None:
    out = Path(__file__).resolve().parent / "results" / "auction_day.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"benchmark": "auction_day", "results": results}, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    save(asyncio.run(main()))
