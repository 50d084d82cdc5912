"""Refunds against localstripe (PaymentIntents and Refunds like Stripe's) on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.payments.stripe_provider import StripeProvider
from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict
from services.payments import lifecycle as payments
from services.payments import provider_calls
from services.payments.provider import Checkout
from services.wallet import refunds, vouchers
from storage.db import Database
from storage.models.payments import Payment
from storage.models.vouchers import Voucher
from tests.support.env import env_with
from tests.wallet.conftest import PUBLIC_URL, resident

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk_test_localstripe"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def localstripe_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.localstripe_server", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # waiting for the process to listen, not for time to pass
            if process.poll() is not None:
                error = (process.stderr.read() if process.stderr else b"").decode()[-300:]
                pytest.skip(f"localstripe could not start: {error}")
            try:
                httpx.get(f"{url}/v1/customers", auth=(KEY, ""), timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.skip("localstripe did not answer within 10 seconds")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class IntentProvider(StripeProvider):
    """Stripe with a confirmed PaymentIntent instead of a Checkout Session, which localstripe
    lacks; refunds go through the real StripeProvider code."""

    async def create_checkout(self, payment: Payment) -> Checkout:
        intent = await self.client.v1.payment_intents.create_async(
            params={
                "amount": payment.amount_cents,
                "currency": "eur",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        return Checkout(url=f"{PUBLIC_URL}/never-shown", provider_ref=intent.id)


@pytest.fixture
async def provider(localstripe_url: str) -> AsyncIterator[IntentProvider]:
    yield IntentProvider(KEY, "whsec_unused", PUBLIC_URL, api_url=localstripe_url)


async def test_refund_of_an_unused_voucher_reaches_stripe_once(
    db: Database, city: City, clock: FrozenClock, provider: IntentProvider
) -> None:
    anna = await resident(db, clock, "anna")
    async with db.uow() as uow:
        purchase = await vouchers.buy(
            uow, env_with(provider, city=city), anna, now=clock.now(), value_cents=2500
        )
        await uow.commit()
    payment_id = purchase.payment.id or 0
    made = await provider_calls.open_checkout(
        db.uow, env_with(provider, city=city), payment_id, clock.now()
    )
    async with db.uow() as uow:
        assert await payments.settle(uow, env_with(), payment_id, "paid", clock.now())
        await uow.commit()
    voucher_id = purchase.voucher.id or 0
    intent_id = made.provider_ref
    assert intent_id.startswith("pi_")
    status = (await provider.client.v1.payment_intents.retrieve_async(intent_id)).status
    assert status == "succeeded"

    async with db.uow() as uow:
        await refunds.refund(uow, env_with(provider, city=city), anna, voucher_id, clock.now())
        await uow.commit()
    listed = await provider.client.v1.refunds.list_async()
    mine = [r for r in listed.data if r.payment_intent == intent_id]
    assert [r.amount for r in mine] == [2500]

    # a second refund is refused by our ledger before Stripe is asked (localstripe would allow it)
    async with db.uow() as uow:
        with pytest.raises(Conflict):
            await refunds.refund(uow, env_with(provider, city=city), anna, voucher_id, clock.now())
        assert not await payments.refund(uow, env_with(provider), payment_id, 100, clock.now())
    listed = await provider.client.v1.refunds.list_async()
    assert len([r for r in listed.data if r.payment_intent == intent_id]) == 1
    async with db.uow() as uow:
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        voucher = (await uow.session.execute(select(Voucher))).scalar_one()
        assert payment.status == "refunded" and payment.refunded_cents == 2500
        assert payment.refund_sent_cents == 2500
        assert voucher.status == "refunded" and voucher.balance_cents == 0
        assert await vouchers.ledger_balance(uow, voucher_id) == 0
