"""The interface every payment provider implements (Stripe, the demo provider, test fakes).
Providers live in bot/payments/; services see only this protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.errors import Conflict
from storage.models.payments import Payment


class ProviderUnavailable(Conflict):
    """The payment provider could not be reached or refused the request; nothing was booked."""


@dataclass(frozen=True)
class Checkout:
    url: str
    provider_ref: str


class PaymentProvider(Protocol):
    name: str
    demo: bool

    async def create_checkout(self, payment: Payment) -> Checkout: ...

    async def refund(self, payment: Payment, amount_cents: int) -> str: ...
