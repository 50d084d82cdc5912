"""Payments behind one provider interface, and what happens when a payment succeeds.

A capability that sells something registers its purpose once, at import:

    payments.register_purpose("auction", on_paid=auction.payment_received,
                              on_failed=auction.payment_lapsed)

A hook is `async def on_paid(uow, env, payment, now)`: the running program's Env (city,
payment provider, notifier ...) comes as a parameter.

A use case then records the payment with `await payments.start(uow, env, ...)` and shows the
resident its checkout (flows/checkout.py). The provider (Stripe, or the demo provider when no
keys are set) is never called inside a transaction: its checkout page is made when the pay
link is opened, refunds are paid out after the transaction that booked them
(services/payments/provider_calls.py). It reports back through the web app; `settle()` marks
the payment paid exactly once and calls the purpose's `on_paid` in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import col

from services.env import Env
from services.errors import Conflict, NotFound
from services.payments import provider_calls
from services.payments.provider import ProviderUnavailable
from storage.models.payments import CANCELLED, CREATED, EXPIRED, FAILED, REFUNDED, Payment
from storage.models.payments import PAID as PAID
from storage.uow import UnitOfWork, rows_changed

CHECKOUT_TTL = timedelta(minutes=30)
PAY_PATH = "/pay/"  # the town's pay link: /pay/<payment id>-<secret>

PaymentHook = Callable[[UnitOfWork, Env, Payment, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Purpose:
    on_paid: PaymentHook
    on_failed: PaymentHook | None = None


PURPOSES: dict[str, Purpose] = {}


def register_purpose(name: str, on_paid: PaymentHook, on_failed: PaymentHook | None = None) -> None:
    PURPOSES[name] = Purpose(on_paid, on_failed)


async def start(
    uow: UnitOfWork,
    env: Env,
    *,
    citizen_id: int,
    purpose: str,
    ref: str,
    amount_cents: int,
    description: str,
    now: datetime,
    ttl: timedelta = CHECKOUT_TTL,
) -> Payment:
    """Record that the resident is to pay: a payment whose `checkout_url` is the town's own pay
    link. The provider is not asked here: its checkout page is made when the link is opened
    (services/payments/provider_calls.py), outside any transaction."""
    if purpose not in PURPOSES:
        raise ValueError(f"payment purpose {purpose!r} is not registered")
    if amount_cents <= 0:
        raise ValueError("a payment needs a positive amount")
    if env.payments is None:
        raise ProviderUnavailable("Payments are not available right now. Please try again later.")
    payment = Payment(
        citizen_id=citizen_id,
        purpose=purpose,
        ref=ref,
        description=description[:200],
        amount_cents=amount_cents,
        provider=env.payments.name,
        created_at=now,
        expires_at=now + ttl,
    )
    uow.session.add(payment)
    await uow.session.flush()
    payment.checkout_url = env.links.public(f"{PAY_PATH}{payment.id}-{secrets.token_urlsafe(18)}")
    await uow.session.flush()
    uow.count_after_commit("payment", provider=payment.provider, outcome="started")
    return payment


def link_token(payment: Payment) -> str:
    """The secret part of the payment's pay link."""
    _path, _sep, tail = (payment.checkout_url or "").rpartition(PAY_PATH)
    return tail.partition("-")[2]


async def settle(uow: UnitOfWork, env: Env, payment_id: int, outcome: str, now: datetime) -> bool:
    """Record the provider's verdict once. Returns False when it was recorded before (a replayed
    webhook, a second click): nothing happens twice. A payment reported paid after it expired is
    still recorded as paid; the purpose decides (e.g. refund when the item is gone)."""
    if outcome not in (PAID, FAILED, EXPIRED, CANCELLED):
        raise ValueError(f"unknown payment outcome {outcome!r}")
    payment = await uow.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("This payment is unknown.")
    allowed_from = [CREATED] if outcome != PAID else [CREATED, EXPIRED, CANCELLED, FAILED]
    changed = await uow.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, col(Payment.status).in_(allowed_from))
        .values(status=outcome, paid_at=now if outcome == PAID else None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return False
    await uow.session.refresh(payment)
    uow.count_after_commit("payment", provider=payment.provider, outcome=outcome)
    purpose = PURPOSES.get(payment.purpose)
    if purpose is None:
        raise Conflict("No handler for payments of this kind.")
    if outcome == PAID:
        await purpose.on_paid(uow, env, payment, now)
    elif purpose.on_failed is not None:
        await purpose.on_failed(uow, env, payment, now)
    return True


# ---------------------------------------------------------------- expiry, refunds, provider ids
async def expire_due(
    uow: UnitOfWork, env: Env, now: datetime, limit: int = 500, *, citizen_id: int | None = None
) -> int:
    """Mark checkouts not paid within their time as expired (the purpose releases what it held).
    Called by the scheduler for all, and lazily for one resident before they buy or look."""
    query = select(Payment.id).where(Payment.status == CREATED, Payment.expires_at <= now)
    if citizen_id is not None:
        query = query.where(Payment.citizen_id == citizen_id)
    due = (await uow.session.execute(query.order_by(Payment.id).limit(limit))).scalars()
    count = 0
    for payment_id in list(due):
        if payment_id is not None and await settle(uow, env, payment_id, EXPIRED, now):
            count += 1
    return count


async def refund(
    uow: UnitOfWork,
    env: Env,
    payment_id: int,
    amount_cents: int,
    now: datetime,
) -> bool:
    """Book a refund of (part of) a paid payment: the refunded sum is raised by a conditional
    update, so two refunds can never exceed what was paid. The provider pays it out after the
    transaction (services/payments/provider_calls.py); if that fails, the `payments.refunds`
    job sends it again. False when there was nothing (more) to refund."""
    if amount_cents <= 0:
        raise ValueError("a refund needs a positive amount")
    payment = await uow.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("This payment is unknown.")
    if env.payments is None or payment.provider != env.payments.name:
        raise Conflict("Refunds are not possible right now. Please try again later.")
    changed = await uow.session.execute(
        update(Payment)
        .where(
            Payment.id == payment_id,
            col(Payment.status).in_([PAID, REFUNDED]),
            Payment.refunded_cents + amount_cents <= Payment.amount_cents,
        )
        .values(refunded_cents=Payment.refunded_cents + amount_cents)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return False
    await uow.session.refresh(payment)
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = REFUNDED
    await uow.session.flush()
    uow.count_after_commit("payment", provider=payment.provider, outcome="refunded")
    uow.after_transaction(lambda: provider_calls.send_refunds(uow.fresh, env, [payment_id]))
    return True
