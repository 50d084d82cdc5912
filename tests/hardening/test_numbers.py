"""Item 1: numbers and ids from outside are ASCII decimal within the 64-bit column range;
'²', '³', '٣' and 23-digit ids are a friendly re-ask in chat and a 404 on the web."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from flows.types import Button
from handlers import menus
from handlers.picking import typed_number
from services.cases.helpdesk import parse_ref
from services.cases.rules import normalise_reference
from services.city import City
from services.clock import FrozenClock
from services.errors import InvalidInput
from services.money import parse_amount
from services.numbers import ID_MAX, parse_decimal, parse_id, parse_int
from storage.db import Database
from tests.events.conftest import make_event, make_organiser
from tests.support.chat import Transcript
from tests.wallet.conftest import PUBLIC_URL

ODD = ["²", "³", "٣", "１", "1_000", " 7", "7 ", "+7", "", "-", "0x10", "1e3", "Ⅻ", "𝟗"]


@pytest.mark.parametrize("text", ODD)
def test_only_ascii_digits_are_numbers(text: str) -> None:
    assert parse_int(text) is None
    assert parse_id(text) is None
    if text == text.strip():
        assert typed_number(text) is None
    assert menus.unpack(f"ABCDEFGHJKMN:{text}") is None
    assert parse_decimal(text) is None


def test_ids_stay_inside_the_column() -> None:
    assert parse_id("1") == 1 and parse_id("007") == 7
    assert parse_id(str(ID_MAX)) == ID_MAX
    assert parse_id(str(ID_MAX + 1)) is None
    assert parse_id("9" * 23) is None and parse_id("0") is None and parse_id("-1") is None
    assert parse_int("-4", signed=True) == -4 and parse_int("-4") is None
    assert parse_int("12", low=1, high=10) is None
    assert parse_decimal("12,5") == 12.5 and parse_decimal("nan") is None


def test_services_refuse_other_scripts_digits() -> None:
    assert parse_ref("L-²") is None and parse_ref("L-٣") is None and parse_ref("L-12") == 12
    assert normalise_reference("AH ٢٠٢٦ ١٢") == "" and normalise_reference("ah 2026 12")
    for typed in ("٣٣", "²", "１２,５０"):
        with pytest.raises(InvalidInput):
            parse_amount(typed)


async def test_odd_digits_in_a_chat_step_are_asked_again(
    chat: Transcript, clock: FrozenClock
) -> None:
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Digital-Sprechstunde", capacity=3)
    await chat.send("anna", "Veranstaltungen")
    await chat.press("anna", "Digital-Sprechstunde")
    await chat.press("anna", "Tickets buchen")
    for odd in ("²", "³", "٣", "9" * 23):
        answer = await chat.send("anna", odd)
        assert "Anzahl der Tickets" in answer, answer
        assert "schiefgegangen" not in answer
    assert "Gebucht: 2 Tickets" in await chat.send("anna", "2")


async def test_forged_button_indexes_are_an_outdated_menu(chat: Transcript) -> None:
    await chat.send("anna", "/start")
    menu = next(r.menu for r in chat.last["anna"] if r.menu)
    for index in ("²", "٣", "9" * 23):
        answer = await chat.choose("anna", f"{menu}:{index}")
        assert answer and "schiefgegangen" not in answer


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/pay/demo/%C2%B2-AAAAAAAAAAAA",
        "/pay/demo/%D9%A3-AAAAAAAAAAAA",
        f"/pay/demo/{'9' * 23}-AAAAAAAAAAAA",
        "/pay/%C2%B2-AAAAAAAAAAAA",
        f"/pay/{'9' * 23}-AAAAAAAAAAAA",
        f"/pay/{ID_MAX + 1}-AAAAAAAAAAAA",
    ],
)
async def test_odd_ids_in_pay_links_are_not_found(web: httpx.AsyncClient, path: str) -> None:
    assert (await web.get(path)).status_code == 404
    assert (await web.post(path, data={"action": "pay"})).status_code in (404, 405)


@pytest.mark.parametrize("payment", ["%C2%B2", "%D9%A3", "9" * 23, str(ID_MAX + 1), "-1"])
async def test_odd_payment_on_the_cancel_page_is_ignored(
    web: httpx.AsyncClient, payment: str
) -> None:
    response = await web.get(f"/pay/stripe/cancel?payment={payment}")
    assert response.status_code == 200 and "<html" in response.text


async def test_ids_beyond_the_integer_column_are_not_found(
    chat: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's INTEGER ids end at 2**31-1: a larger one must not reach a query."""
    caplog.set_level(logging.INFO)
    await chat.send("anna", "/start")
    args = [str(2**31), str(2**63 - 1), str(ID_MAX)]
    async with chat.db.uow() as uow:
        menu = await menus.store_menu(
            uow,
            channel="console",
            chat_id="anna",
            text="",
            buttons=[
                Button("?", action, arg)
                for arg in args
                for action in ("auction.item", "events.show")
            ],
            now=chat.clock.now(),
        )
        await uow.commit()
    for index in range(len(args) * 2):
        assert "schiefgegangen" not in await chat.choose("anna", menus.pack(menu.id, index))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
