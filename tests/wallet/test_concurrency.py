"""Two merchants at the same moment: the balance never goes below zero, a repeated button press
books once, and the ledger always sums to the balance."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict
from services.wallet import redemption, vouchers
from storage.db import Database
from storage.models.vouchers import Voucher, VoucherEntry
from tests.wallet.conftest import resident


async def a_voucher(db: Database, city: City, clock: FrozenClock, cents: int) -> int:
    holder = await resident(db, clock, "anna")
    async with db.uow() as uow:
        voucher = await vouchers.issue(uow, city, holder, cents, now=clock.now())
        await uow.commit()
        assert voucher.id is not None
        return voucher.id


async def redeem_once(
    db: Database, city: City, clock: FrozenClock, voucher_id: int, key: str, merchant: str
) -> bool:
    async with db.uow() as uow:
        try:
            await redemption.redeem(
                uow,
                city,
                merchant_key=merchant,
                actor_citizen_id=None,
                voucher_id=voucher_id,
                amount_cents=100,
                idempotency_key=key,
                now=clock.now(),
            )
        except Conflict:
            return False
        await uow.commit()
        return True


async def test_hundred_redemptions_at_once_against_fifty_euros(
    db: Database, city: City, clock: FrozenClock
) -> None:
    voucher_id = await a_voucher(db, city, clock, 5000)
    merchants = ["cafe-am-schloss", "buchhandlung-schmitz"]
    results = await asyncio.gather(
        *(redeem_once(db, city, clock, voucher_id, f"k{i}", merchants[i % 2]) for i in range(100))
    )
    assert results.count(True) == 50
    async with db.uow() as uow:
        voucher = await uow.session.get(Voucher, voucher_id)
        assert voucher is not None and voucher.balance_cents == 0
        assert await vouchers.ledger_balance(uow, voucher_id) == 0
        redeemed = (
            await uow.session.execute(
                select(func.count()).select_from(VoucherEntry).where(VoucherEntry.kind == "redeem")
            )
        ).scalar_one()
        assert redeemed == 50


async def test_the_same_confirmation_pressed_five_times_at_once_books_once(
    db: Database, city: City, clock: FrozenClock
) -> None:
    voucher_id = await a_voucher(db, city, clock, 5000)
    results = await asyncio.gather(
        *(redeem_once(db, city, clock, voucher_id, "same-key", "cafe-am-schloss") for _ in range(5))
    )
    assert all(results)  # every press gets the receipt of the one booking
    async with db.uow() as uow:
        voucher = await uow.session.get(Voucher, voucher_id)
        assert voucher is not None and voucher.balance_cents == 4900
        assert await vouchers.ledger_balance(uow, voucher_id) == 4900
