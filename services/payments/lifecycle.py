"""Payments behind one provider interface, and what happens when a payment succeeds.

A capability that sells something registers its purpose once, at import:

    payments.register_purpose("auction", on_paid=auction.payment_received,
                              on_failed=auction.payment_lapsed)

A hook is `async def on_paid(uow, env, payment, now)`: the running program's Env (city,
payment provider, notifier ...) comes as a parameter.

then starts a payment in its use case with `await payments.start(uow, provider, ...)` and sends
the resident `payment.checkout_url`. The provider (Stripe, or the demo provider when no keys are
set) reports back through the web app; `settle()` marks the payment paid exactly once and calls
the purpose's `on_paid` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services.env import Env
from services.errors import Conflict, NotFound
from services.payments.provider import PaymentProvider
from storage.models.payments import (
    CANCELLED,
    CREATED,
    EXPIRED,
    FAILED,
    PAID,
    REFUNDED,
    Payment,
)
from storage.models.provider_events import ProviderEvent, ProviderObject
from storage.uow import UnitOfWork

CHECKOUT_TTL = timedelta(minutes=30)

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
    provider: PaymentProvider,
    *,
    citizen_id: int,
    purpose: str,
    ref: str,
    amount_cents: int,
    description: str,
    now: datetime,
    ttl: timedelta = CHECKOUT_TTL,
) -> Payment:
    if purpose not in PURPOSES:
        raise ValueError(f"payment purpose {purpose!r} is not registered")
    if amount_cents <= 0:
        raise ValueError("a payment needs a positive amount")
    payment = Payment(
        citizen_id=citizen_id,
        purpose=purpose,
        ref=ref,
        description=description[:200],
        amount_cents=amount_cents,
        provider=provider.name,
        created_at=now,
        expires_at=now + ttl,
    )
    uow.session.add(payment)
    await uow.session.flush()
    checkout = await provider.create_checkout(payment)
    payment.checkout_url = checkout.url
    payment.provider_ref = checkout.provider_ref
    await uow.session.flush()
    assert payment.id is not None
    await remember_object(uow, provider.name, checkout.provider_ref, "checkout", payment.id, now)
    return payment


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
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await uow.session.refresh(payment)
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
    provider: PaymentProvider,
    payment_id: int,
    amount_cents: int,
    now: datetime,
) -> str:
    """Give back (part of) a paid payment through its provider. The refunded sum is raised by a
    conditional update first, so two refunds can never exceed what was paid."""
    if amount_cents <= 0:
        raise ValueError("a refund needs a positive amount")
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
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This payment cannot be refunded (any more).")
    payment = await uow.session.get(Payment, payment_id)
    assert payment is not None
    await uow.session.refresh(payment)
    if payment.provider != provider.name:
        raise Conflict("This payment was made with another payment provider.")
    refund_ref = await provider.refund(payment, amount_cents)
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = REFUNDED
    if refund_ref:
        await remember_object(uow, payment.provider, refund_ref, "refund", payment_id, now)
    await uow.session.flush()
    return refund_ref


async def remember_object(
    uow: UnitOfWork, provider: str, object_id: str, kind: str, payment_id: int, now: datetime
) -> None:
    """Map a provider id to our payment (unique: one id never points at two payments)."""
    found = await find_object(uow, provider, object_id)
    if found is None:
        uow.session.add(
            ProviderObject(
                provider=provider,
                object_id=object_id,
                kind=kind,
                payment_id=payment_id,
                created_at=now,
            )
        )
        await uow.session.flush()
    elif found != payment_id:
        raise Conflict("This provider reference belongs to another payment.")


async def find_object(uow: UnitOfWork, provider: str, object_id: str) -> int | None:
    return (
        await uow.session.execute(
            select(ProviderObject.payment_id).where(
                ProviderObject.provider == provider, ProviderObject.object_id == object_id
            )
        )
    ).scalar_one_or_none()


async def first_time_event(
    uow: UnitOfWork,
    provider: str,
    event_id: str,
    event_type: str,
    now: datetime,
    payment_id: int | None = None,
) -> bool:
    """Record a webhook event id; False when it was processed before (a replay). Recorded in
    the caller's transaction, so an event whose processing failed is processed again."""
    try:
        async with uow.session.begin_nested():
            uow.session.add(
                ProviderEvent(
                    provider=provider,
                    event_id=event_id,
                    type=event_type[:80],
                    payment_id=payment_id,
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    return True
