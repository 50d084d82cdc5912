"""The interface every payment provider implements (Stripe, the demo provider, test fakes), and
the map from a provider's ids (checkout sessions, payment intents, refunds, webhook events) to
our payments. Providers live in bot/payments/; services see only this protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.errors import Conflict
from storage.models.payments import Payment
from storage.models.provider_events import ProviderEvent, ProviderObject
from storage.uow import UnitOfWork


class ProviderUnavailable(Conflict):
    """The payment provider could not be reached or refused the request; nothing was booked."""


@dataclass(frozen=True)
class Checkout:
    url: str
    provider_ref: str


class PaymentProvider(Protocol):
    """Called only outside database transactions (services/payments/provider_calls.py).
    Both calls may be repeated for the same payment after a crash and must then do nothing
    twice: `create_checkout` for a payment that has a `provider_ref` returns that checkout
    again; `refund` is keyed by the payment and its `refund_sent_cents`."""

    name: str
    demo: bool

    async def create_checkout(self, payment: Payment) -> Checkout: ...

    async def refund(self, payment: Payment, amount_cents: int) -> str: ...


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
