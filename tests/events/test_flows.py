"""Events in the chat: transcripts of organisers and residents (German, the default language)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from services.clock import FrozenClock
from storage.models.events import Ticket
from tests.events.conftest import FakeProvider, load_event, make_event, make_organiser
from tests.support.chat import Transcript


async def _codes(chat: Transcript) -> list[str]:
    async with chat.db.uow() as uow:
        return list((await uow.session.execute(select(Ticket.code).order_by(Ticket.id))).scalars())


async def test_organiser_publishes_an_event_through_the_form(chat: Transcript) -> None:
    assert "nichts geändert" in await chat.send("anna", "/myevents")
    await make_organiser(chat)
    answer = await chat.send("olaf", "/myevents")
    assert "keine aktuellen Veranstaltungen" in answer
    answer = await chat.press("olaf", "Veranstaltung veröffentlichen")
    assert "Wie heißt die Veranstaltung?" in answer
    await chat.send("olaf", "Adventskonzert im Schlosspark")
    await chat.send("olaf", "Musikverein und Kinderchor")
    await chat.send("olaf", "Schlosspark Ahaus")
    assert "Vergangenheit" in await chat.send("olaf", "24.11.2026 18:00")
    assert "Datum und Uhrzeit" in await chat.send("olaf", "morgen abend")
    await chat.send("olaf", "12.12.2026 18:00")
    await chat.send("olaf", "17:00")  # before the start: asked again at the summary
    assert "zwei Nachkommastellen" in await chat.send("olaf", "12,505")
    await chat.send("olaf", "12,50")
    assert "von 1 bis" in await chat.send("olaf", "0")
    await chat.send("olaf", "200")
    answer = await chat.send("olaf", "12.12.2026 19:00")
    assert "Das Ende muss nach dem Beginn liegen." in answer
    answer = await chat.send("olaf", "20:00")
    assert "Der Buchungsschluss darf nicht nach dem Beginn liegen." in answer
    answer = await chat.send("olaf", "12.12.2026 16:00")
    assert "• Beginn: 12.12.2026, 18:00" in answer and "• Preis: 12,50\xa0€" in answer
    answer = await chat.press("olaf", "Absenden")
    assert "Veröffentlicht: Adventskonzert im Schlosspark, Sa. 12.12.2026, 18:00–20:00" in answer
    event = await load_event(chat.db, 1)
    assert event.price_cents == 1250 and event.capacity == 200
    assert event.starts_at.hour == 17  # 18:00 in Berlin is 17:00 UTC in December
    answer = await chat.send("anna", "Gibt es ein Konzert?")
    assert "Kommende Veranstaltungen in Ahaus:" in answer
    assert (
        "Adventskonzert im Schlosspark – Sa. 12.12.2026, 18:00–20:00 – 12,50\xa0€ – 200 Plätze frei"
        in answer
    )


async def test_resident_books_a_free_event_and_gets_tickets_qr_and_calendar(
    chat: Transcript, clock: FrozenClock
) -> None:
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Digital-Sprechstunde", capacity=3)
    await chat.send("anna", "Veranstaltungen")
    answer = await chat.press("anna", "Digital-Sprechstunde")
    assert "3 Plätze frei" in answer and "kostenlos" in answer
    answer = await chat.press("anna", "Tickets buchen")
    assert "von 1 bis 3" in answer
    assert "höchstens 6 Tickets" in await chat.send("anna", "7")
    assert "Anzahl der Tickets" in await chat.send("anna", "zwei")
    answer = await chat.send("anna", "2")
    assert "Gebucht: 2 Tickets für Digital-Sprechstunde" in answer
    answer = await chat.press("anna", "Meine Tickets")
    assert answer.count("gültig") == 2
    answer = await chat.press("anna", "1. Digital-Sprechstunde")
    code = (await _codes(chat))[0]
    assert f"Code: {code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}" in answer
    reply = next(r for r in chat.last["anna"] if r.media is not None)
    assert reply.media is not None and reply.media.mime == "image/png" and reply.private
    answer = await chat.press("anna", "In den Kalender")
    reply = next(r for r in chat.last["anna"] if r.media is not None)
    assert reply.media is not None and reply.media.filename.endswith("-digital-sprechstunde.ics")
    assert reply.media.mime == "text/calendar"
    assert b"SUMMARY:Digital-Sprechstunde\r\n" in reply.media.data
    assert b"BEGIN:VTIMEZONE" in reply.media.data
    assert b"DTSTART;TZID=Europe/Berlin:" in reply.media.data
    first_uid = re.search(rb"UID:(\S+)", reply.media.data)
    await chat.press("anna", "Meine Tickets")  # the other ticket: the same entry, same UID
    await chat.press("anna", "2. Digital-Sprechstunde")
    await chat.press("anna", "In den Kalender")
    again = next(r for r in chat.last["anna"] if r.media is not None)
    assert again.media is not None and first_uid is not None
    assert re.search(rb"UID:(\S+)", again.media.data)[1] == first_uid[1]  # type: ignore[index]
    # the last place: ben asks for 2, gets told only 1 is left
    await chat.send("ben", "/events")
    await chat.press("ben", "Digital-Sprechstunde")
    await chat.press("ben", "Tickets buchen")
    assert "nur noch 1 Plätze frei" in await chat.send("ben", "2")
    assert (await load_event(chat.db, 1)).taken == 2


async def test_paid_booking_with_demo_payment_and_lapsed_hold(
    pay_chat: Transcript, clock: FrozenClock, provider: FakeProvider
) -> None:
    chat = pay_chat
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Kinder-Theater", price=600, capacity=5)
    await chat.send("anna", "ticket")
    await chat.press("anna", "Kinder-Theater")
    await chat.press("anna", "Tickets buchen")
    answer = await chat.send("anna", "3")
    assert "Ich halte 3 Plätze für Kinder-Theater für Sie frei." in answer
    assert "Bitte bezahlen Sie 18,00\xa0€ hier (der Link gilt bis 25.11.2026, 10:30" in answer
    assert "Jetzt bezahlen: http://127.0.0.1:8080/pay/1-" in answer
    assert "bereits" not in answer
    answer = await chat.press("anna", "Bezahlen (Demo)")
    assert "Bezahlt (Demo – es ist kein Geld geflossen)." in answer
    shown = await chat.notifications("anna")
    assert "Zahlung erhalten: Ihre 3 Tickets für Kinder-Theater" in shown
    # ben holds the last 2 places but does not pay in time
    await chat.send("ben", "ticket")
    await chat.press("ben", "Kinder-Theater")
    await chat.press("ben", "Tickets buchen")
    await chat.send("ben", "2")
    await chat.send("cem", "ticket")
    assert "ausverkauft" in await chat.press("cem", "Kinder-Theater")
    clock.advance(timedelta(minutes=31))
    answer = await chat.send("ben", "Bezahlen (Demo)")
    assert "Dieser Zahlungslink ist abgelaufen. Es wurde nichts abgebucht." in answer
    assert (await load_event(chat.db, 1)).taken == 3
    await chat.send("cem", "ticket")
    assert "2 Plätze frei" in await chat.press("cem", "Kinder-Theater")


async def test_paid_event_without_a_payment_provider(chat: Transcript, clock: FrozenClock) -> None:
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Stadtführung", price=800)
    await chat.send("anna", "veranstaltung")
    await chat.press("anna", "Stadtführung")
    await chat.press("anna", "Tickets buchen")
    answer = await chat.send("anna", "1")
    assert "Bezahlen ist gerade nicht möglich" in answer
    assert (await load_event(chat.db, 1)).taken == 0


async def test_check_in_at_the_door(chat: Transcript, clock: FrozenClock) -> None:
    olaf = await make_organiser(chat)
    await make_organiser(chat, "otto")
    await make_event(chat.db, olaf, clock.now(), title="Konzert", capacity=10)
    await chat.send("anna", "konzert")
    await chat.press("anna", "Konzert")
    await chat.press("anna", "Tickets buchen")
    await chat.send("anna", "2")
    first, second = await _codes(chat)
    await chat.send("olaf", "/myevents")
    answer = await chat.press("olaf", "1. Konzert")
    assert "Tickets: 2 von 10 verkauft" in answer
    answer = await chat.press("olaf", "Tickets einchecken")
    assert "Geben Sie den Ticket-Code ein" in answer
    typo = first[:5] + ("Z" if first[5] != "Z" else "Y") + first[6:]
    assert "Tippfehler" in await chat.send("olaf", typo)
    assert "kein Ticket-Code" in await chat.send("olaf", "Hallo")
    answer = await chat.send("olaf", first.lower())
    assert "✅ Gültig." in answer
    answer = await chat.press("olaf", "Einchecken")
    assert "✅ Eingecheckt" in answer and "1 von 2 sind drin" in answer
    clock.advance(timedelta(minutes=5))
    answer = await chat.send("olaf", first)
    assert "❌ Bereits eingecheckt am" in answer and "um 10:00 Uhr" in answer
    assert "Einchecken" not in answer
    # the QR code's deep link opens the ticket at the door too
    answer = await chat.send("olaf", f"/start t-{second}")
    assert "✅ Gültig." in answer
    # another organiser cannot check it in
    answer = await chat.send("otto", f"/start t-{second}")
    assert "eines anderen Veranstalters" in answer and "Einchecken" not in answer
    # the holder opening the link sees the ticket; someone else sees nothing of it
    answer = await chat.send("anna", f"/start t-{first}")
    assert "Ticket für Konzert" in answer and "eingecheckt am" in answer
    answer = await chat.send("ben", f"/start t-{second}")
    assert "gehört jemand anderem" in answer and second[:4] not in answer
    assert "Konzert" not in answer
    # a resident cannot use the organiser's commands
    answer = await chat.send("ben", "/myevents")
    assert "nichts geändert" in answer


async def test_resident_cancels_a_ticket_and_organiser_calls_off_the_event(
    pay_chat: Transcript, clock: FrozenClock, provider: FakeProvider
) -> None:
    chat = pay_chat
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Konzert", price=1000, capacity=10, days=5)
    for user in ("anna", "ben"):
        await chat.send(user, "konzert")
        await chat.press(user, "Konzert")
        await chat.press(user, "Tickets buchen")
        await chat.send(user, "2")
        await chat.press(user, "Bezahlen (Demo)")
    await chat.send("anna", "/tickets")
    await chat.press("anna", "1. Konzert")
    answer = await chat.press("anna", "Ticket stornieren")
    assert "Sie erhalten 10,00\xa0€ zurück." in answer
    answer = await chat.press("anna", "Ja, Ticket stornieren")
    assert "10,00\xa0€ werden erstattet" in answer
    assert provider.refunds == [(1, 1000)]
    clock.advance(timedelta(days=3, hours=12))  # now less than 48 hours before the start
    await chat.send("ben", "/tickets")
    answer = await chat.press("ben", "1. Konzert")
    assert "Ticket stornieren" not in answer
    await chat.send("olaf", "/myevents")
    await chat.press("olaf", "1. Konzert")
    answer = await chat.press("olaf", "Veranstaltung absagen")
    assert "wirklich absagen" in answer
    answer = await chat.press("olaf", "Ja, Veranstaltung absagen")
    assert "2 Ticketinhaber werden benachrichtigt" in answer
    shown = await chat.notifications("ben")
    assert "wurde vom Veranstalter abgesagt" in shown
    assert sorted(provider.refunds) == [(1, 1000), (1, 1000), (2, 2000)]


async def test_english_and_a_ticket_of_another_event_at_the_door(
    chat: Transcript, clock: FrozenClock
) -> None:
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Concert", capacity=10)
    await make_event(chat.db, olaf, clock.now(), title="City tour", capacity=10, days=12)
    await chat.send("anna", "/language en")
    answer = await chat.send("anna", "events")
    assert "Upcoming events in Ahaus:" in answer and "free – 10 places left" in answer
    await chat.press("anna", "City tour")
    await chat.press("anna", "Book tickets")
    assert "Booked: 1 ticket for City tour" in await chat.send("anna", "1")
    (code,) = await _codes(chat)
    await chat.send("olaf", "/myevents")
    await chat.press("olaf", "1. Concert")
    await chat.press("olaf", "Tickets einchecken")
    answer = await chat.send("olaf", code)
    assert "❌ Nicht für diese Veranstaltung: Dieses Ticket gilt für City tour." in answer
    assert "Einchecken" not in answer


async def test_at_the_door_a_number_checks_in_and_a_wrong_code_keeps_the_way_out(
    chat: Transcript, clock: FrozenClock
) -> None:
    """ "✅ Gültig [1] Einchecken" -> 1 once answered "Das ist kein Ticket-Code" and only /menu
    got out: a ticket code is never a bare number, so the number picks."""
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Konzert", capacity=10)
    await chat.send("anna", "konzert")
    await chat.press("anna", "Konzert")
    await chat.press("anna", "Tickets buchen")
    await chat.send("anna", "1")
    (code,) = await _codes(chat)
    await chat.send("olaf", "/myevents")
    await chat.press("olaf", "1. Konzert")
    await chat.press("olaf", "Tickets einchecken")
    wrong = await chat.send("olaf", "Hallo")
    assert "kein Ticket-Code" in wrong and "[1] Einlass beenden" in wrong
    valid = await chat.send("olaf", code)
    assert "✅ Gültig." in valid and "[1] Einchecken" in valid
    answer = await chat.send("olaf", "1")
    assert "✅ Eingecheckt" in answer and "1 von 1 sind drin" in answer
