"""Item 7: a forged token at a link button is a warning; after an error the repeated menu has
its plain header, not an old intro; the wallet header counts only active entries; a resident
pressing Buy twice on the same auction item gets their own pay button, never "someone else"."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.payments.demo import DemoProvider
from flows.types import Button
from handlers import menus
from services.auction import buying as auction_buy
from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict
from services.payments import lifecycle as payments
from services.wallet import vouchers
from storage.db import Database
from storage.models.payments import PAID
from tests.auction.support import FakeProvider, list_item, person
from tests.events.conftest import citizen_id
from tests.support.chat import Transcript
from tests.support.env import env_with
from tests.wallet.conftest import PUBLIC_URL


async def test_a_forged_token_at_a_link_button_is_a_warning(
    chat: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.send("anna", "/start")
    async with chat.db.uow() as uow:
        menu = await menus.store_menu(
            uow,
            channel="console",
            chat_id="anna",
            text="Pay",
            buttons=[
                Button("Pay now", "", "", "https://pay.example/1"),
                Button("Back", "menu.main"),
            ],
            now=chat.clock.now(),
        )
        await uow.commit()
    caplog.set_level(logging.INFO)
    answer = await chat.choose("anna", menus.pack(menu.id, 0))
    assert "nicht gültig" in answer and "schiefgegangen" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any(r.levelno == logging.WARNING for r in caplog.records)


async def test_after_an_error_the_menu_has_its_plain_header(chat: Transcript) -> None:
    await chat.send("anna", "/start")
    confused = await chat.send("anna", "xyzzy plugh")
    assert "nicht verstanden" in confused
    answer = await chat.send("anna", "/start fund-999")  # no such item: a domain error
    assert "nicht verstanden" not in answer, answer
    assert "Was möchten Sie tun?" in answer


async def test_the_wallet_header_counts_only_active_entries(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path
) -> None:
    provider = DemoProvider(PUBLIC_URL)
    chat = Transcript(db, city, clock, media_dir=tmp_path / "media", payments=provider)
    await chat.send("anna", "/start")
    env = env_with(provider, city=city, clock=clock)
    anna = await citizen_id(db, "anna")
    async with db.uow() as uow:
        paid = await vouchers.buy(uow, env, anna, now=clock.now(), value_cents=2500)
        for _ in range(2):
            await vouchers.buy(uow, env, anna, now=clock.now(), value_cents=1000)
        await uow.commit()
    async with db.uow() as uow:
        await payments.settle(uow, env, paid.payment.id or 0, PAID, clock.now())
        await uow.commit()
    answer = await chat.send("anna", "/wallet")
    assert "3 Einträge (1 aktiv)" in answer, answer


async def test_buy_twice_gives_the_same_reservation_even_at_once(
    db: Database, city: City, clock: FrozenClock
) -> None:
    now = clock.now()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    anna = await person(db, "anna", now)
    bike = await list_item(db, city, staff, now)
    async with db.uow() as first:
        reservation = await auction_buy.buy(first, city, anna, bike, now)

        async def second_press() -> int:
            async with db.uow() as uow:
                again = await auction_buy.buy(uow, city, anna, bike, now)
                await uow.commit()
                return again.id or 0

        # the second press runs while the first is still open (another replica, a linked
        # chat): on PostgreSQL it waits for the item row, on SQLite for the write lock
        pressed = asyncio.create_task(second_press())
        await asyncio.sleep(0.2)
        await first.commit()
    assert await pressed == reservation.id
    async with db.uow() as uow:
        payment = await auction_buy.start_payment(
            uow, env_with(FakeProvider(), city=city), anna, reservation.id or 0, now
        )
        await payments.settle(uow, env_with(FakeProvider(), city=city), payment.id or 0, PAID, now)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="already paid"):
            await auction_buy.buy(uow, city, anna, bike, now)
    ben = await person(db, "ben", now)
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="already been sold"):
            await auction_buy.buy(uow, city, ben, bike, now)


async def test_someone_else_is_still_told_so(db: Database, city: City, clock: FrozenClock) -> None:
    now = clock.now()
    staff = await person(db, "frank", now, "staff", "fundbuero")
    anna, ben = await person(db, "anna", now), await person(db, "ben", now)
    bike = await list_item(db, city, staff, now)
    async with db.uow() as uow:
        await auction_buy.buy(uow, city, anna, bike, now)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="Someone else"):
            await auction_buy.buy(uow, city, ben, bike, now)


async def test_lone_surrogates_are_dropped_at_the_door(
    chat: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    """'\\ud800' is valid JSON: a webhook or a Matrix event can carry one; stored, it would
    break every later UTF-8 write (the export of /mydata) with UnicodeEncodeError."""
    caplog.set_level(logging.INFO)
    await chat.send("anna", "/start")
    await chat.send("anna", "Mit einem Menschen sprechen")
    answer = await chat.send("anna", "Hallo \ud800, meine Laterne \x00 ist kaputt \udfff")
    assert answer and "schiefgegangen" not in answer
    assert "schiefgegangen" not in await chat.send("anna", "/mydata \udc00")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_nul_in_a_button_argument_reaches_no_query(
    chat: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's text holds no NUL ("invalid byte sequence"): found by bench/fuzz.py."""
    caplog.set_level(logging.INFO)
    await chat.send("anna", "/start")
    async with chat.db.uow() as uow:
        menu = await menus.store_menu(
            uow,
            channel="console",
            chat_id="anna",
            text="",
            buttons=[Button("?", "auction.browse", "\x00"), Button("?", "form.discard", "\x00")],
            now=chat.clock.now(),
        )
        await uow.commit()
    for index in (0, 1):
        assert "schiefgegangen" not in await chat.choose("anna", menus.pack(menu.id, index))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
