"""Twelve residents book the ten bike boxes of the same day at the same moment, each in its own
unit of work: exactly ten get a box, each box once, two are told it is fully booked — on SQLite
and on PostgreSQL, where the bookings really run in parallel."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from services.errors import Conflict
from services.identity import accounts as identity
from services.keys import booking as svc
from services.trust import tokens
from storage.db import Database
from storage.models.keys import KeyBooking
from tests.keys.conftest import BOXES, slot_start
from tests.support.chat import Transcript


async def test_parallel_bookings_never_share_a_box(chat: Transcript, db: Database) -> None:
    people: list[int] = []
    async with db.uow() as uow:
        for n in range(12):
            citizen, _account = await identity.contact(
                uow, channel="console", external_id=f"p{n}", chat_id=f"p{n}", now=chat.clock.now()
            )
            assert citizen.id is not None
            people.append(citizen.id)
        await tokens.rotate(uow, chat.clock.now())  # the signing key exists before the rush
        await uow.commit()
    starts_at = slot_start(chat.env, BOXES)

    async def attempt(citizen_id: int) -> str:
        try:
            async with db.uow() as uow:
                result = await svc.book(
                    uow,
                    chat.env,
                    citizen_id=citizen_id,
                    facility_key=BOXES,
                    starts_at=starts_at,
                    now=chat.clock.now(),
                )
                await uow.commit()
                return result.booking.lock_id
        except Conflict as error:
            return error.message

    outcomes = await asyncio.gather(*(attempt(c) for c in people))
    boxes = [o for o in outcomes if o.startswith(BOXES)]
    assert len(boxes) == 10 and len(set(boxes)) == 10
    assert outcomes.count("Sorry, this slot is fully booked. Please choose another one.") == 2
    async with db.uow() as uow:
        rows = list((await uow.session.execute(select(KeyBooking))).scalars())
        assert len(rows) == 10 and all(r.token_id for r in rows)
