"""Transcripts: staff list an item with a photo; a resident browses, gets an alert, buys with
the (fake) demo provider and finds the pickup code in the wallet."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.jobs import load, run_job
from services.auction import wishes as auction_wishes
from services.city import City
from services.clock import FrozenClock
from services.identity import accounts as identity
from services.wallet import sources as wallet
from storage.db import Database
from tests.auction.support import FakeProvider, list_item, person, png
from tests.support.chat import Transcript


@pytest.fixture
def shop(db: Database, city: City, clock: FrozenClock, tmp_path: Path) -> Transcript:
    return Transcript(db, city, clock, media_dir=tmp_path / "media", payments=FakeProvider())


async def test_staff_lists_an_item_with_a_photo(shop: Transcript) -> None:
    await person(shop.db, "frank", shop.clock.now(), "staff", "fundbuero")
    await shop.send("frank", "/start")
    answer = await shop.send("frank", "/fundsache")
    assert "Please send a photo of the item." in answer
    answer = await shop.send("frank", "a bike")
    assert "Please send a photo here (not text)." in answer
    answer = await shop.upload("frank", "scan.pdf", "application/pdf", b"%PDF-1.4 x")
    assert "Please send a photo (JPEG or PNG)." in answer
    answer = await shop.upload("frank", "bike.png", "image/png", png())
    assert "Title, e.g." in answer
    answer = await shop.upload("frank", "bike.png", "image/png", png())
    assert "Please type your answer as text." in answer
    await shop.send("frank", "Damenfahrrad Gazelle, blau")
    await shop.send("frank", "28 Zoll, Korb vorne")
    answer = await shop.press("frank", "Bicycles")
    assert "Where was it found?" in answer
    await shop.send("frank", "Bahnhof Ahaus")
    await shop.send("frank", "01.10.2026")
    await shop.send("frank", "20.10.2026")
    await shop.send("frank", "120")
    answer = await shop.send("frank", "150")
    # the summary checks the rules across answers, re-asking one answer at a time
    assert "holding period of 6 months" in answer
    answer = await shop.send("frank", "10.03.2026")
    assert "public notice" in answer and "runs until" in answer
    answer = await shop.send("frank", "01.04.2026")
    assert "The floor price must be below the start price of €120.00" in answer
    answer = await shop.send("frank", "30")
    assert "Please check your application: List a found item" in answer
    assert "reaches the floor after 75 days" in answer
    answer = await shop.press("frank", "Send")
    assert (
        "Listed as item 1: Damenfahrrad Gazelle, blau, from €120.00 today down to €30.00"
    ) in answer
    answer = await shop.press("frank", "Show item")
    assert "[image:" in answer and "Today's price: €120.00" in answer


async def test_residents_cannot_list(shop: Transcript) -> None:
    answer = await shop.send("anna", "/fundsache")
    assert "Nur das Fundbüro kann Gegenstände in die Auktion stellen." in answer
    await person(shop.db, "petra", shop.clock.now(), "staff", "buergerbuero")
    answer = await shop.send("petra", "/fundsache")
    assert "Only the lost property office can list items" in answer


async def test_cheaper_by_the_day_alert_buy_pickup(shop: Transcript) -> None:
    now = shop.clock.now()
    staff = await person(shop.db, "frank", now, "staff", "fundbuero")
    bike = await list_item(shop.db, shop.city, staff, now, start=10_000, floor=4_000)
    await person(shop.db, "anna", now)
    answer = await shop.send("anna", "lost and found")
    assert "1 items on offer" in answer and "by 1 % of the start price" in answer
    await shop.press("anna", "Bicycles")
    answer = await shop.press("anna", "Damenfahrrad")
    assert "Today's price: €100.00 · tomorrow: €99.00 · floor: €40.00" in answer
    answer = await shop.press("anna", "Price curve")
    assert "price-curve-1.png" in answer
    await shop.press("anna", "Back")
    await shop.press("anna", "Alert me about similar items")
    answer = await shop.press("anna", "No keyword")
    assert "Up to which price?" in answer
    answer = await shop.send("anna", "97,50")
    assert "Deal alert on: Bicycles, up to €97.50" in answer
    # the price falls, night by night (the scheduler's job, run as it would at 00:05)
    daily = load()["auction.daily"]
    for night in (1, 2):
        shop.clock.set(now.replace(hour=0, minute=5) + timedelta(days=night))
        assert (await run_job(shop.db, shop.env, daily, shop.clock.now())).ran
        assert await shop.notifications("anna") == ""
    shop.clock.set(now.replace(hour=0, minute=5) + timedelta(days=3))
    await run_job(shop.db, shop.env, daily, shop.clock.now())
    shown = await shop.notifications("anna")
    assert "Deal alert: Damenfahrrad Gazelle, blau now costs €97.00 (your limit: €97.50)." in shown
    assert not (await run_job(shop.db, shop.env, daily, shop.clock.now())).ran
    assert "[1]" not in shown  # a notification's options are not picked by a bare number
    assert "▸ Buy at today's price" in shown
    answer = await shop.send("anna", "Buy at today's price")  # typed: the option's label
    assert "is reserved for you at €97.00." in answer
    assert "Pay now: http://127.0.0.1:8080/pay/1-" in answer
    await person(shop.db, "ben", now)
    answer = await shop.send("ben", f"/start fund-{bike}")
    assert "Someone is paying for it right now" in answer
    assert "Buy at today's price" not in answer
    answer = await shop.press("anna", "Pay (demo)")
    assert "Paid (demo – no money moved). Thank you!" in answer
    shown = await shop.notifications("anna")
    assert "Thank you, paid: Damenfahrrad Gazelle, blau is yours." in shown
    answer = await shop.press("anna", "Show pickup code")
    assert "is paid (€97.00). Show this pickup code at Bürgerbüro, Rathausplatz 1" in answer
    assert "[image:" in answer
    async with shop.db.uow() as uow:
        account = await identity.find_account(uow, "console", "anna")
        assert account is not None
        entries = await wallet.entries(uow, shop.city, account.citizen_id, shop.clock.now())
    assert [(e.kind, e.status, e.action) for e in entries] == [
        ("pickup", "valid", "auction.pickup")
    ]
    assert entries[0].code in answer.replace("-", "")
    answer = await shop.send("ben", f"/start fund-{bike}")
    assert "This item has been sold." in answer


async def test_bad_wish_prices_and_lapsed_payment(shop: Transcript) -> None:
    now = shop.clock.now()
    staff = await person(shop.db, "frank", now, "staff", "fundbuero")
    bike = await list_item(shop.db, shop.city, staff, now, start=10_000, floor=4_000)
    await person(shop.db, "anna", now)
    await shop.send("anna", f"/start fund-{bike}")
    await shop.press("anna", "Set a wish price")
    answer = await shop.send("anna", "120")
    assert "A wish price must be below today's price of" in answer
    answer = await shop.send("anna", "39,99")
    assert "The price never falls below" in answer
    answer = await shop.upload("anna", "x.png", "image/png", png())
    assert "Please type the amount as text" in answer
    answer = await shop.send("anna", "55")
    assert "Noted: your wish price for Damenfahrrad Gazelle, blau is" in answer
    answer = await shop.send("anna", f"/start fund-{bike}")
    assert "Your wish price:" in answer
    answer = await shop.press("anna", "Buy at today's price")
    assert "is reserved for you" in answer
    shop.clock.advance(timedelta(minutes=31))
    answer = await shop.press("anna", "Pay (demo)")
    assert "This payment link has expired. Nothing was charged." in answer
    async with shop.db.uow() as uow:
        from storage.models.payments import Payment

        payment = await uow.session.get(Payment, 1)
        assert payment is not None and payment.status == "expired"


async def test_payments_not_wired_reserves_nothing(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path
) -> None:
    plain = Transcript(db, city, clock, media_dir=tmp_path / "m")
    staff = await person(db, "frank", clock.now(), "staff", "fundbuero")
    bike = await list_item(db, city, staff, clock.now())
    await plain.send("anna", f"/start fund-{bike}")  # a German-speaking resident
    answer = await plain.press("anna", "Zum heutigen Preis kaufen")
    assert "Bezahlen ist im Moment nicht möglich, deshalb wurde nichts reserviert." in answer
    answer = await plain.send("anna", f"/start fund-{bike}")
    assert "Preis heute: 100,00 € · morgen: 99,00 € · Mindestpreis: 40,00 €" in answer.replace(
        "\xa0", " "
    )
    assert "Zum heutigen Preis kaufen" in answer


async def test_a_wish_won_at_night_can_be_paid_by_the_winner_from_the_item(
    shop: Transcript, city: City
) -> None:
    now = shop.clock.now()  # Wednesday 25 Nov, 10:00
    staff = await person(shop.db, "frank", now, "staff", "fundbuero")
    ben = await person(shop.db, "ben", now)
    await person(shop.db, "anna", now)
    bike = await list_item(shop.db, city, staff, now, start=10_000, floor=4_000)
    await shop.send("ben", "/start")
    await shop.send("anna", "/start")

    async with shop.db.uow() as uow:
        await auction_wishes.place_wish(uow, city, ben, bike, 9_800, now)
        await uow.commit()
    shop.clock.set(now.replace(hour=0, minute=5) + timedelta(days=2))  # Friday 00:05: 98 €
    assert (await run_job(shop.db, shop.env, load()["auction.daily"], shop.clock.now())).ran
    told = await shop.notifications("ben")
    assert "Your wish price was reached" in told
    assert "Please pay by 28 Nov 2026, 20:00" in told  # until 20:00 of the next day
    shop.clock.advance(timedelta(hours=9))  # Friday morning, ben looks at the item
    shown = await shop.press("ben", "Show item")
    assert "Reserved for you at €98.00 until 28 Nov 2026, 20:00" in shown
    assert "Someone is paying" not in shown
    # anyone else looking at it meanwhile: someone is paying, no pay button
    assert "Someone is paying for it right now" in await shop.send("anna", f"/start fund-{bike}")
    paid = await shop.press("ben", "Pay now")
    assert "is reserved for you at €98.00." in paid
    assert "(the link is valid until 28 Nov 2026, 20:00" in paid
    await shop.press("ben", "Pay (demo)")
    async with shop.db.uow() as uow:
        entries = await wallet.entries(uow, shop.city, ben, shop.clock.now())
    assert [(e.kind, e.status) for e in entries] == [("pickup", "valid")]
