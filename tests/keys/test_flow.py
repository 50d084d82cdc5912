"""Transcripts of digital keys on the console: booking a bike box in German (menu, command and
free text), the key with its QR code in the wallet, a paid room through the one checkout with
a refund on cancelling, passing a key on with a hand-over code, and the history with what the
lock reported."""

from __future__ import annotations

from datetime import timedelta

from services.keys import lock as locks
from storage.db import Database
from tests.events.conftest import FakeProvider
from tests.keys.conftest import book
from tests.support.chat import Transcript


async def test_anna_books_a_bike_box_in_chat(chat: Transcript, people: dict[str, int]) -> None:
    start = await chat.send("anna", "/schluessel")
    assert "Was möchten Sie buchen?" in start
    assert "Fahrradboxen Bahnhof (kostenlos)" in start
    facility = await chat.press("anna", "Fahrradboxen Bahnhof")
    assert "Welcher Tag?" in facility and "Heute" in facility
    day = await chat.press("anna", "Heute")
    assert "ganzer Tag (10 frei)" in day
    confirm = await chat.press("anna", "ganzer Tag")
    assert "Fahrradboxen Bahnhof" in confirm and "kostenlos" in confirm
    booked = await chat.press("anna", "Ja, buchen")
    assert "Gebucht: Schlüssel Fahrradboxen Bahnhof Nr. 1" in booked
    assert "[image:" in booked and "v1." in booked  # the QR code and the key as text
    assert "gebucht" in booked and "Schlüssel ausgestellt" in booked  # the history

    wallet = await chat.send("anna", "/wallet")
    assert "Schlüssel Fahrradboxen Bahnhof Nr. 1" in wallet
    shown = await chat.press("anna", "Schlüssel Fahrradboxen Bahnhof")
    assert "[image:" in shown and "Buchung stornieren" in shown

    # free text finds it too, and ben (English) gets the next box
    found = await chat.send("ben", "Fahrradbox buchen")
    assert "Which day?" in found
    await chat.press("ben", "Today")
    await chat.press("ben", "whole day (9 free)")
    booked = await chat.press("ben", "Yes, book it")
    assert "Booked: Key Fahrradboxen Bahnhof no. 2" in booked


async def test_the_same_slot_twice_is_refused(chat: Transcript, people: dict[str, int]) -> None:
    for _ in range(2):
        await chat.send("anna", "/keys")
        await chat.press("anna", "Fahrradboxen Bahnhof")
        await chat.press("anna", "Heute")
        await chat.press("anna", "ganzer Tag")
        answer = await chat.press("anna", "Ja, buchen")
    assert "Sie haben diesen Zeitraum schon gebucht." in answer


async def test_paid_room_checkout_refund_and_history(
    pay_chat: Transcript, provider: FakeProvider, people: dict[str, int]
) -> None:
    chat = pay_chat
    await chat.send("anna", "/schluessel")
    await chat.press("anna", "Gemeinschaftsraum Wüllen")
    day = await chat.press("anna", "Morgen")
    assert "10:00–12:00 (1 frei)" in day
    confirm = await chat.press("anna", "10:00–12:00")
    assert "10,00\xa0€ pro Zeitraum" in confirm
    held = await chat.press("anna", "Ja, buchen")
    assert "Bitte bezahlen Sie 10,00\xa0€" in held
    paid = await chat.press("anna", "Bezahlen (Demo)")
    assert "Bezahlt" in paid
    note = await chat.notifications("anna")
    assert "Zahlung eingegangen: Ihr Schlüssel für Gemeinschaftsraum Wüllen" in note
    key = await chat.press("anna", "Schlüssel zeigen")
    assert "[image:" in key and "bezahlt" in key

    # ben cannot book the same slot: the room has one lock
    await chat.send("ben", "/keys")
    await chat.press("ben", "Gemeinschaftsraum Wüllen")
    day = await chat.press("ben", "Tomorrow")
    assert "10:00–12:00" not in day

    cancel = await chat.press("anna", "Buchung stornieren")
    assert "Sie erhalten 10,00\xa0€ zurück." in cancel
    done = await chat.press("anna", "Ja, stornieren")
    assert "storniert" in done and "10,00\xa0€ werden erstattet" in done
    assert provider.refunds and provider.refunds[-1][1] == 1000


async def test_anna_passes_her_key_on_to_ben(chat: Transcript, people: dict[str, int]) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    chat.env.links.chat_link = lambda payload: f"https://t.me/stadtlotse_bot?start={payload}"
    await chat.send("anna", "/keys")
    await chat.press("anna", "Meine Buchungen")
    await chat.press("anna", "1. Schlüssel Fahrradboxen Bahnhof")
    handover = await chat.press("anna", "Schlüssel weitergeben")
    assert "Übergabecode" in handover
    assert "https://t.me/stadtlotse_bot?start=k-" in handover  # the deep link on Telegram
    code = next(w for w in handover.split() if w.count("-") == 3 and len(w) == 17)

    await chat.send("ben", "/keys")
    await chat.press("ben", "Receive a key")
    wrong = await chat.send("ben", "ABCD-EFGH-JKMN-P")
    assert "typo" in wrong or "No key waits under this code" in wrong
    got = await chat.send("ben", f"/start k-{code}")
    assert "The key is yours now." in got and "[image:" in got
    note = await chat.notifications("anna")
    assert "weitergegeben" in note
    shown = await chat.send("anna", "/keys")
    mine = await chat.press("anna", "Meine Buchungen")
    assert "Fahrradboxen Bahnhof" in shown + mine
    details = await chat.press("anna", "1. Schlüssel Fahrradboxen Bahnhof")
    assert "weitergegeben" in details and "[image:" not in details
    again = await chat.send("carla", f"/start k-{code}")
    assert "Unter diesem Code wartet kein Schlüssel" in again
    assert booking.id


async def test_the_history_shows_what_the_lock_reported(
    chat: Transcript, people: dict[str, int], db: Database
) -> None:
    booking = await book(db, chat.env, people["anna"])
    event = locks.LockEvent(booking.id or 0, locks.OPENED, chat.clock.now() + timedelta(minutes=3))
    async with db.uow() as uow:
        await locks.record_events(uow, chat.city, booking.lock_id, [event], chat.clock.now())
        await uow.commit()
    await chat.send("anna", "/keys")
    await chat.press("anna", "Meine Buchungen")
    details = await chat.press("anna", "1. Schlüssel")
    assert "am Schloss geöffnet" in details
