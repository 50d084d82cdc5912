"""The Stripe webhook: verify the signature, treat the event as a trigger, re-read the checkout
session from Stripe, settle our payment once. 400 for a bad signature, 200 for events we ignore
or saw before, 503 when Stripe should try again later."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe

from bot.payments.stripe_provider import NAME, MalformedEvent, StripeProvider
from services.env import Env
from services.payments import lifecycle as payments
from services.payments import provider as provider_ids
from storage.db import Database
from storage.models.payments import EXPIRED, FAILED, PAID, Payment

log = logging.getLogger(__name__)

SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def outcome_of(event_type: str, session: dict[str, Any]) -> str | None:
    """What the session's current state (not the event) says about our payment."""
    if (
        session.get("payment_status") in ("paid", "no_payment_required")
        and session.get("status") == "complete"
    ):
        return PAID
    if session.get("status") == "expired":
        return EXPIRED
    if event_type == "checkout.session.async_payment_failed":
        return FAILED
    return None  # e.g. completed but an asynchronous payment method is still pending


async def handle(
    db: Database, env: Env, provider: StripeProvider, payload: bytes, signature: str | None
) -> Answer:
    try:
        event = provider.verify(payload, signature)
    except MalformedEvent as error:
        log.warning("refused a signed Stripe webhook: %s", error)
        return Answer(400, "malformed event")
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("refused Stripe webhook: %s", str(error)[:200])
        return Answer(400, "invalid signature")
    if event.type not in SESSION_EVENTS:
        return Answer(200, "ignored")
    session_id = str(event.to_dict().get("data", {}).get("object", {}).get("id", ""))
    if not session_id.startswith("cs_"):
        return Answer(200, "ignored: no checkout session")
    try:
        session = (await provider.read_session(session_id)).to_dict()
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            log.warning("could not re-read Stripe session %s: %s", session_id, error)
            return Answer(503, "try again later")
        # Stripe itself does not know it: retrying cannot help (a test event, another account)
        log.warning(
            "Stripe event %s names session %s, which Stripe does not know",
            event.id,
            session_id[:80],
        )
        return Answer(200, "unknown session")
    except stripe.StripeError as error:
        log.warning("could not re-read Stripe session %s: %s", session_id, error)
        return Answer(503, "try again later")
    try:
        async with db.uow() as uow:
            now = env.now()
            payment_id = await provider_ids.find_object(uow, NAME, session["id"])
            if payment_id is None:
                log.warning("Stripe session %s belongs to no payment of ours", session["id"])
                return Answer(200, "unknown session")
            payment = await uow.session.get(Payment, payment_id)
            reference = session.get("client_reference_id")
            if payment is None or (reference and reference != str(payment_id)):
                log.error("Stripe session %s does not match payment %s", session["id"], payment_id)
                return Answer(200, "mismatch ignored")
            if not await provider_ids.first_time_event(
                uow, NAME, event.id, event.type, now, payment_id=payment_id
            ):
                return Answer(200, "already processed")
            intent = session.get("payment_intent")
            if isinstance(intent, dict):
                intent = intent.get("id")
            if isinstance(intent, str) and intent:
                await provider_ids.remember_object(
                    uow, NAME, intent, "payment_intent", payment_id, now
                )
            outcome = outcome_of(event.type, session)
            if outcome is not None:
                await payments.settle(uow, env, payment_id, outcome, now)
            await uow.commit()
    except Exception:
        log.exception("Stripe event %s could not be processed; Stripe will retry", event.id)
        return Answer(500, "error, please retry")
    return Answer(200, "ok")
