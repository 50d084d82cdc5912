"""The demo checkout page served by the web app: opened twice, paid twice, cancelled after
paying, expired, or with a guessed link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, build_app
from bot.payments.demo import DemoProvider
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from services.wallet import vouchers
from storage.db import Database
from storage.models.vouchers import Voucher, VoucherEntry
from tests.wallet.conftest import PUBLIC_URL, resident


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url=PUBLIC_URL, stripe_secret_key=None, _env_file=None)  # type: ignore[call-arg]
    built = build_app(settings, clock=clock, db=db, city=city)
    assert isinstance(built.env.payments, DemoProvider)
    return built


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


async def checkout_path(app: App, db: Database, clock: FrozenClock, web: httpx.AsyncClient) -> str:
    """Buy a voucher and open its pay link: the town's link sends the payer on to the
    provider's checkout page (here the demo page)."""
    anna = await resident(db, clock, "anna")
    async with db.uow() as uow:
        purchase = await vouchers.buy(uow, app.env, anna, now=clock.now(), value_cents=2500)
        await uow.commit()
    link = (purchase.payment.checkout_url or "").removeprefix(PUBLIC_URL)
    assert re.fullmatch(r"/pay/\d+-[\w-]{20,}", link)
    opened = await web.get(link)
    assert opened.status_code == 303
    url = opened.headers["location"]
    assert url.startswith(f"{PUBLIC_URL}/pay/demo/")
    assert (await web.get(link)).headers["location"] == url  # the same page when opened again
    return url.removeprefix(PUBLIC_URL)


async def test_the_pay_link_refuses_guesses_and_says_when_it_expired(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    async with db.uow() as uow:
        purchase = await vouchers.buy(uow, app.env, anna, now=clock.now(), value_cents=2500)
        await uow.commit()
    link = (purchase.payment.checkout_url or "").removeprefix(PUBLIC_URL)
    assert (await web.get(link[:-3] + "xyz")).status_code == 404
    assert (await web.get("/pay/1-short")).status_code == 404
    assert (await web.get("/pay/99-" + "a" * 24)).status_code == 404
    clock.advance(timedelta(minutes=31))
    page = await web.get(link)
    assert page.status_code == 200 and "This payment link has expired" in page.text
    assert await voucher_state(db) == ("cancelled", 0, 0)


async def voucher_state(db: Database) -> tuple[str, int, int]:
    async with db.uow() as uow:
        voucher = (await uow.session.execute(select(Voucher))).scalar_one()
        entries = (
            await uow.session.execute(select(func.count()).select_from(VoucherEntry))
        ).scalar_one()
        return voucher.status, voucher.balance_cents, entries


def text_lines(page: str) -> list[str]:
    return re.findall(r"<p[^>]*>(.*?)</p>", page)


async def test_open_twice_pay_twice_cancel_after_paying(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    path = await checkout_path(app, db, clock, web)
    for _ in range(2):
        page = await web.get(path)
        assert page.status_code == 200
        assert "25,00" in page.text and "Stadtgutschein Ahaus" in page.text
        assert "Pay (demo)" in page.text and "Cancel (demo)" in page.text
        assert all("DEMO" in line for line in text_lines(page.text))
    paid = await web.post(path, data={"action": "pay"})
    assert "Paid. Thank you!" in paid.text
    assert all("DEMO" in line for line in text_lines(paid.text))
    again = await web.post(path, data={"action": "pay"})
    assert "This payment is paid." in again.text and "Pay (demo)</button>" not in again.text
    cancelled = await web.post(path, data={"action": "cancel"})
    assert "already paid and cannot be cancelled" in cancelled.text
    assert await voucher_state(db) == ("active", 2500, 1)


async def test_cancel_expire_and_guessed_links(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    path = await checkout_path(app, db, clock, web)
    guessed = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await web.get(guessed)).status_code == 404
    assert (await web.post(guessed, data={"action": "pay"})).status_code == 404
    assert (await web.get("/pay/demo/1")).status_code == 404
    clock.advance(timedelta(minutes=31))
    page = await web.get(path)
    assert "This payment link has expired" in page.text
    paid = await web.post(path, data={"action": "pay"})
    assert "Paid." not in paid.text
    assert await voucher_state(db) == ("cancelled", 0, 0)


async def test_cancel_on_the_page(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    path = await checkout_path(app, db, clock, web)
    page = await web.post(path, data={"action": "cancel"})
    assert "Cancelled. Nothing was charged." in page.text
    page = await web.post(path, data={"action": "pay"})
    assert "This payment was cancelled" in page.text
    assert await voucher_state(db) == ("cancelled", 0, 0)


async def test_an_english_payer_sees_the_german_description_marked(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    """Issue 12: "For: Stadtgutschein Ahaus 10,00 €" read as if it were English."""
    page = (await web.get(await checkout_path(app, db, clock, web))).text
    assert "For: “Stadtgutschein" in page and "” (in German)" in page
