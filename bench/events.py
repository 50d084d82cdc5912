"""Booking the last places: 200 residents book the last 100 places of one event at the same
moment (one ticket each, each booking its own transaction), on SQLite and PostgreSQL.
Reports bookings per second, p50/p95 latency per booking attempt and the oversold count, which
must be 0. Paid bookings (30-minute holds with a payment started) are measured too.

    python bench/events.py [--residents 200] [--places 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import fresh_database, postgres_available, run, save, summary_ms
from sqlalchemy import func, select

import flows  # noqa: F401
from services.errors import Conflict
from services.events import booking as svc
from services.identity import accounts as identity
from services.payments.provider import Checkout
from storage.db import Database
from storage.models.events import Event, Ticket
from storage.models.payments import Payment
from tests.support.env import env_with

NOW = datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Europe/Berlin"))
RULES = svc.EventRules()


class BenchProvider:
    name = "bench"
    demo = True

    async def create_checkout(self, payment: Payment) -> Checkout:
        return Checkout(f"http://127.0.0.1/pay/{payment.id}", f"bench_{payment.id}")

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        return "refund"


async def residents(db: Database, count: int) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for number in range(count):
            citizen, _ = await identity.contact(
                uow, channel="bench", external_id=f"r{number}", chat_id=f"r{number}", now=NOW
            )
            assert citizen.id is not None
            ids.append(citizen.id)
        await uow.commit()
    return ids


async def event_with_last_places(db: Database, organiser: int, places: int, price: int) -> int:
    """An event of 10x the places, all but the last `places` already taken."""
    start = NOW + timedelta(days=7)
    async with db.uow() as uow:
        event = await svc.create_event(
            uow,
            organiser,
            svc.EventDraft(
                title="Weihnachtsmarkt-Konzert",
                place="Schlosspark Ahaus",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                booking_deadline=start,
                price_cents=price,
                capacity=places * 10,
            ),
            svc.EventRules(max_capacity=100_000),
            NOW,
        )
        event.taken = places * 9
        await uow.commit()
        assert event.id is not None
        return event.id


async def one_round(
    db: Database, people: list[int], event_id: int, provider: BenchProvider | None
) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    gate = asyncio.Event()

    async def attempt(who: int) -> int:
        await gate.wait()
        started = time.perf_counter()
        try:
            async with db.uow() as uow:
                await svc.book(
                    uow,
                    env_with(provider),
                    citizen_id=who,
                    event_id=event_id,
                    quantity=1,
                    rules=RULES,
                    now=NOW,
                )
                await uow.commit()
                return 1
        except Conflict:
            return 0
        finally:
            latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(attempt(who)) for who in people]
    await asyncio.sleep(0)
    started = time.perf_counter()
    gate.set()  # everyone at the same moment
    booked = sum(await asyncio.gather(*tasks))
    return booked, latencies, time.perf_counter() - started


async def measure(kind: str, count: int, places: int, rounds: int, paid: bool) -> dict[str, Any]:
    db, cleanup = await fresh_database(kind, Path(tempfile.mkdtemp()))
    organiser, *people = await residents(db, count + 1)
    provider = BenchProvider() if paid else None
    all_latencies: list[float] = []
    booked_total = oversold = 0
    seconds = 0.0
    for _ in range(rounds):
        event_id = await event_with_last_places(db, organiser, places, 900 if paid else 0)
        booked, latencies, elapsed = await one_round(db, people, event_id, provider)
        async with db.uow() as uow:
            event = await uow.session.get(Event, event_id)
            assert event is not None
            tickets = await uow.session.execute(
                select(func.count()).select_from(Ticket).where(Ticket.event_id == event_id)
            )
            sold = event.taken - places * 9
            oversold += max(0, event.taken - event.capacity) + max(0, booked - places)
            if not paid:
                oversold += max(0, tickets.scalar_one() - places)
        assert sold == booked, f"counter says {sold}, bookings say {booked}"
        booked_total += booked
        all_latencies += latencies
        seconds += elapsed
    await cleanup()
    return {
        "rounds": rounds,
        "attempts": count * rounds,
        "booked": booked_total,
        "refused": count * rounds - booked_total,
        "oversold": oversold,
        "seconds": round(seconds, 3),
        "bookings_per_second": round(booked_total / seconds, 1),
        "attempts_per_second": round(count * rounds / seconds, 1),
        **summary_ms(all_latencies),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--places", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, Any] = {"residents": args.residents, "last_places": args.places}
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    for kind in kinds:
        for paid in (False, True):
            label = f"{kind}_{'paid_hold' if paid else 'free'}"
            print(f"measuring {label} ...", flush=True)
            results[label] = await measure(kind, args.residents, args.places, args.rounds, paid)
    if "postgresql" not in kinds:
        results["postgresql"] = "not reachable: skipped"
    save("events", results)


if __name__ == "__main__":
    run(main)
