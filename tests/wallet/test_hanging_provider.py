"""A payment provider that hangs holds up nobody but the resident waiting for it: the provider is
asked outside every database transaction (no row lock, and on SQLite not the write lock).

The provider here does not answer until the test lets it; other residents talk to the bot
meanwhile. Nothing sleeps: the test waits for events. (The guard timeout only turns a
regression — a provider call inside a transaction — into a failure instead of a hang.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from services.payments.provider import Checkout
from storage.db import Database
from storage.models.payments import Payment
from tests.support.chat import Transcript
from tests.wallet.conftest import PUBLIC_URL, PlainTranscript

GUARD = 30.0  # seconds before a deadlock is reported as a failure (never reached when correct)
T = TypeVar("T")


class HangingProvider:
    """Answers only when `release` is set; says when it was asked."""

    name = "hanging"
    demo = True

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.asked_checkout = asyncio.Event()
        self.asked_refund = asyncio.Event()
        self.refunds: list[tuple[int, int]] = []

    async def create_checkout(self, payment: Payment) -> Checkout:
        self.asked_checkout.set()
        await self.release.wait()  # "10 seconds", or forever: as long as the test wants
        return Checkout(f"https://pay.example/{payment.id}", payment.provider_ref or "hang-1")

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        self.asked_refund.set()
        await self.release.wait()
        assert payment.id is not None
        self.refunds.append((payment.id, amount_cents))
        return f"re-{payment.id}"


async def guarded(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, GUARD)


@pytest.fixture
def provider() -> HangingProvider:
    return HangingProvider()


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock, provider: HangingProvider) -> App:
    settings = Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]
    built = build_app(settings, clock=clock, db=db, city=city)
    built.env.payments = provider
    return built


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


@pytest.fixture
def chat(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path, provider: HangingProvider
) -> Transcript:
    english = city.model_copy(update={"default_language": "en"})
    return PlainTranscript(
        db, english, clock, media_dir=tmp_path / "media", public_url=PUBLIC_URL, payments=provider
    )


async def test_a_hanging_checkout_does_not_hold_up_other_residents(
    chat: Transcript, web: httpx.AsyncClient, provider: HangingProvider
) -> None:
    await chat.send("anna", "/voucher")
    out = await guarded(chat.press("anna", "€25.00"))  # buying never asks the provider
    link = out.split("Pay now: ")[1].split()[0].removeprefix(PUBLIC_URL)
    opening = asyncio.create_task(web.get(link))  # anna opens the pay link: the provider hangs
    await guarded(provider.asked_checkout.wait())

    answer = await guarded(chat.send("ben", "/voucher"))  # meanwhile ben buys one too
    assert "How much should it be worth?" in answer
    answer = await guarded(chat.press("ben", "€10.00"))
    assert "Your city voucher worth €10.00" in answer
    assert not opening.done()

    provider.release.set()  # the provider answers at last
    page = await guarded(opening)
    assert page.status_code == 303 and page.headers["location"] == "https://pay.example/1"
    async with chat.db.uow() as uow:
        payment = await uow.session.get(Payment, 1)
        assert payment is not None and payment.provider_ref == "hang-1"


async def test_a_hanging_refund_does_not_hold_up_other_residents(
    chat: Transcript, provider: HangingProvider
) -> None:
    await chat.send("anna", "/voucher")
    await chat.press("anna", "€25.00")
    await chat.press("anna", "Pay (demo)")
    await chat.send("anna", "/wallet")
    await chat.press("anna", "City voucher")
    await chat.press("anna", "Refund")
    refunding = asyncio.create_task(chat.press("anna", "Yes, refund"))
    await guarded(provider.asked_refund.wait())  # booked and committed; the provider hangs

    answer = await guarded(chat.send("ben", "/voucher"))
    assert "How much should it be worth?" in answer
    async with chat.db.uow() as uow:  # the refund is booked, not yet sent
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        assert (payment.refunded_cents, payment.refund_sent_cents) == (2500, 0)

    provider.release.set()
    assert "refunded" in await guarded(refunding)
    async with chat.db.uow() as uow:
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        assert payment.refund_sent_cents == 2500
    assert provider.refunds == [(1, 2500)]
