"""Voucher benchmark: redemptions per second with 20 merchants at once (SQLite and PostgreSQL),
listing the wallet of a resident with 50 entries, and the settlement of a month with 36,000
redemptions.

    .venv/bin/python bench/vouchers.py [--redemptions 2000] [--merchants 20]
        [--settlement-rows 36000] [--postgres URL | --no-postgres]

Prints the figures and writes bench/results/vouchers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Meter  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

import flows  # noqa: E402, F401  (registers every flow)
from flows.types import Inbound  # noqa: E402
from handlers.dispatch import Dispatcher  # noqa: E402
from services.city import City, load_city  # noqa: E402
from services.clock import FrozenClock  # noqa: E402
from services.env import Env
from services.errors import Conflict  # noqa: E402
from services.identity import accounts as identity
from services.wallet import redemption, settlement_files, vouchers
from services.wallet import sources as wallet
from storage.db import Database  # noqa: E402
from storage.models.vouchers import REDEEM, VoucherEntry  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
DEFAULT_PG = os.environ.get(
    "STADTLOTSE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def resident(db: Database, user: str) -> int:
    async with db.uow() as uow:
        citizen, _account = await identity.contact(
            uow, channel="console", external_id=user, chat_id=user, now=NOW
        )
        await uow.commit()
        assert citizen.id is not None
        return citizen.id


async def issue_many(
    db: Database, city: City, citizen_id: int, count: int, cents: int
) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for _ in range(count):
            voucher = await vouchers.issue(uow, city, citizen_id, cents, now=NOW)
            assert voucher.id is not None
            ids.append(voucher.id)
        await uow.commit()
    return ids


async def bench_redemptions(db: Database, city: City, total: int, merchants: int) -> dict[str, Any]:
    holder = await resident(db, "holder")
    voucher_ids = await issue_many(db, city, holder, 200, 25000)
    keys = [m.key for m in city.merchants] or ["m"]
    booked = refused = 0
    latencies: list[float] = []

    async def merchant(index: int) -> None:
        nonlocal booked, refused
        rng = random.Random(index)
        for n in range(total // merchants):
            started = time.perf_counter()
            async with db.uow() as uow:
                try:
                    await redemption.redeem(
                        uow,
                        city,
                        merchant_key=keys[index % len(keys)],
                        actor_citizen_id=None,
                        voucher_id=rng.choice(voucher_ids),
                        amount_cents=rng.randint(100, 2000),
                        idempotency_key=f"bench-{index}-{n}",
                        now=NOW,
                    )
                    await uow.commit()
                    booked += 1
                except Conflict:
                    refused += 1
            latencies.append(time.perf_counter() - started)

    with Meter(db) as meter:
        await asyncio.gather(*(merchant(i) for i in range(merchants)))
    elapsed = meter.wall
    async with db.uow() as uow:
        consistent = True
        for vid in voucher_ids:
            cached = (
                await uow.session.execute(
                    text("SELECT balance_cents FROM voucher WHERE id = :id"), {"id": vid}
                )
            ).scalar_one()
            consistent = consistent and cached == await vouchers.ledger_balance(uow, vid)
    latencies.sort()
    return {
        "merchants": merchants,
        "redemptions": booked,
        "refused": refused,
        "seconds": round(elapsed, 3),
        "per_second": round((booked + refused) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
        "ledger_consistent": consistent,
        **{
            k: v
            for k, v in meter.figures(booked + refused, "redemption").items()
            if k not in ("seconds", "per_second")
        },
    }


async def bench_wallet(db: Database, city: City, entries: int) -> dict[str, Any]:
    owner = await resident(db, "walletowner")
    await issue_many(db, city, owner, entries, 2500)
    service_times = []
    for _ in range(20):
        async with db.uow() as uow:
            started = time.perf_counter()
            found = await wallet.entries(uow, city, owner, NOW)
            service_times.append(time.perf_counter() - started)
        assert len(found) >= entries
    dispatcher = Dispatcher(db, Env(city, FrozenClock(NOW)))
    chat_times = []
    for n in range(20):
        inbound = Inbound(
            channel="console",
            user_id="walletowner",
            chat_id="walletowner",
            kind="command",
            command="wallet",
            key=f"bench-wallet-{uuid.uuid4().hex}-{n}",
        )
        started = time.perf_counter()
        replies = await dispatcher.handle(inbound)
        chat_times.append(time.perf_counter() - started)
        assert replies and replies[0].buttons
    return {
        "entries": entries,
        "service_ms_median": round(statistics.median(service_times) * 1000, 2),
        "wallet_command_ms_median": round(statistics.median(chat_times) * 1000, 2),
        "wallet_command_ms_max": round(max(chat_times) * 1000, 2),
    }


async def bench_settlement(db: Database, city: City, rows: int, folder: Path) -> dict[str, Any]:
    holder = await resident(db, "settle")
    voucher_ids = await issue_many(db, city, holder, 100, 25000)
    keys = [f"merchant-{i:02d}" for i in range(20)]
    rng = random.Random(7)
    start = datetime(2026, 10, 1, tzinfo=BERLIN)
    batch = []
    for n in range(rows):
        batch.append(
            {
                "voucher_id": rng.choice(voucher_ids),
                "kind": REDEEM,
                "amount_cents": -rng.randint(100, 5000),
                "at": start + timedelta(seconds=rng.randint(0, 31 * 86400 - 1)),
                "merchant_key": keys[n % len(keys)],
                "idempotency_key": f"settle-{n}",
            }
        )
    async with db.uow() as uow:
        for chunk in range(0, len(batch), 5000):
            await uow.session.execute(insert(VoucherEntry), batch[chunk : chunk + 5000])
        await uow.commit()
    started = time.perf_counter()
    async with db.uow() as uow:
        statements = await redemption.settlement(uow, city, "2026-10")
    computed = time.perf_counter() - started
    for statement in statements:
        settlement_files.write_csv(statement, folder, city)
    written = time.perf_counter() - started
    return {
        "redemptions": sum(len(s.rows) for s in statements),
        "merchants": len(statements),
        "compute_seconds": round(computed, 3),
        "compute_and_csv_seconds": round(written, 3),
    }


async def run_backend(name: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    city = load_city()
    await db.create_all()
    result: dict[str, Any] = {}
    result["redemptions"] = await bench_redemptions(db, city, args.redemptions, args.merchants)
    print(f"[{name}] redemptions: {result['redemptions']}")
    result["wallet"] = await bench_wallet(db, city, args.wallet_entries)
    print(f"[{name}] wallet: {result['wallet']}")
    with tempfile.TemporaryDirectory() as folder:
        result["settlement"] = await bench_settlement(db, city, args.settlement_rows, Path(folder))
    print(f"[{name}] settlement: {result['settlement']}")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redemptions", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--wallet-entries", type=int, default=50)
    parser.add_argument("--settlement-rows", type=int, default=36000)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--out", default="vouchers.json", help="file name in bench/results")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "vouchers",
        "cpus": os.cpu_count(),
        "parameters": vars(args) | {"postgres": "..."},
    }

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            sqlite = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
            try:
                results["sqlite"] = await run_backend("sqlite", sqlite, args)
            finally:
                await sqlite.dispose()

    if not args.no_postgres:
        schema = f"bench_vouchers_{os.getpid()}"
        admin = Database(args.postgres)
        try:
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as error:
            print(f"PostgreSQL not reachable, skipped: {error}")
            await admin.dispose()
        else:
            pg = Database(
                args.postgres,
                connect_args={"server_settings": {"search_path": schema}},
                pool_size=args.merchants,
                max_overflow=5,
            )
            try:
                results["postgresql"] = await run_backend("postgresql", pg, args)
            finally:
                await pg.dispose()
                async with admin.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()

    out = ROOT / "bench" / "results" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
