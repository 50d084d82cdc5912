"""A resident who bought, wished and subscribed can still be deleted; the sale stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.auction import alerts as auction_alerts
from services.auction import buying as auction_buy
from services.auction import reservations
from services.auction import wishes as auction_wishes
from services.city import City
from services.clock import FrozenClock
from services.identity import privacy
from services.payments import lifecycle as payments
from storage.db import Database
from storage.models.auction import AuctionReservation, AuctionWish
from tests.auction.support import FakeProvider, list_item, person
from tests.support.env import env_with


async def test_delete_a_buyer(db: Database, city: City, clock: FrozenClock) -> None:
    now = clock.now()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    anna = await person(db, "anna", now)
    bike = await list_item(db, city, staff, now)
    ring = await list_item(db, city, staff, now, title="Ring", category="schmuck")
    async with db.uow() as uow:
        await auction_wishes.place_wish(uow, city, anna, bike, 9_950, now)
        await auction_wishes.place_wish(uow, city, anna, ring, 9_000, now)
        await auction_alerts.subscribe(
            uow, city, anna, category="", keyword="ring", max_cents=20_000, now=now
        )
        await uow.commit()
    async with db.uow() as uow:
        # the price is a function of the day: the next day's 99 € reach the wish at once
        assert await auction_wishes.award_wishes(uow, city, now + timedelta(days=1)) == 1
        from services.auction.daily import daily_step

        await daily_step(uow, city, now + timedelta(days=1))
        held = await reservations.holding_reservation(uow, bike)
        assert held is not None and held.wish_id is not None
        payment = await auction_buy.start_payment(
            uow, env_with(FakeProvider()), anna, held.id or 0, now
        )
        await payments.settle(uow, env_with(), payment.id or 0, "paid", now + timedelta(days=1))
        await uow.commit()
    async with db.uow() as uow:
        exported = await privacy.export_citizen(uow, anna)
        assert {"auction_wish", "auction_reservation", "auction_subscription"} <= set(exported)
        await privacy.erase_citizen(uow, anna, now)
        await uow.commit()
    async with db.uow() as uow:
        wishes = await uow.session.execute(select(func.count()).select_from(AuctionWish))
        assert wishes.scalar_one() == 0
        sale = (await uow.session.execute(select(AuctionReservation))).scalars().one()
        assert sale.status == "paid" and sale.wish_id is None
