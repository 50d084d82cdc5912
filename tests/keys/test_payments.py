"""Paid slots (the community room): held while being paid, so nobody else gets the room; a hold
not paid in time gives the slot back; a payment that comes after someone else took the slot is
refunded in full; one that comes late while the slot is still free confirms the booking."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.errors import Conflict
from services.keys.records import CONFIRMED, HELD, LAPSED
from services.payments import lifecycle as payments
from storage.models.payments import PAID
from tests.events.conftest import FakeProvider
from tests.keys.conftest import ROOM, book, fresh
from tests.support.chat import Transcript


async def test_a_held_room_is_released_when_not_paid(
    pay_chat: Transcript, provider: FakeProvider, people: dict[str, int]
) -> None:
    chat = pay_chat
    held = await book(chat.db, chat.env, people["anna"], ROOM, day_offset=1, number=1)
    assert held.status == HELD and held.payment_id and held.token is None
    with pytest.raises(Conflict, match="fully booked"):
        await book(chat.db, chat.env, people["ben"], ROOM, day_offset=1, number=1)

    chat.clock.advance(timedelta(minutes=31))
    taken = await book(chat.db, chat.env, people["ben"], ROOM, day_offset=1, number=1)
    assert taken.status == HELD and (await fresh(chat.db, held.id or 0)).status == LAPSED

    async with chat.db.uow() as uow:  # anna's money arrives now: the room is gone
        assert await payments.settle(uow, chat.env, held.payment_id, PAID, chat.clock.now())
        await uow.commit()
    assert (await fresh(chat.db, held.id or 0)).status == LAPSED
    note = await chat.notifications("anna")
    assert "Sie bekommen das Geld zurück (10,00\xa0€)" in note
    assert provider.refunds == [(held.payment_id, 1000)]


async def test_a_late_payment_confirms_while_the_slot_is_free(
    pay_chat: Transcript, people: dict[str, int]
) -> None:
    chat = pay_chat
    held = await book(chat.db, chat.env, people["anna"], ROOM, day_offset=2, number=3)
    chat.clock.advance(timedelta(minutes=45))
    async with chat.db.uow() as uow:
        await payments.expire_due(uow, chat.env, chat.clock.now())
        await uow.commit()
    assert (await fresh(chat.db, held.id or 0)).status == LAPSED
    async with chat.db.uow() as uow:
        assert await payments.settle(uow, chat.env, held.payment_id, PAID, chat.clock.now())
        await uow.commit()
    confirmed = await fresh(chat.db, held.id or 0)
    assert confirmed.status == CONFIRMED and confirmed.token
    assert "Zahlung eingegangen" in await chat.notifications("anna")
