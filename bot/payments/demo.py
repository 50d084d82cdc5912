"""The demo provider: a checkout page of our own web app, where no money moves."""

from __future__ import annotations

import hmac
import itertools
import secrets

from services.numbers import parse_id
from services.payments.provider import Checkout
from storage.models.payments import Payment

NAME = "demo"


class DemoProvider:
    name = NAME
    demo = True

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._refunds = itertools.count(1)

    async def create_checkout(self, payment: Payment) -> Checkout:
        token = payment.provider_ref or secrets.token_urlsafe(18)  # the same page when asked again
        return Checkout(url=f"{self.public_url}/pay/demo/{payment.id}-{token}", provider_ref=token)

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        return f"demo-refund-{payment.id}-{secrets.token_hex(4)}"


def split_token(value: str) -> tuple[int, str] | None:
    """'12-<token>' from the page URL -> (12, token), or None."""
    number, sep, token = value.partition("-")
    payment_id = parse_id(number)
    if not sep or payment_id is None or not 10 <= len(token) <= 64:
        return None
    return payment_id, token


def token_matches(payment: Payment, token: str) -> bool:
    return (
        payment.provider == NAME
        and payment.provider_ref is not None
        and hmac.compare_digest(payment.provider_ref, token)
    )
