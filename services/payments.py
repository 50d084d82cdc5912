"""Payments behind one provider interface, and what happens when a payment succeeds.

A capability that sells something registers its purpose once:

    payments.register_purpose("auction", on_paid=auction.payment_received,
                              on_failed=auction.payment_lapsed)

then starts a payment in its use case with `await payments.start(uow, provider, ...)` and sends
the resident `payment.checkout_url`. The provider (Stripe, or the demo provider when no keys are
set) reports back through the web app; `settle()` marks the payment paid exactly once and calls
the purpose's `on_paid` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlmodel import col

from services.errors import Conflict, NotFound
from storage.models.payments import CANCELLED, CREATED, EXPIRED, FAILED, PAID, Payment
from storage.uow import UnitOfWork

CHECKOUT_TTL = timedelta(minutes=30)

PaymentHook = Callable[[UnitOfWork, Payment, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Checkout:
    url: str
    provider_ref: str


class PaymentProvider(Protocol):
    name: str
    demo: bool

    async def create_checkout(self, payment: Payment) -> Checkout: ...

    async def refund(self, payment: Payment, amount_cents: int) -> str: ...


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
    return payment


async def settle(uow: UnitOfWork, payment_id: int, outcome: str, now: datetime) -> bool:
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
        await purpose.on_paid(uow, payment, now)
    elif purpose.on_failed is not None:
        await purpose.on_failed(uow, payment, now)
    return True
