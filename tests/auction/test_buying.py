"""Buying under contention, payment outcomes, pickup at the desk."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.auction import buying as auction_buy
from services.auction import pickup
from services.auction import wishes as auction_wishes
from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict, DomainError, InvalidInput
from services.payments import lifecycle as payments
from storage.db import Database
from storage.models.auction import AuctionReservation
from storage.models.outbox import Notification
from tests.auction.support import FakeProvider, item, list_item, person
from tests.support.env import env_with


async def test_fifty_buyers_at_the_same_moment_one_wins(
    db: Database, city: City, clock: FrozenClock
) -> None:
    now = clock.now()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    bike = await list_item(db, city, staff, now)
    buyers = [await person(db, f"buyer{n}", now) for n in range(50)]
    start = asyncio.Event()

    async def press(citizen_id: int) -> str:
        await start.wait()
        try:
            async with db.uow() as uow:
                await auction_buy.buy(uow, city, citizen_id, bike, now)
                await uow.commit()
                return "won"
        except Conflict as refused:
            return refused.message

    tasks = [asyncio.create_task(press(b)) for b in buyers]
    await asyncio.sleep(0)
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("won") == 1
    assert all(o.startswith("Someone else is paying") for o in outcomes if o != "won")
    async with db.uow() as uow:
        count = await uow.session.execute(select(func.count()).select_from(AuctionReservation))
        assert count.scalar_one() == 1
    assert (await item(db, bike)).status == "reserved"


async def test_payment_outcomes(db: Database, city: City, clock: FrozenClock) -> None:
    now = clock.now()
    provider = FakeProvider()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    anna, ben = await person(db, "anna", now), await person(db, "ben", now)
    bike = await list_item(db, city, staff, now)
    async with db.uow() as uow:
        await auction_wishes.place_wish(uow, city, ben, bike, 8_000, now)
        reservation = await auction_buy.buy(uow, city, anna, bike, now)
        again = await auction_buy.buy(uow, city, anna, bike, now)  # pressed twice
        assert again.id == reservation.id
        payment = await auction_buy.start_payment(
            uow, env_with(provider), anna, reservation.id or 0, now
        )
        same = await auction_buy.start_payment(
            uow, env_with(provider), anna, reservation.id or 0, now
        )
        assert same.id == payment.id and payment.amount_cents == 10_000
        assert payment.expires_at == reservation.expires_at
        await uow.commit()
    async with db.uow() as uow:  # the provider says: failed -> lapses now; ben's 80 € waits
        assert await payments.settle(uow, env_with(), payment.id or 0, "failed", now)
        await uow.commit()
    assert (await item(db, bike)).status == "listed"
    async with db.uow() as uow:  # a late "paid" for the lapsed reservation changes nothing
        assert await payments.settle(
            uow, env_with(), payment.id or 0, "paid", now + timedelta(minutes=5)
        )
        await uow.commit()
    assert (await item(db, bike)).status == "listed"
    async with db.uow() as uow:
        keys = (
            (await uow.session.execute(select(Notification.key).order_by(Notification.id)))
            .scalars()
            .all()
        )
        assert [k[:30] for k in keys] == [
            "Your reservation of {title} ha",
            "Your payment of {amount} for {",
            "Late payment {payment} ({amoun",
        ]
        with pytest.raises(Conflict):
            await auction_buy.start_payment(uow, env_with(provider), anna, reservation.id or 0, now)
    # the scheduler's job pays the late money back, once
    async with db.uow() as uow:
        assert await auction_buy.refund_late_payments(uow, env_with(provider), now) == 1
        await uow.commit()
    async with db.uow() as uow:
        assert await auction_buy.refund_late_payments(uow, env_with(provider), now) == 0
        refunded = await uow.session.get(payments.Payment, payment.id)
        assert refunded is not None and refunded.refunded_cents == 10_000
    assert provider.refunds == [(payment.id, 10_000)]


async def test_pickup_code_at_the_desk(db: Database, city: City, clock: FrozenClock) -> None:
    now = clock.now()
    provider = FakeProvider()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    anna = await person(db, "anna", now)
    bike = await list_item(db, city, staff, now)
    async with db.uow() as uow:
        reservation = await auction_buy.buy(uow, city, anna, bike, now)
        payment = await auction_buy.start_payment(
            uow, env_with(provider), anna, reservation.id or 0, now
        )
        await payments.settle(uow, env_with(), payment.id or 0, "paid", now + timedelta(minutes=3))
        await uow.commit()
    async with db.uow() as uow:
        (entry,) = await pickup.pickup_entries(uow, city, anna, now)
        code = entry.code
        with pytest.raises(InvalidInput):
            await pickup.collect(uow, code[:-1] + ("0" if code[-1] != "0" else "1"), staff, now)
        sold, what = await pickup.collect(uow, code.lower(), staff, now)
        assert what.id == bike and sold.status == "collected"
        await uow.commit()
    ben = await person(db, "ben", now)
    async with db.uow() as uow:
        with pytest.raises(DomainError, match="already picked up"):
            await pickup.collect(uow, code, staff, now)
        (entry,) = await pickup.pickup_entries(uow, city, anna, now)
        assert entry.status == "used"
        with pytest.raises(Conflict, match="already been sold"):  # a stale alert's Buy button
            await auction_buy.buy(uow, city, ben, bike, now)
        with pytest.raises(Conflict, match="already been sold"):
            await auction_wishes.place_wish(uow, city, ben, bike, 5_000, now)
    assert (await item(db, bike)).status == "sold"
