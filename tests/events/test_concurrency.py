"""Many residents book the last places at the same moment: the quota is never oversold."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.clock import FrozenClock
from services.errors import Conflict
from services.events import booking as svc
from services.events import tickets
from services.identity import accounts as identity
from storage.db import Database
from storage.models.events import Ticket
from storage.models.payments import Payment
from tests.conftest import BERLIN
from tests.events.conftest import FakeProvider, load_event, make_event
from tests.support.env import env_with


async def _residents(db: Database, clock: FrozenClock, count: int) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for number in range(count):
            citizen, _ = await identity.contact(
                uow,
                channel="console",
                external_id=f"r{number}",
                chat_id=f"r{number}",
                now=clock.now(),
            )
            assert citizen.id is not None
            ids.append(citizen.id)
        await uow.commit()
    return ids


async def _try_book(
    db: Database,
    provider: FakeProvider | None,
    who: int,
    event_id: int,
    quantity: int,
    clock: FrozenClock,
) -> int:
    try:
        async with db.uow() as uow:
            result = await svc.book(
                uow,
                env_with(provider),
                citizen_id=who,
                event_id=event_id,
                quantity=quantity,
                rules=svc.EventRules(),
                now=clock.now(),
            )
            await uow.commit()
            return result.booking.quantity
    except Conflict:
        return 0


async def test_parallel_bookings_of_the_last_places_never_oversell(
    db: Database, clock: FrozenClock
) -> None:
    organiser, *residents = await _residents(db, clock, 31)
    event_id = await make_event(db, organiser, clock.now(), capacity=25)
    booked = await asyncio.gather(
        *(_try_book(db, None, who, event_id, 1 + i % 3, clock) for i, who in enumerate(residents))
    )
    event = await load_event(db, event_id)
    async with db.uow() as uow:
        tickets = (await uow.session.execute(select(func.count()).select_from(Ticket))).scalar_one()
    assert sum(booked) == event.taken == tickets
    assert event.taken <= 25
    assert event.taken >= 23  # only a request bigger than what is left can fail near the end


async def test_parallel_paid_holds_never_oversell(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    organiser, *residents = await _residents(db, clock, 21)
    event_id = await make_event(db, organiser, clock.now(), capacity=10, price=700)
    booked = await asyncio.gather(
        *(_try_book(db, provider, who, event_id, 1, clock) for who in residents)
    )
    event = await load_event(db, event_id)
    assert sum(booked) == event.taken == 10
    async with db.uow() as uow:  # a loser of the race keeps no payment
        kept = (await uow.session.execute(select(func.count()).select_from(Payment))).scalar_one()
    assert kept == 10
    assert provider.checkouts == []  # the provider is asked only when a pay link is opened


async def test_two_door_scanners_admit_a_ticket_only_once(db: Database, clock: FrozenClock) -> None:
    organiser, holder = await _residents(db, clock, 2)
    event_id = await make_event(db, organiser, clock.now())
    await _try_book(db, None, holder, event_id, 1, clock)
    async with db.uow() as uow:
        ticket_id = (await uow.session.execute(select(Ticket.id))).scalar_one()

    async def scan() -> str:
        try:
            async with db.uow() as uow:
                await tickets.check_in(uow, organiser, ticket_id, clock.now(), tz=BERLIN)
                await uow.commit()
                return "in"
        except Conflict as refused:
            return refused.message

    results = await asyncio.gather(*(scan() for _ in range(5)))
    assert results.count("in") == 1
    assert all(r.startswith("Already checked in") for r in results if r != "in")
