"""Booking, paying, lapsing, cancelling and checking in, through the services on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from services.clock import FrozenClock
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.events import booking as svc
from services.events import tickets
from services.identity import accounts as identity
from services.payments import checkout, provider_calls
from services.payments import lifecycle as payments
from services.payments.provider import ProviderUnavailable
from storage.db import Database
from storage.models.events import CANCELLED, CHECKED_IN, CONFIRMED, HELD, LAPSED, Booking, Ticket
from storage.models.outbox import Notification, StoredFile
from storage.models.payments import EXPIRED, PAID, REFUNDED, Payment
from tests.conftest import BERLIN
from tests.events.conftest import FakeProvider, load_event, make_event
from tests.support.env import env_with

RULES = svc.EventRules()


async def _people(db: Database, clock: FrozenClock, *names: str) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for name in names:
            citizen, _ = await identity.contact(
                uow, channel="console", external_id=name, chat_id=name, now=clock.now()
            )
            assert citizen.id is not None
            ids.append(citizen.id)
        await uow.commit()
    return ids


async def _book(
    db: Database, provider: FakeProvider | None, who: int, event: int, n: int, clock: FrozenClock
) -> svc.BookingResult:
    async with db.uow() as uow:
        result = await svc.book(
            uow,
            env_with(provider),
            citizen_id=who,
            event_id=event,
            quantity=n,
            rules=RULES,
            now=clock.now(),
        )
        await uow.commit()
        return result


async def test_free_event_books_at_once_with_unique_codes(db: Database, clock: FrozenClock) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), capacity=5)
    result = await _book(db, None, anna, event_id, 3, clock)
    assert result.booking.status == CONFIRMED and len(result.tickets) == 3
    assert len({t.code for t in result.tickets}) == 3
    assert all(len(t.code) == 14 for t in result.tickets)
    assert (await load_event(db, event_id)).taken == 3
    with pytest.raises(Conflict, match="only"):
        await _book(db, None, anna, event_id, 3, clock)
    assert (await load_event(db, event_id)).taken == 3


async def test_paid_booking_holds_places_then_confirms_once(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), price=1200, capacity=4)
    result = await _book(db, provider, anna, event_id, 2, clock)
    assert result.booking.status == HELD and result.payment is not None
    assert result.payment.amount_cents == 2400 and result.payment.purpose == "event"
    assert result.payment.expires_at == clock.now() + timedelta(minutes=30)
    assert (await load_event(db, event_id)).taken == 2
    for _ in range(2):  # a replayed webhook changes nothing
        async with db.uow() as uow:
            await payments.settle(uow, env_with(), result.payment.id or 0, PAID, clock.now())
            await uow.commit()
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, result.booking.id)
        assert booking is not None and booking.status == CONFIRMED
        count = await uow.session.execute(select(func.count()).select_from(Ticket))
        assert count.scalar_one() == 2
    assert (await load_event(db, event_id)).taken == 2


async def test_paid_booking_without_payments_is_refused(db: Database, clock: FrozenClock) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), price=500)
    with pytest.raises(Conflict, match="Payment is not available"):
        await _book(db, None, anna, event_id, 1, clock)
    assert (await load_event(db, event_id)).taken == 0


async def test_provider_down_when_the_pay_link_is_opened(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), price=500, capacity=3)
    provider.fail_checkouts = True
    result = await _book(db, provider, anna, event_id, 2, clock)  # booking never asks it
    assert result.booking.status == HELD and result.payment is not None
    payment_id = result.payment.id or 0
    with pytest.raises(ProviderUnavailable, match="cannot be reached"):
        await provider_calls.open_checkout(db.uow, env_with(provider), payment_id, clock.now())
    provider.fail_checkouts = False
    first = await provider_calls.open_checkout(db.uow, env_with(provider), payment_id, clock.now())
    again = await provider_calls.open_checkout(db.uow, env_with(provider), payment_id, clock.now())
    assert first == again and first.url == f"https://pay.example/checkout/{payment_id}"
    async with db.uow() as uow:
        payment = await uow.session.get(Payment, payment_id)
        assert payment is not None and payment.provider_ref == f"fake_{payment_id}"
    clock.advance(timedelta(minutes=31))  # never paid: the hold lapses, nothing was charged
    with pytest.raises(Conflict, match="expired"):
        await provider_calls.open_checkout(db.uow, env_with(provider), payment_id, clock.now())


async def test_unpaid_hold_lapses_after_30_minutes_and_places_return(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna, ben = await _people(db, clock, "olaf", "anna", "ben")
    event_id = await make_event(db, olaf, clock.now(), price=800, capacity=2)
    held = await _book(db, provider, anna, event_id, 2, clock)
    with pytest.raises(Conflict, match="sold out"):
        await _book(db, provider, ben, event_id, 1, clock)
    clock.advance(timedelta(minutes=30))
    later = await _book(db, provider, ben, event_id, 1, clock)  # the lapsed hold is released
    assert later.booking.status == HELD
    assert (await load_event(db, event_id)).taken == 1
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, held.booking.id)
        payment = await uow.session.get(Payment, held.booking.payment_id)
        assert booking is not None and booking.status == LAPSED
        assert payment is not None and payment.status == EXPIRED
    # paying in the chat after the hold lapsed: a clear answer, nothing charged
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="expired"):
            await checkout.pay_here(
                uow, env_with(provider), anna, held.booking.payment_id or 0, clock.now()
            )
    assert (await load_event(db, event_id)).taken == 1


async def test_late_payment_gets_tickets_if_places_are_free_else_refund(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna, ben, cem = await _people(db, clock, "olaf", "anna", "ben", "cem")
    event_id = await make_event(db, olaf, clock.now(), price=1000, capacity=2)
    first = await _book(db, provider, anna, event_id, 1, clock)
    second = await _book(db, provider, ben, event_id, 1, clock)
    clock.advance(timedelta(minutes=31))
    async with db.uow() as uow:
        assert await svc.release_lapsed(uow, env_with(), clock.now()) == 2
        await uow.commit()
    await _book(db, provider, cem, event_id, 1, clock)
    async with db.uow() as uow:  # the provider reports anna paid after all: a place is free
        await payments.settle(uow, env_with(), first.payment.id or 0, PAID, clock.now())  # type: ignore[union-attr]
        await uow.commit()
    assert (await load_event(db, event_id)).taken == 2
    async with db.uow() as uow:  # ben pays late too, but nothing is free any more
        await payments.settle(uow, env_with(), second.payment.id or 0, PAID, clock.now())  # type: ignore[union-attr]
        await uow.commit()
    event = await load_event(db, event_id)
    assert event.taken == 2 and event.taken <= event.capacity
    async with db.uow() as uow:
        assert await tickets.refund_late_payments(uow, env_with(provider), clock.now()) == 1
        await uow.commit()
    assert provider.refunds == [(second.payment.id, 1000)]  # type: ignore[union-attr]
    async with db.uow() as uow:
        assert await tickets.refund_late_payments(uow, env_with(provider), clock.now()) == 0
        payment = await uow.session.get(Payment, second.payment.id)  # type: ignore[union-attr]
        assert payment is not None and payment.status == REFUNDED
        notes = (await uow.session.execute(select(Notification.key))).scalars().all()
        assert any("arrived after your reservation" in k for k in notes)


async def test_deadline_cancelled_and_bad_quantities_change_nothing(
    db: Database, clock: FrozenClock
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), capacity=50, days=1, deadline_hours=20)
    for bad in (0, 7):
        with pytest.raises(InvalidInput):
            await _book(db, None, anna, event_id, bad, clock)
    clock.advance(timedelta(hours=5))  # past the deadline (start - 20 h)
    with pytest.raises(Conflict, match="closed"):
        await _book(db, None, anna, event_id, 1, clock)
    other = await make_event(db, olaf, clock.now(), capacity=5)
    async with db.uow() as uow:
        await tickets.cancel_event(
            uow, env_with(None), organiser_id=olaf, event_id=other, now=clock.now()
        )
        await uow.commit()
    with pytest.raises(Conflict, match="cancelled"):
        await _book(db, None, anna, other, 1, clock)
    assert (await load_event(db, event_id)).taken == 0
    assert (await load_event(db, other)).taken == 0


async def test_check_in_once_only_by_the_events_organiser(db: Database, clock: FrozenClock) -> None:
    olaf, otto, anna = await _people(db, clock, "olaf", "otto", "anna")
    event_id = await make_event(db, olaf, clock.now())
    ticket = (await _book(db, None, anna, event_id, 1, clock)).tickets[0]
    async with db.uow() as uow:
        with pytest.raises(NotAllowed, match="another organiser"):
            await tickets.check_in(uow, otto, ticket.id or 0, clock.now(), tz=BERLIN)
    async with db.uow() as uow:
        found = await svc.ticket_by_code(uow, ticket.code.lower())
        done = await tickets.check_in(uow, olaf, found.id or 0, clock.now(), tz=BERLIN)
        assert done.status == CHECKED_IN
        await uow.commit()
    clock.advance(timedelta(minutes=7))
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="Already checked in") as refused:
            await tickets.check_in(uow, olaf, ticket.id or 0, clock.now(), tz=BERLIN)
        assert refused.value.params["time"] == "10:00"


async def test_a_typo_in_the_code_is_told_apart_from_an_unknown_code(
    db: Database, clock: FrozenClock
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now())
    code = (await _book(db, None, anna, event_id, 1, clock)).tickets[0].code
    wrong = ("X" if code[3] != "X" else "Y").join([code[:3], code[4:]])
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="typo"):
            await svc.ticket_by_code(uow, wrong)
        with pytest.raises(InvalidInput, match="not a ticket code"):
            await svc.ticket_by_code(uow, "hello")
        from services.codes import new_code

        with pytest.raises(NotFound):
            await svc.ticket_by_code(uow, new_code(12))
        assert (await svc.ticket_by_code(uow, f"t-{code[:4]}-{code[4:8]} {code[8:]}")).code == code


async def test_resident_cancels_until_48_hours_before_with_refund(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), price=1500, capacity=3, days=3)
    result = await _book(db, provider, anna, event_id, 2, clock)
    async with db.uow() as uow:
        await checkout.pay_here(
            uow, env_with(provider), anna, result.booking.payment_id or 0, clock.now()
        )
        await uow.commit()
    async with db.uow() as uow:
        ids = (await uow.session.execute(select(Ticket.id).order_by(Ticket.id))).scalars().all()
    async with db.uow() as uow:
        done = await tickets.cancel_tickets(
            uow,
            env_with(provider),
            citizen_id=anna,
            ticket_ids=[ids[0]],
            rules=RULES,
            now=clock.now(),
        )
        await uow.commit()
    assert done == (1, 1500)
    assert provider.refunds == [(result.payment.id, 1500)]  # type: ignore[union-attr]
    assert (await load_event(db, event_id)).taken == 1
    async with db.uow() as uow:  # twice: nothing more happens
        again = await tickets.cancel_tickets(
            uow,
            env_with(provider),
            citizen_id=anna,
            ticket_ids=[ids[0]],
            rules=RULES,
            now=clock.now(),
        )
        assert again == (0, 0)
    clock.advance(timedelta(days=1, hours=1))  # less than 48 h before the start
    async with db.uow() as uow:
        with pytest.raises(Conflict, match="That time has passed"):
            await tickets.cancel_tickets(
                uow,
                env_with(provider),
                citizen_id=anna,
                ticket_ids=[ids[1]],
                rules=RULES,
                now=clock.now(),
            )
    assert (await load_event(db, event_id)).taken == 1
    assert len(provider.refunds) == 1


async def test_a_refund_the_provider_refuses_stays_booked_and_is_sent_again(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, anna = await _people(db, clock, "olaf", "anna")
    event_id = await make_event(db, olaf, clock.now(), price=900, capacity=3)
    result = await _book(db, provider, anna, event_id, 1, clock)
    payment_id = result.booking.payment_id or 0
    async with db.uow() as uow:
        await checkout.pay_here(uow, env_with(provider), anna, payment_id, clock.now())
        await uow.commit()
    provider.fail_refunds = True
    async with db.uow() as uow:  # the provider is asked after this transaction, and refuses
        ticket = (await uow.session.execute(select(Ticket))).scalar_one()
        await tickets.cancel_tickets(
            uow,
            env_with(provider),
            citizen_id=anna,
            ticket_ids=[ticket.id or 0],
            rules=RULES,
            now=clock.now(),
        )
        await uow.commit()
    async with db.uow() as uow:
        ticket = (await uow.session.execute(select(Ticket))).scalar_one()
        payment = await uow.session.get(Payment, payment_id)
        assert ticket.status == "cancelled" and payment is not None
        assert (payment.refunded_cents, payment.refund_sent_cents) == (900, 0)
    assert (await load_event(db, event_id)).taken == 0 and provider.refunds == []
    provider.fail_refunds = False  # the provider is back: the job sends it, once
    assert await provider_calls.send_refunds(db.uow, env_with(provider)) == 1
    assert await provider_calls.send_refunds(db.uow, env_with(provider)) == 0
    async with db.uow() as uow:
        payment = await uow.session.get(Payment, payment_id)
        assert payment is not None and payment.refund_sent_cents == 900
    assert provider.refunds == [(payment_id, 900)]


async def test_organiser_cancels_event_everyone_told_and_refunded(
    db: Database, clock: FrozenClock, provider: FakeProvider
) -> None:
    olaf, otto, anna, ben, cem = await _people(db, clock, "olaf", "otto", "anna", "ben", "cem")
    event_id = await make_event(db, olaf, clock.now(), price=1000, capacity=10)
    paid_anna = await _book(db, provider, anna, event_id, 2, clock)
    paid_ben = await _book(db, provider, ben, event_id, 1, clock)
    held_cem = await _book(db, provider, cem, event_id, 3, clock)
    for result in (paid_anna, paid_ben):
        async with db.uow() as uow:
            await payments.settle(uow, env_with(), result.payment.id or 0, PAID, clock.now())  # type: ignore[union-attr]
            await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await tickets.cancel_event(
                uow, env_with(provider), organiser_id=otto, event_id=event_id, now=clock.now()
            )
    async with db.uow() as uow:
        told = await tickets.cancel_event(
            uow, env_with(provider), organiser_id=olaf, event_id=event_id, now=clock.now()
        )
        await uow.commit()
    assert told == 2
    assert sorted(provider.refunds) == sorted(
        [(paid_anna.payment.id, 2000), (paid_ben.payment.id, 1000)]  # type: ignore[union-attr]
    )
    async with db.uow() as uow:
        statuses = (await uow.session.execute(select(Ticket.status))).scalars().all()
        assert statuses and all(s == CANCELLED for s in statuses)
        cem_booking = await uow.session.get(Booking, held_cem.booking.id)
        assert cem_booking is not None and cem_booking.status == LAPSED
        notes = (
            (
                await uow.session.execute(
                    select(Notification.citizen_id).where(Notification.key.contains("cancelled by"))  # type: ignore[attr-defined]
                )
            )
            .scalars()
            .all()
        )
        assert sorted(notes) == sorted([anna, ben])
        # each holder gets a calendar file that removes their entry: METHOD:CANCEL, same UID
        files = (
            await uow.session.execute(
                select(Notification.citizen_id, StoredFile.data, StoredFile.filename)
                .join(StoredFile, StoredFile.id == Notification.media_file_id)
                .where(Notification.key.contains("cancelled by"))  # type: ignore[attr-defined]
            )
        ).all()
        assert sorted(who for who, _data, _name in files) == sorted([anna, ben])
        first_ticket = await tickets.calendar_tickets(uow, event_id, anna)
        for who, data, name in files:
            calendar = Calendar.from_ical(data)
            (entry,) = calendar.walk("VEVENT")
            assert calendar["METHOD"] == "CANCEL" and entry["STATUS"] == "CANCELLED"
            assert entry["SEQUENCE"] == 1 and name.endswith(".ics")
            if who == anna:
                assert str(entry["UID"]).startswith(f"ticket-{first_ticket[anna]}@")
    assert (await load_event(db, event_id)).taken == 0
    async with db.uow() as uow:
        with pytest.raises(Conflict):
            await tickets.cancel_event(
                uow, env_with(provider), organiser_id=olaf, event_id=event_id, now=clock.now()
            )


async def test_reminder_the_day_before_once_per_booking(db: Database, clock: FrozenClock) -> None:
    olaf, anna, ben = await _people(db, clock, "olaf", "anna", "ben")
    tomorrow = await make_event(db, olaf, clock.now(), days=1, title="Morgen")
    later = await make_event(db, olaf, clock.now(), days=3, title="Später")
    await _book(db, None, anna, tomorrow, 2, clock)
    await _book(db, None, ben, later, 1, clock)
    ben_tomorrow = await _book(db, None, ben, tomorrow, 1, clock)
    async with db.uow() as uow:  # ben cancels his ticket for tomorrow: no reminder for him
        await tickets.cancel_tickets(
            uow,
            None,
            citizen_id=ben,
            ticket_ids=[ben_tomorrow.tickets[0].id or 0],
            rules=svc.EventRules(cancellation_hours=0),
            now=clock.now(),
        )
        await uow.commit()
    for _ in range(2):
        async with db.uow() as uow:
            sent = await tickets.remind_upcoming(uow, clock.now(), tz=BERLIN)
            await uow.commit()
    assert sent == 0
    async with db.uow() as uow:
        rows = (
            await uow.session.execute(
                select(Notification.citizen_id, Notification.params).where(
                    Notification.key.startswith("Reminder")  # type: ignore[attr-defined]
                )
            )
        ).all()
    assert [(cid, params["n"], params["time"]) for cid, params in rows] == [(anna, 2, "10:00")]


async def test_reminder_day_follows_the_local_calendar_over_the_summer_time_switch(
    db: Database, clock: FrozenClock
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    clock.set(datetime(2027, 3, 27, 10, 0, tzinfo=berlin))  # clocks go forward on 28 March
    olaf, anna = await _people(db, clock, "olaf", "anna")
    starts = [
        datetime(2027, 3, 28, 0, 30, tzinfo=berlin),  # still winter time
        datetime(2027, 3, 28, 23, 30, tzinfo=berlin),  # summer time
        datetime(2027, 3, 29, 0, 15, tzinfo=berlin),  # the day after: not yet
    ]
    for number, start in enumerate(starts):
        async with db.uow() as uow:
            event = await svc.create_event(
                uow,
                olaf,
                svc.EventDraft(
                    title=f"Nachtführung {number}",
                    place="Schloss",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    booking_deadline=start,
                    price_cents=0,
                    capacity=5,
                ),
                RULES,
                clock.now(),
            )
            await svc.book(
                uow,
                env_with(None),
                citizen_id=anna,
                event_id=event.id or 0,
                quantity=1,
                rules=RULES,
                now=clock.now(),
            )
            await uow.commit()
    async with db.uow() as uow:
        assert await tickets.remind_upcoming(uow, clock.now(), tz=BERLIN) == 2
        await uow.commit()
    async with db.uow() as uow:
        times = (
            (
                await uow.session.execute(
                    select(Notification.params).where(Notification.key.startswith("Reminder"))  # type: ignore[attr-defined]
                )
            )
            .scalars()
            .all()
        )
    assert sorted(p["time"] for p in times) == ["00:30", "23:30"]
