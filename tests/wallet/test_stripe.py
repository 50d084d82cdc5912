"""Stripe: checkout creation against a test double of the API that checks the parameters, and
the webhook with signatures made in the test."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, build_app
from bot.payments.stripe_provider import StripeProvider
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from services.wallet import vouchers
from storage.db import Database
from storage.models.payments import Payment
from storage.models.provider_events import ProviderEvent
from storage.models.vouchers import Voucher, VoucherEntry
from tests.support.fake_stripe import FakeStripe, running_fake_stripe
from tests.wallet.conftest import PUBLIC_URL, PlainTranscript, resident

SECRET = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    async with running_fake_stripe(SECRET) as fake:
        yield fake


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock, fake_stripe: FakeStripe) -> App:
    settings = Settings(
        stripe_secret_key=SECRET,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_url=fake_stripe.url,
        public_url=PUBLIC_URL,
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_app(settings, clock=clock, db=db, city=city)
    assert isinstance(built.env.payments, StripeProvider)
    return built


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(event_id: str, event_type: str, session_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "data": {"object": {"id": session_id, "object": "checkout.session"}},
        }
    ).encode()


async def post_event(
    web: httpx.AsyncClient, payload: bytes, signature: str | None = "sign"
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["Stripe-Signature"] = signed(payload)
    elif signature is not None:
        headers["Stripe-Signature"] = signature
    return await web.post("/webhooks/stripe", content=payload, headers=headers)


async def open_pay_link(web: httpx.AsyncClient, link: str) -> httpx.Response:
    """The resident opens the pay link from the chat: the Checkout Session is made now."""
    return await web.get(link.removeprefix(PUBLIC_URL))


async def start_purchase(
    app: App, web: httpx.AsyncClient, citizen_id: int, cents: int = 2500
) -> tuple[int, str]:
    async with app.db.uow() as uow:
        purchase = await vouchers.buy(
            uow, app.env, citizen_id, now=app.clock.now(), value_cents=cents
        )
        await uow.commit()
    payment_id = purchase.payment.id
    assert payment_id is not None and purchase.payment.provider_ref is None
    opened = await open_pay_link(web, purchase.payment.checkout_url or "")
    assert opened.status_code == 303
    async with app.db.uow() as uow:
        payment = await uow.session.get(Payment, payment_id)
        assert payment is not None and payment.provider_ref
        assert (
            opened.headers["location"]
            == f"https://checkout.stripe.test/c/pay/{payment.provider_ref}"
        )
        return payment_id, payment.provider_ref


async def state(db: Database) -> dict[str, Any]:
    async with db.uow() as uow:
        voucher = (await uow.session.execute(select(Voucher))).scalar_one()
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        entries = (
            await uow.session.execute(select(func.count()).select_from(VoucherEntry))
        ).scalar_one()
        events = (
            await uow.session.execute(select(func.count()).select_from(ProviderEvent))
        ).scalar_one()
        return {
            "voucher": voucher.status,
            "balance": voucher.balance_cents,
            "payment": payment.status,
            "entries": entries,
            "events": events,
        }


async def test_checkout_session_parameters(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock, fake_stripe: FakeStripe
) -> None:
    anna = await resident(db, clock, "anna")
    payment_id, session_id = await start_purchase(app, web, anna, 2500)
    assert session_id.startswith("cs_test_")
    (form,) = fake_stripe.created
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(payment_id)
    assert form["line_items[0][price_data][unit_amount]"] == "2500"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert "Stadtgutschein Ahaus 25,00" in form["line_items[0][price_data][product_data][name]"]
    assert form["success_url"].startswith(f"{PUBLIC_URL}/pay/stripe/success")
    assert "{CHECKOUT_SESSION_ID}" in form["success_url"]
    assert form["cancel_url"] == f"{PUBLIC_URL}/pay/stripe/cancel?payment={payment_id}"
    assert 30 * 60 <= int(form["expires_at"]) - time.time() <= 32 * 60
    assert form["metadata[payment_id]"] == str(payment_id)
    async with db.uow() as uow:
        payment = await uow.session.get(Payment, payment_id)
        assert payment is not None and payment.provider == "stripe"
        assert (payment.checkout_url or "").startswith(f"{PUBLIC_URL}/pay/{payment_id}-")
        link = payment.checkout_url or ""
    again = await open_pay_link(web, link)  # opened again: the same session, none made anew
    assert again.headers["location"] == f"https://checkout.stripe.test/c/pay/{session_id}"
    assert len(fake_stripe.created) == 1


async def test_webhook_pays_once_despite_replays_and_forgeries(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock, fake_stripe: FakeStripe
) -> None:
    anna = await resident(db, clock, "anna")
    _payment_id, session_id = await start_purchase(app, web, anna)
    payload = event("evt_1", "checkout.session.completed", session_id)

    # forged, missing, stale or wrong-secret signatures: 400 and nothing changes
    assert (await post_event(web, payload, signature=None)).status_code == 400
    assert (await post_event(web, payload, signature="t=1,v1=deadbeef")).status_code == 400
    stale = signed(payload, at=int(time.time()) - 3600)
    assert (await post_event(web, payload, signature=stale)).status_code == 400
    wrong = signed(payload, secret="whsec_other")
    assert (await post_event(web, payload, signature=wrong)).status_code == 400
    tampered = payload.replace(b"evt_1", b"evt_2")
    assert (await post_event(web, tampered, signature=signed(payload))).status_code == 400
    assert await state(db) == {
        "voucher": "pending",
        "balance": 0,
        "payment": "created",
        "entries": 0,
        "events": 0,
    }

    # the event claims "completed" but Stripe says the session is still open: nothing paid
    response = await post_event(web, payload)
    assert response.status_code == 200
    assert (await state(db))["voucher"] == "pending"

    fake_stripe.complete(session_id)
    second = event("evt_2", "checkout.session.completed", session_id)
    for _ in range(10):
        response = await post_event(web, second)
        assert response.status_code == 200
    assert await state(db) == {
        "voucher": "active",
        "balance": 2500,
        "payment": "paid",
        "entries": 1,
        "events": 2,
    }


async def test_webhook_ignores_other_events_and_asks_for_retry_when_stripe_is_down(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock, fake_stripe: FakeStripe
) -> None:
    anna = await resident(db, clock, "anna")
    _payment_id, session_id = await start_purchase(app, web, anna)
    other = event("evt_x", "customer.created", "cus_123")
    response = await post_event(web, other)
    assert response.status_code == 200 and response.text == "ignored"
    unknown = event("evt_u", "checkout.session.completed", "cs_test_unknown")
    fake_stripe.sessions["cs_test_unknown"] = {"id": "cs_test_unknown", "status": "complete"}
    assert (await post_event(web, unknown)).status_code == 200

    fake_stripe.complete(session_id)
    fake_stripe.fail_reads = True
    payload = event("evt_3", "checkout.session.completed", session_id)
    response = await post_event(web, payload)
    assert response.status_code >= 500
    assert (await state(db))["voucher"] == "pending"
    fake_stripe.fail_reads = False
    assert (await post_event(web, payload)).status_code == 200
    assert (await state(db))["voucher"] == "active"


async def test_expired_session_releases_the_voucher(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock, fake_stripe: FakeStripe
) -> None:
    anna = await resident(db, clock, "anna")
    _payment_id, session_id = await start_purchase(app, web, anna)
    fake_stripe.expire(session_id)
    response = await post_event(web, event("evt_e", "checkout.session.expired", session_id))
    assert response.status_code == 200
    found = await state(db)
    assert found["voucher"] == "cancelled" and found["payment"] == "expired"


async def test_webhook_arrives_while_the_resident_is_still_chatting(
    app: App,
    web: httpx.AsyncClient,
    db: Database,
    city: City,
    clock: FrozenClock,
    fake_stripe: FakeStripe,
    tmp_path: Path,
) -> None:
    chat = PlainTranscript(
        db,
        city.model_copy(update={"default_language": "en"}),
        clock,
        media_dir=tmp_path,
        public_url=PUBLIC_URL,
        payments=app.env.payments,
    )
    await chat.send("anna", "/voucher")
    out = await chat.press("anna", "€10.00")
    assert f"Pay now: {PUBLIC_URL}/pay/1-" in out
    assert "Pay (demo)" not in out
    link = out.split("Pay now: ")[1].split()[0]
    assert (await open_pay_link(web, link)).status_code == 303
    await chat.send("anna", "/voucher")
    await chat.press("anna", "Other amount")  # the resident is in the middle of a question
    (session_id,) = list(fake_stripe.sessions)
    fake_stripe.complete(session_id)
    payload = event("evt_chat", "checkout.session.completed", session_id)
    assert (await post_event(web, payload)).status_code == 200
    shown = await chat.notifications("anna")
    assert "Your city voucher worth €10.00 is in your wallet" in shown
    out = await chat.send("anna", "20")
    assert "worth €20.00" in out


async def test_success_and_cancel_pages_in_the_payers_language(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")  # speaks English
    payment_id, session_id = await start_purchase(app, web, anna)
    success = await web.get("/pay/stripe/success", params={"session_id": session_id})
    assert success.status_code == 200 and "being confirmed" in success.text
    cancel = await web.get("/pay/stripe/cancel", params={"payment": str(payment_id)})
    assert cancel.status_code == 200 and "Nothing was charged" in cancel.text
    unknown = await web.get("/pay/stripe/success", params={"session_id": "cs_unknown"})
    assert "Ihre Zahlung wird bestätigt" in unknown.text  # the town's language


async def test_stripe_down_when_the_pay_link_is_opened_gives_a_clear_page(
    app: App,
    web: httpx.AsyncClient,
    db: Database,
    city: City,
    clock: FrozenClock,
    fake_stripe: FakeStripe,
    tmp_path: Path,
) -> None:
    chat = PlainTranscript(
        db,
        city.model_copy(update={"default_language": "en"}),
        clock,
        media_dir=tmp_path,
        public_url=PUBLIC_URL,
        payments=app.env.payments,
    )
    fake_stripe.fail_creates = True
    await chat.send("anna", "/voucher")
    out = await chat.press("anna", "€10.00")  # the chat never waits for Stripe
    link = out.split("Pay now: ")[1].split()[0]
    page = await open_pay_link(web, link)
    assert page.status_code == 503
    assert "The payment service cannot be reached right now. Nothing was charged." in page.text
    async with db.uow() as uow:
        voucher = (await uow.session.execute(select(Voucher))).scalar_one()
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        assert (voucher.status, payment.status, payment.provider_ref) == (
            "pending",
            "created",
            None,
        )
    fake_stripe.fail_creates = False  # Stripe is back: the same link works
    assert (await open_pay_link(web, link)).status_code == 303
