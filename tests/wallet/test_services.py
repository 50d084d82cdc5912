"""Voucher rules and use cases that the transcripts do not reach directly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.payments.demo import DemoProvider
from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict, InvalidInput, LimitReached, NotAllowed
from services.payments import lifecycle as payments
from services.wallet import gifts, redemption, refunds, vouchers
from storage.db import Database
from storage.models.payments import Payment
from storage.models.vouchers import Voucher
from tests.support.env import env_with
from tests.wallet.conftest import PUBLIC_URL, resident


def test_validity_ends_with_the_third_year_after_purchase() -> None:
    assert vouchers.valid_until(date(2026, 1, 1), 3) == date(2029, 12, 31)
    assert vouchers.valid_until(date(2026, 12, 31), 3) == date(2029, 12, 31)


def test_custom_amounts(city: City) -> None:
    rules = vouchers.rules_of(city)
    assert vouchers.parse_custom_amount("12,50", rules) == 1250
    assert vouchers.parse_custom_amount("12.50 €", rules) == 1250
    assert vouchers.parse_custom_amount("250", rules) == 25000
    for bad in ["250,01", "4,99", "-10", "0", "1,005", "zehn", ""]:
        with pytest.raises(InvalidInput):
            vouchers.parse_custom_amount(bad, rules)


async def test_paid_after_expiry_keeps_what_was_paid_when_the_offer_was_released(
    db: Database, city: City, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    provider = DemoProvider(PUBLIC_URL)
    async with db.uow() as uow:
        purchase = await vouchers.buy(
            uow, env_with(provider, city=city), anna, now=clock.now(), offer_key="winteraktion"
        )
        await uow.commit()
    clock.advance(timedelta(minutes=31))
    async with db.uow() as uow:
        assert await payments.expire_due(uow, env_with(), clock.now()) == 1
        usage = await vouchers.offer_usage(uow, "winteraktion")
        assert usage is not None and usage.count == 0 and usage.subsidy_cents == 0
        await uow.commit()
    async with db.uow() as uow:  # the provider reports a late payment
        assert await payments.settle(uow, env_with(), purchase.payment.id or 0, "paid", clock.now())
        await uow.commit()
    async with db.uow() as uow:
        voucher = await uow.session.get(Voucher, purchase.voucher.id)
        assert voucher is not None
        assert (voucher.status, voucher.value_cents, voucher.balance_cents) == (
            "active",
            8500,
            8500,
        )
        assert await vouchers.ledger_balance(uow, voucher.id or 0) == 8500


async def test_offer_budget_runs_out(db: Database, city: City, clock: FrozenClock) -> None:
    offer = vouchers.rules_of(city).offers[0]
    small = city.model_copy(deep=True)
    small.__dict__.pop("_sections", None)
    small.__dict__["_sections"] = {
        "vouchers": vouchers.rules_of(city).model_copy(
            update={"offers": [offer.model_copy(update={"budget_cents": 3000})]}
        )
    }
    provider = DemoProvider(PUBLIC_URL)
    people = [await resident(db, clock, name) for name in ("a1", "a2", "a3")]
    async with db.uow() as uow:
        for person in people[:2]:
            await vouchers.buy(
                uow, env_with(provider, city=small), person, now=clock.now(), offer_key=offer.key
            )
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(LimitReached):
            await vouchers.buy(
                uow, env_with(provider, city=small), people[2], now=clock.now(), offer_key=offer.key
            )


async def test_gift_pending_blocks_redemption_and_undo_by_another_merchant(
    db: Database, city: City, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    async with db.uow() as uow:
        voucher = await vouchers.issue(uow, city, anna, 2000, now=clock.now())
        await gifts.create(uow, city, anna, voucher.id or 0, clock.now())
        with pytest.raises(Conflict):
            await redemption.lookup(uow, city, voucher.code, clock.now())
        await gifts.cancel(uow, anna, voucher.id or 0)
        entry = await redemption.redeem(
            uow,
            city,
            merchant_key="cafe-am-schloss",
            actor_citizen_id=None,
            voucher_id=voucher.id or 0,
            amount_cents=500,
            idempotency_key="x1",
            now=clock.now(),
        )
        with pytest.raises(NotAllowed):
            await redemption.undo(
                uow,
                city,
                merchant_key="buchhandlung-schmitz",
                actor_citizen_id=None,
                entry_id=entry.id or 0,
                now=clock.now(),
            )
        with pytest.raises(InvalidInput):
            await redemption.redeem(
                uow,
                city,
                merchant_key="cafe-am-schloss",
                actor_citizen_id=None,
                voucher_id=voucher.id or 0,
                amount_cents=0,
                idempotency_key="x2",
                now=clock.now(),
            )
        with pytest.raises(Conflict):
            await redemption.redeem(
                uow,
                city,
                merchant_key="cafe-am-schloss",
                actor_citizen_id=None,
                voucher_id=voucher.id or 0,
                amount_cents=1501,
                idempotency_key="x3",
                now=clock.now(),
            )


async def test_refund_goes_through_the_provider_and_marks_the_payment(
    db: Database, city: City, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    provider = DemoProvider(PUBLIC_URL)
    async with db.uow() as uow:
        purchase = await vouchers.buy(
            uow, env_with(provider, city=city), anna, now=clock.now(), value_cents=1000
        )
        await payments.settle(uow, env_with(), purchase.payment.id or 0, "paid", clock.now())
        await refunds.refund(
            uow, env_with(provider, city=city), anna, purchase.voucher.id or 0, clock.now()
        )
        await uow.commit()
    async with db.uow() as uow:
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        assert (payment.status, payment.refunded_cents) == ("refunded", 1000)
