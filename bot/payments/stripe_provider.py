"""Stripe Checkout: a hosted payment page per payment, confirmed by signed webhooks."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe

from services.numbers import parse_int
from services.payments.provider import Checkout, ProviderUnavailable
from storage.models.payments import Payment

log = logging.getLogger(__name__)

NAME = "stripe"
# Stripe accepts expires_at from 30 minutes on; a minute of slack for the way there. Our own
# payment expires after 30 minutes; a payment completed in that last minute still counts.
STRIPE_EXPIRY_SECONDS = 31 * 60


SIGNATURE_TOLERANCE = 300  # seconds a signature's timestamp may be off, either way


class MalformedEvent(ValueError):
    """A validly signed webhook body that is no Stripe event."""


def signature_timestamp(header: str) -> int:
    """The `t=` of a Stripe-Signature header (the first one, as Stripe's library reads it)."""
    for item in header.split(","):
        key, _sep, value = item.partition("=")
        if key == "t":
            stamp = parse_int(value)
            if stamp is None:
                raise ValueError("the timestamp of the Stripe-Signature header is no number")
            return stamp
    raise ValueError("no timestamp in the Stripe-Signature header")


def event_problem(payload: bytes) -> str:
    """What makes a body no event ("" when it is one: an object with an id, a type and a
    data object)."""
    try:
        event = json.loads(payload)
    except ValueError:
        return "not JSON"
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__}, not an object"
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        return "no id or type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object is not an object"
    return ""


class StripeProvider:
    name = NAME
    demo = False

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        public_url: str,
        api_url: str | None = None,
        http_client: Any = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.public_url = public_url.rstrip("/")
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_url} if api_url else None,  # type: ignore[typeddict-item]
            http_client=http_client or stripe.HTTPXClient(),
            max_network_retries=2,
        )

    async def create_checkout(self, payment: Payment) -> Checkout:
        try:
            return await self._create_checkout(payment)
        except stripe.StripeError as error:
            log.warning("Stripe checkout for payment %s failed: %s", payment.id, error)
            raise ProviderUnavailable(
                "The payment service cannot be reached right now. Nothing was charged. "
                "Please try again in a few minutes."
            ) from error

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        try:
            return await self._refund(payment, amount_cents)
        except stripe.StripeError as error:
            log.warning("Stripe refund for payment %s failed: %s", payment.id, error)
            raise ProviderUnavailable(
                "The refund could not be sent to the payment service right now. Nothing was "
                "changed. Please try again in a few minutes."
            ) from error

    async def _create_checkout(self, payment: Payment) -> Checkout:
        if payment.provider_ref:  # made before (the pay link was opened already)
            made = await self.read_session(payment.provider_ref)
            if made.url:
                return Checkout(url=made.url, provider_ref=made.id)
        reference = str(payment.id)
        session = await self.client.v1.checkout.sessions.create_async(
            params={
                "mode": "payment",
                "client_reference_id": reference,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": payment.amount_cents,
                            "product_data": {"name": payment.description},
                        },
                    }
                ],
                "success_url": f"{self.public_url}/pay/stripe/success"
                "?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": f"{self.public_url}/pay/stripe/cancel?payment={reference}",
                "expires_at": int(time.time()) + STRIPE_EXPIRY_SECONDS,
                "metadata": {"payment_id": reference, "purpose": payment.purpose},
                "payment_intent_data": {"metadata": {"payment_id": reference}},
            },
            options={"idempotency_key": f"stadtlotse-checkout-{reference}"},
        )
        if not session.url:
            raise RuntimeError(f"Stripe returned no checkout URL for session {session.id}")
        return Checkout(url=session.url, provider_ref=session.id)

    async def _refund(self, payment: Payment, amount_cents: int) -> str:
        intent = await self.payment_intent_of(payment)
        created = await self.client.v1.refunds.create_async(
            params={
                "payment_intent": intent,
                "amount": amount_cents,
                "metadata": {"payment_id": str(payment.id)},
            },
            options={
                "idempotency_key": f"stadtlotse-refund-{payment.id}-{payment.refund_sent_cents}"
            },
        )
        return str(created.id)

    async def payment_intent_of(self, payment: Payment) -> str:
        ref = payment.provider_ref or ""
        if ref.startswith("pi_"):
            return ref
        session = (await self.client.v1.checkout.sessions.retrieve_async(ref)).to_dict()
        intent = session.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        if not intent:
            raise RuntimeError(f"checkout session {ref} has no payment intent (not paid?)")
        return str(intent)

    def verify(
        self, payload: bytes, signature: str | None, *, now: float | None = None
    ) -> stripe.Event:
        """The event, once its signature checks out and its timestamp is within the tolerance
        either way (Stripe's library only refuses stale ones). Raises ValueError for a missing
        header, stripe.SignatureVerificationError for a bad signature or timestamp, and
        MalformedEvent for a signed body that is no event."""
        if not signature:
            raise ValueError("Stripe-Signature header missing")
        stripe.WebhookSignature.verify_header(
            payload, signature, self.webhook_secret, SIGNATURE_TOLERANCE
        )
        stamp = signature_timestamp(signature)
        if stamp > (time.time() if now is None else now) + SIGNATURE_TOLERANCE:
            raise stripe.SignatureVerificationError(
                f"Timestamp in the future ({stamp})", signature, payload
            )
        problem = event_problem(payload)
        if problem:
            raise MalformedEvent(problem)
        return self.client.construct_event(payload, signature, self.webhook_secret)

    async def read_session(self, session_id: str) -> Any:
        return await self.client.v1.checkout.sessions.retrieve_async(session_id)
