"""Demo data, /deleteme and /mydata with bookings and tickets, and the wallet source."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import build_app
from bot.demo import fill_demo_data
from bot.settings import Settings
from services.clock import FrozenClock
from services.events import booking as svc
from services.wallet import sources as wallet
from storage.db import Database
from storage.models.events import Booking, Event, Ticket
from storage.models.payments import Payment
from tests.events.conftest import FakeProvider, citizen_id, make_event, make_organiser
from tests.support.chat import Transcript
from tests.support.env import env_with


async def test_demo_data_adds_ahaus_events_by_olaf(tmp_path: Path, clock: FrozenClock) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    await db.create_all()
    app = build_app(Settings(database_url=db.url), clock=clock, db=db)
    try:
        report = await fill_demo_data(app)
        assert "4 events by olaf (organiser)" in report
        transcript = Transcript(db, app.city, clock, media_dir=tmp_path)
        answer = await transcript.send("ben", "veranstaltungen")
        assert "Weihnachtsmarkt-Konzert im Schlosspark" in answer
        assert 'Stadtführung "Ahauser Geschichte"' in answer
        assert "Digital-Sprechstunde in der Stadtbücherei" in answer and "kostenlos" in answer
        answer = await transcript.send("olaf", "/myevents")
        assert "Kinder-Theater" in answer and "1 von 12 gebucht" in answer
        answer = await transcript.send("anna", "/tickets")
        assert "Digital-Sprechstunde" in answer and "gültig" in answer
        async with db.uow() as uow:
            events = (await uow.session.execute(select(Event))).scalars().all()
            assert all(
                e.starts_at > clock.now() and e.booking_deadline < e.starts_at for e in events
            )
    finally:
        await app.close()


async def test_wallet_lists_tickets_and_open_reservations(
    pay_chat: Transcript, clock: FrozenClock, provider: FakeProvider
) -> None:
    chat = pay_chat
    olaf = await make_organiser(chat)
    free = await make_event(chat.db, olaf, clock.now(), title="Sprechstunde")
    paid = await make_event(chat.db, olaf, clock.now(), title="Konzert", price=500)
    await chat.send("anna", "/start")
    anna = await citizen_id(chat.db, "anna")
    async with chat.db.uow() as uow:
        for event_id in (free, paid):
            await svc.book(
                uow,
                env_with(provider),
                citizen_id=anna,
                event_id=event_id,
                quantity=1,
                rules=svc.EventRules(),
                now=clock.now(),
            )
        await uow.commit()
    async with chat.db.uow() as uow:
        entries = await wallet.entries(uow, chat.city, anna, clock.now())
    tickets = [e for e in entries if e.kind == "ticket"]
    assert {(e.status, e.action) for e in tickets} == {
        ("valid", "events.ticket"),
        ("pending", "events.booking"),
    }
    valid = next(e for e in tickets if e.status == "valid")
    assert len(valid.code) == 14 and dict(valid.title_params) == {"event": "Sprechstunde"}
    # the entry's button opens the ticket with its QR code
    answer = await chat.send("anna", "/tickets")
    assert "Konzert: 1 Platz reserviert" in answer
    answer = await chat.press("anna", "1. Sprechstunde")
    assert "Ticket für Sprechstunde" in answer


async def test_deleteme_keeps_bookkeeping_and_drops_personal_data(
    pay_chat: Transcript, clock: FrozenClock, provider: FakeProvider
) -> None:
    chat = pay_chat
    olaf = await make_organiser(chat)
    await make_event(chat.db, olaf, clock.now(), title="Konzert", price=700)
    await chat.send("anna", "konzert")
    await chat.press("anna", "Konzert")
    await chat.press("anna", "Tickets buchen")
    await chat.send("anna", "2")
    await chat.press("anna", "Bezahlen (Demo)")
    await chat.send("anna", "/mydata")
    export = next(r.media for r in chat.last["anna"] if r.media is not None)
    assert export is not None
    data = json.loads(export.data)["data"]
    assert len(data["event_ticket"]) == 2 and data["event_booking"][0]["quantity"] == 2
    asked = await chat.send("anna", "/deleteme")
    assert "Ticket für Konzert" in asked  # the tickets to come are named first
    assert "gelöscht" in await chat.press("anna", "Trotzdem löschen")
    async with chat.db.uow() as uow:
        assert len((await uow.session.execute(select(Booking))).scalars().all()) == 1
        assert len((await uow.session.execute(select(Payment))).scalars().all()) == 1
        assert len((await uow.session.execute(select(Ticket))).scalars().all()) == 2
    # the organiser deleting their account keeps the event for the ticket holders
    await chat.send("olaf", "/deleteme")
    assert "gelöscht" in await chat.press("olaf", "Ja, meine Daten löschen")
    async with chat.db.uow() as uow:
        assert len((await uow.session.execute(select(Event))).scalars().all()) == 1
