"""Two merchants at the same moment: the balance never goes below zero, a repeated button press
books once, and the ledger always sums to the balance."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select

from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict
from services.wallet import redemption, vouchers
from storage.db import Database
from storage.models.outbox import AuditEntry, Notification
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


async def test_a_redemption_is_one_statement_on_postgresql_with_its_audit_and_notification(
    db: Database, city: City, clock: FrozenClock
) -> None:
    voucher_id = await a_voucher(db, city, clock, 5000)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.uow() as uow:
            entry = await redemption.redeem(
                uow,
                city,
                merchant_key="cafe-am-schloss",
                actor_citizen_id=None,
                voucher_id=voucher_id,
                amount_cents=1250,
                idempotency_key="one-statement",
                now=clock.now(),
            )
            await uow.commit()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == (1 if db.dialect == "postgresql" else 4), statements
    async with db.uow() as uow:
        note = (
            await uow.session.execute(
                select(Notification).where(Notification.ref == f"voucher:{voucher_id}")
            )
        ).scalar_one()
        assert note.key.startswith("{amount} of your city voucher were redeemed")
        assert note.params == {
            "amount": {"$money": 1250},
            "merchant": "Café am Schloss",
            "balance": {"$money": 3750},
        }
        assert note.buttons == [
            {"label": "Show voucher", "action": "voucher.show", "arg": str(voucher_id)}
        ]
        audited = (
            await uow.session.execute(
                select(AuditEntry).where(
                    AuditEntry.subject == f"voucher:{voucher_id}",
                    AuditEntry.action == "voucher.redeem",
                )
            )
        ).scalar_one()
        assert (audited.action, audited.actor) == ("voucher.redeem", "system")
        assert audited.details == {"merchant": "cafe-am-schloss", "amount": 1250, "entry": entry.id}


async def test_a_refused_redemption_leaves_no_entry_even_when_the_caller_commits(
    db: Database, city: City, clock: FrozenClock
) -> None:
    voucher_id = await a_voucher(db, city, clock, 500)
    async with db.uow() as uow:
        with pytest.raises(Conflict):
            await redemption.redeem(
                uow,
                city,
                merchant_key="cafe-am-schloss",
                actor_citizen_id=None,
                voucher_id=voucher_id,
                amount_cents=501,
                idempotency_key="too-much",
                now=clock.now(),
            )
        await uow.commit()
    async with db.uow() as uow:
        assert await vouchers.ledger_balance(uow, voucher_id) == 500
        left = await uow.session.execute(
            select(func.count())
            .select_from(VoucherEntry)
            .where(VoucherEntry.idempotency_key == "too-much")
        )
        assert left.scalar_one() == 0
        notes = await uow.session.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.ref == f"voucher:{voucher_id}")
        )
        assert notes.scalar_one() == 0
