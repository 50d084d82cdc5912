"""Refund of an unused, paid voucher within the configured days (14 by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from services import audit
from services.env import Env
from services.errors import Conflict, NotAllowed
from services.payments import lifecycle as payments
from services.wallet.vouchers import VoucherRules, get_own, release_offer, rules_of
from storage.models.vouchers import ACTIVE, REFUND, REFUNDED, Voucher, VoucherEntry
from storage.uow import UnitOfWork, rows_changed


def refundable_until(voucher: Voucher, rules: VoucherRules) -> datetime | None:
    if voucher.activated_at is None or voucher.payment_id is None or voucher.price_cents <= 0:
        return None
    return voucher.activated_at + timedelta(days=rules.refund_days)


def can_refund(voucher: Voucher, citizen_id: int, rules: VoucherRules, now: datetime) -> bool:
    until = refundable_until(voucher, rules)
    return (
        until is not None
        and now <= until
        and voucher.status == ACTIVE
        and voucher.gift_code is None
        and voucher.gift_from_citizen_id is None
        and voucher.citizen_id == citizen_id
        and voucher.balance_cents == voucher.value_cents
    )


async def refund(
    uow: UnitOfWork,
    env: Env,
    citizen_id: int,
    voucher_id: int,
    now: datetime,
) -> Voucher:
    """The voucher is refunded at once; the money goes back through the provider after the
    transaction (services/payments/provider_calls.py)."""
    rules = rules_of(env.city)
    voucher = await get_own(uow, citizen_id, voucher_id)
    if voucher.status == REFUNDED:
        raise Conflict("This voucher was already refunded.")
    until = refundable_until(voucher, rules)
    if until is None:
        raise NotAllowed("Only vouchers you bought yourself can be refunded.")
    if voucher.gift_from_citizen_id is not None:
        raise NotAllowed("A voucher you received as a gift cannot be refunded.")
    if now > until:
        raise Conflict(
            "A voucher can only be refunded within {days} days of purchase.", days=rules.refund_days
        )
    if voucher.gift_code is not None:
        raise Conflict("Please take the gift back first.")
    changed = await uow.session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher_id,
            Voucher.status == ACTIVE,
            Voucher.balance_cents == Voucher.value_cents,
            col(Voucher.gift_code).is_(None),
        )
        .values(status=REFUNDED, balance_cents=0)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("Only an unused voucher can be refunded. This one has been used.")
    uow.session.add(
        VoucherEntry(
            voucher_id=voucher_id,
            kind=REFUND,
            amount_cents=-voucher.value_cents,
            at=now,
            actor_citizen_id=citizen_id,
        )
    )
    await uow.session.refresh(voucher)
    await release_offer(uow, voucher)
    assert voucher.payment_id is not None
    await payments.refund(uow, env, voucher.payment_id, voucher.price_cents, now)
    audit.log_action(
        uow, now, "voucher.refund", f"voucher:{voucher_id}", actor_citizen_id=citizen_id
    )
    return voucher
