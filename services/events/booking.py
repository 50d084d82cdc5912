"""Events: organisers publish, residents book (paid bookings hold places for 30 minutes), tickets
are checked in at the door, cancelled and refunded.

Rules as plain functions first, then the use cases `(uow, ..., now)`. Places are counted on the
event row (`taken`) and change only through conditional updates, so the quota cannot be oversold
by any number of parallel bookings, on SQLite and PostgreSQL alike. What happens after booking
(cancellation, refunds, check-in, reminders) is in services/events/tickets.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlmodel import col

from services import city as city_config
from services import codes, i18n, notify
from services.audit import log_action
from services.env import Env
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from services.money import parse_amount
from services.payments import lifecycle as payments
from storage.models.events import CANCELLED as CANCELLED
from storage.models.events import CHECKED_IN as CHECKED_IN
from storage.models.events import CONFIRMED, LAPSED, PUBLISHED
from storage.models.events import HELD as HELD
from storage.models.events import VALID as VALID
from storage.models.events import Booking as Booking
from storage.models.events import Event as Event
from storage.models.events import Ticket as Ticket
from storage.models.payments import EXPIRED, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)
CODE_LENGTH = 12
PURPOSE = "event"


class EventRules(BaseModel):
    """The `[events]` section of the city configuration."""

    model_config = ConfigDict(extra="forbid")
    max_tickets_per_booking: int = Field(default=6, ge=1, le=50)
    hold_minutes: int = Field(default=30, ge=5, le=24 * 60)
    cancellation_hours: int = Field(default=48, ge=0, le=24 * 60)
    reminder_hour: int = Field(default=10, ge=0, le=23)  # local hour the scheduler reminds at
    max_capacity: int = Field(default=5000, ge=1)
    max_price_cents: int = Field(default=50_000, ge=0)


city_config.register_section("events", EventRules)


# ---------------------------------------------------------------- pure rules
def parse_price(text: str) -> int:
    """'0' or 'free' -> 0; otherwise euros with at most two decimals -> cents."""
    cleaned = text.strip().casefold()
    if cleaned in ("0", "0,00", "0.00", "0 €", "free", "kostenlos", "gratis", "frei"):
        return 0
    return parse_amount(text)


def check_schedule(
    starts_at: datetime, ends_at: datetime, deadline: datetime, now: datetime
) -> None:
    if starts_at <= now:
        raise InvalidInput("The start lies in the past. Please enter a later date and time.")
    if ends_at <= starts_at:
        raise InvalidInput("The end must be after the start.")
    if ends_at - starts_at > timedelta(days=14):
        raise InvalidInput("An event can last at most 14 days.")
    if deadline > starts_at:
        raise InvalidInput("The booking deadline must not be after the start.")
    if deadline <= now:
        raise InvalidInput("The booking deadline lies in the past.")


def check_quantity(quantity: int, rules: EventRules) -> None:
    if quantity < 1:
        raise InvalidInput("Please book at least 1 ticket.")
    if quantity > rules.max_tickets_per_booking:
        raise InvalidInput(
            "At most {max} tickets per booking, please.", max=rules.max_tickets_per_booking
        )


def free_places(event: Event) -> int:
    return max(0, event.capacity - event.taken)


DomainErrorArgs = tuple[str, dict[str, Any]]


def why_not_bookable(
    event: Event, quantity: int, now: datetime, tz: ZoneInfo
) -> DomainErrorArgs | None:
    """The reason a booking of `quantity` places fails now, or None."""
    if event.status == CANCELLED:
        return (N_("This event was cancelled."), {})
    if event.starts_at <= now:
        return (N_("This event has already started."), {})
    if event.booking_deadline <= now:
        return (
            N_("Booking for this event closed on {day} at {time}."),
            at_params(event.booking_deadline, tz),
        )
    left = free_places(event)
    if left == 0:
        return (N_("Sorry, this event is sold out."), {})
    if quantity > left:
        return (N_("Sorry, only {left} places are left."), {"left": left})
    return None


def places_short(event: Event, quantity: int) -> bool:
    return free_places(event) < quantity


def cancellation_deadline(event: Event, rules: EventRules) -> datetime:
    return event.starts_at - timedelta(hours=rules.cancellation_hours)


def at_params(moment: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Day and clock time as message parameters, rendered in the reader's language."""
    local = moment.astimezone(tz)
    return {"day": i18n.day(local.date()), "time": local.strftime("%H:%M")}


def when_params(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    return at_params(event.starts_at, tz)


def ticket_link(code: str) -> str:
    """What the QR code carries: the deep link that opens the ticket in the chat."""
    return f"/start t-{code}"


# ---------------------------------------------------------------- reading
@dataclass
class EventStats:
    event: Event
    tickets: int = 0
    checked_in: int = 0
    held: int = 0
    revenue_cents: int = 0


async def get_event(uow: UnitOfWork, event_id: int) -> Event:
    """The event as the database has it now (counters change under conditional updates)."""
    event = await uow.session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise NotFound("This event does not exist (any more).")
    return event


async def upcoming(
    uow: UnitOfWork, now: datetime, *, offset: int = 0, limit: int = 8
) -> list[Event]:
    query = (
        select(Event)
        .where(Event.status == PUBLISHED, Event.starts_at > now)
        .order_by(Event.starts_at, Event.id)
        .offset(offset)
        .limit(limit)
    )
    return list((await uow.session.execute(query)).scalars())


async def organiser_events(uow: UnitOfWork, organiser_id: int, now: datetime) -> list[EventStats]:
    """The organiser's events that have not ended more than 30 days ago, with their figures."""
    query = (
        select(Event)
        .where(Event.organiser_id == organiser_id, Event.ends_at > now - timedelta(days=30))
        .order_by(Event.starts_at, Event.id)
        .limit(50)
    )
    events = list((await uow.session.execute(query)).scalars())
    return [await event_stats(uow, event) for event in events]


async def event_stats(uow: UnitOfWork, event: Event) -> EventStats:
    stats = EventStats(event)
    rows = await uow.session.execute(
        select(Ticket.status, func.count(), func.sum(Ticket.price_cents - Ticket.refunded_cents))
        .where(Ticket.event_id == event.id)
        .group_by(Ticket.status)
    )
    for status, count, revenue in rows.all():
        if status in (VALID, CHECKED_IN):
            stats.tickets += count
        if status == CHECKED_IN:
            stats.checked_in += count
        stats.revenue_cents += int(revenue or 0)
    held = await uow.session.execute(
        select(func.coalesce(func.sum(Booking.quantity), 0)).where(
            Booking.event_id == event.id, Booking.status == HELD
        )
    )
    stats.held = int(held.scalar_one())
    return stats


async def tickets_of(uow: UnitOfWork, citizen_id: int, now: datetime) -> list[tuple[Ticket, Event]]:
    """The resident's tickets of events that have not ended more than 7 days ago."""
    query = (
        select(Ticket, Event)
        .join(Event, col(Event.id) == Ticket.event_id)
        .where(Ticket.citizen_id == citizen_id, Event.ends_at > now - timedelta(days=7))
        .order_by(Event.starts_at, Ticket.id)
        .limit(100)
    )
    return [(t, e) for t, e in (await uow.session.execute(query)).all()]


async def held_bookings_of(uow: UnitOfWork, citizen_id: int, now: datetime) -> list[Booking]:
    query = select(Booking).where(
        Booking.citizen_id == citizen_id, Booking.status == HELD, col(Booking.held_until) > now
    )
    return list((await uow.session.execute(query)).scalars())


async def ticket_by_code(uow: UnitOfWork, text: str) -> Ticket:
    """The ticket a typed or scanned code names. Typos are told apart from unknown codes."""
    raw = text.strip()
    if raw.casefold().startswith("t-"):
        raw = raw[2:]
    try:
        code = codes.parse_code(raw, CODE_LENGTH)
    except codes.CodeTypo:
        raise InvalidInput(
            "This code has a typo: one character is wrong. Please check it and type it again."
        ) from None
    except ValueError:
        raise InvalidInput(
            "That is not a ticket code. A ticket code has 14 characters, for example {example}.",
            example="ABCD-EFGH-JKMN-PQ",
        ) from None
    found = await uow.session.execute(select(Ticket).where(Ticket.code == code))
    ticket: Ticket | None = found.scalar_one_or_none()
    if ticket is None:
        raise NotFound("No ticket has this code.")
    return ticket


async def own_ticket(uow: UnitOfWork, citizen_id: int, ticket_id: int) -> tuple[Ticket, Event]:
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None or ticket.citizen_id != citizen_id:
        raise NotFound("This ticket is not in your wallet.")
    return ticket, await get_event(uow, ticket.event_id)


async def organiser_event(uow: UnitOfWork, organiser_id: int, event_id: int) -> Event:
    event = await get_event(uow, event_id)
    if event.organiser_id != organiser_id:
        raise NotAllowed("This event belongs to another organiser.")
    return event


# ---------------------------------------------------------------- organiser: publish
@dataclass
class EventDraft:
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    booking_deadline: datetime
    price_cents: int
    capacity: int
    description: str = ""


async def create_event(
    uow: UnitOfWork, organiser_id: int, draft: EventDraft, rules: EventRules, now: datetime
) -> Event:
    check_schedule(draft.starts_at, draft.ends_at, draft.booking_deadline, now)
    if not 1 <= draft.capacity <= rules.max_capacity:
        raise InvalidInput(
            "Please enter a number from {low} to {high}.", low=1, high=rules.max_capacity
        )
    if not 0 <= draft.price_cents <= rules.max_price_cents:
        raise InvalidInput("The price may be at most {max}.", max=i18n.money(rules.max_price_cents))
    event = Event(
        organiser_id=organiser_id,
        title=draft.title,
        description=draft.description,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        booking_deadline=draft.booking_deadline,
        price_cents=draft.price_cents,
        capacity=draft.capacity,
        created_at=now,
    )
    uow.session.add(event)
    await uow.session.flush()
    log_action(uow, now, "event.publish", f"event:{event.id}", actor_citizen_id=organiser_id)
    return event


# ---------------------------------------------------------------- booking
@dataclass
class BookingResult:
    booking: Booking
    event: Event
    tickets: list[Ticket]
    payment: Payment | None = None


async def _take(
    uow: UnitOfWork, event_id: int, quantity: int, now: datetime, *, late: bool = False
) -> bool:
    """Take `quantity` places if they are free: one conditional update, never read-modify-write."""
    conditions = [
        Event.id == event_id,
        Event.status == PUBLISHED,
        Event.taken + quantity <= Event.capacity,
    ]
    if not late:
        conditions.append(Event.booking_deadline > now)
    changed = await uow.session.execute(
        update(Event)
        .where(*conditions)
        .values(taken=Event.taken + quantity)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(changed) == 1


async def give_back(uow: UnitOfWork, event_id: int, quantity: int) -> None:
    if quantity > 0:
        await uow.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(taken=Event.taken - quantity)
            .execution_options(synchronize_session=False)
        )


async def end_hold(uow: UnitOfWork, booking_id: int, now: datetime) -> Booking | None:
    """held -> lapsed, places back. Returns the booking when this call made the change."""
    changed = await uow.session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == HELD)
        .values(status=LAPSED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return None
    booking = await uow.session.get(Booking, booking_id)
    assert booking is not None
    await uow.session.refresh(booking)
    await give_back(uow, booking.event_id, booking.quantity)
    return booking


async def release_lapsed(
    uow: UnitOfWork, env: Env, now: datetime, *, event_id: int | None = None
) -> int:
    """Holds whose 30 minutes have passed give their places back (their payments expire).
    Called before each booking and by the scheduler. Returns how many holds lapsed."""
    query = select(Booking.id, Booking.payment_id).where(
        Booking.status == HELD, col(Booking.held_until) <= now
    )
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    lapsed = 0
    for booking_id, payment_id in (await uow.session.execute(query.limit(500))).all():
        expired = payment_id is not None and await payments.settle(
            uow, env, payment_id, EXPIRED, now
        )
        if await end_hold(uow, booking_id, now) is not None or expired:  # the hook ended it
            lapsed += 1
    return lapsed


def _new_tickets(booking: Booking, now: datetime) -> list[Ticket]:
    assert booking.id is not None
    return [
        Ticket(
            booking_id=booking.id,
            event_id=booking.event_id,
            citizen_id=booking.citizen_id,
            code=codes.new_code(CODE_LENGTH),
            price_cents=booking.unit_price_cents,
            created_at=now,
        )
        for _ in range(booking.quantity)
    ]


async def book(
    uow: UnitOfWork,
    env: Env,
    *,
    citizen_id: int,
    event_id: int,
    quantity: int,
    rules: EventRules,
    now: datetime,
) -> BookingResult:
    """Free events: tickets at once. Paid: places held for `hold_minutes`, a payment started.

    The places are taken last, with one conditional update just before the caller commits, so
    on PostgreSQL the event row is locked only for that moment. The payment provider is not
    called here at all (services/payments/provider_calls.py)."""
    provider = env.payments
    check_quantity(quantity, rules)
    event = await uow.session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise NotFound("This event does not exist (any more).")
    if places_short(event, quantity) and await release_lapsed(uow, env, now, event_id=event_id):
        await uow.session.refresh(event)
    reason = why_not_bookable(event, quantity, now, env.city.tz)
    if reason is not None:
        raise Conflict(reason[0], **reason[1])
    open_hold = await uow.session.execute(
        select(Booking.id).where(
            Booking.event_id == event_id,
            Booking.citizen_id == citizen_id,
            Booking.status == HELD,
            col(Booking.held_until) > now,
        )
    )
    if open_hold.first() is not None:
        raise Conflict(
            "You already have places reserved for this event. Please pay or cancel that "
            "reservation first (see My tickets)."
        )
    if event.price_cents > 0 and provider is None:
        raise Conflict("Payment is not available right now, so paid tickets cannot be booked.")
    free = event.price_cents == 0
    booking = Booking(
        event_id=event_id,
        citizen_id=citizen_id,
        quantity=quantity,
        unit_price_cents=event.price_cents,
        status=CONFIRMED if free else HELD,
        created_at=now,
        confirmed_at=now if free else None,
        held_until=None if free else now + timedelta(minutes=rules.hold_minutes),
    )
    uow.session.add(booking)
    await uow.session.flush()
    tickets: list[Ticket] = []
    payment: Payment | None = None
    if free:
        tickets = _new_tickets(booking, now)
        uow.session.add_all(tickets)
        await uow.session.flush()
    else:
        assert booking.held_until is not None
        payment = await payments.start(
            uow,
            env,
            citizen_id=citizen_id,
            purpose=PURPOSE,
            ref=str(booking.id),
            amount_cents=quantity * event.price_cents,
            description=f"{quantity} × {event.title}",
            now=now,
            ttl=booking.held_until - now,
        )
        booking.payment_id = payment.id
        await uow.session.flush()
    if not await _take(uow, event_id, quantity, now):
        await uow.session.refresh(event)
        reason = why_not_bookable(event, quantity, now, env.city.tz) or (
            N_("Sorry, this event is sold out."),
            {},
        )
        raise Conflict(reason[0], **reason[1])
    return BookingResult(booking, event, tickets, payment)


async def payment_received(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    """Payment hook: confirm the booking and issue its tickets, exactly once. A payment that
    arrives after the hold lapsed still gets tickets while places are free; otherwise the
    booking stays lapsed and `refund_late_payments` pays the money back."""
    booking = await uow.session.get(Booking, int(payment.ref))
    if booking is None:
        return
    await uow.session.refresh(booking)
    event = await get_event(uow, booking.event_id)
    if booking.status == LAPSED and not await _take(
        uow, event.id or 0, booking.quantity, now, late=True
    ):
        notify.notify_citizen(
            uow,
            booking.citizen_id,
            N_(
                "Your payment for {event} arrived after your reservation had lapsed, and the "
                "places are gone. You get the money back ({amount})."
            ),
            {"event": event.title, "amount": i18n.money(payment.amount_cents)},
            now=now,
            dedupe_key=f"event-late:{booking.id}",
        )
        return
    changed = await uow.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, col(Booking.status).in_([HELD, LAPSED]))
        .values(status=CONFIRMED, confirmed_at=now, ended_at=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return
    await uow.session.refresh(booking)
    uow.session.add_all(_new_tickets(booking, now))
    await uow.session.flush()
    notify.notify_citizen(
        uow,
        booking.citizen_id,
        N_("Payment received: your {n} ticket for {event} on {day} at {time} is in your wallet."),
        {
            "event": event.title,
            **when_params(event, env.city.tz),
            **i18n.plural(
                "Payment received: your {n} tickets for {event} on {day} at {time} are in your "
                "wallet.",
                booking.quantity,
            ),
        },
        now=now,
        buttons=[notify.button("My tickets", "events.mine")],
        dedupe_key=f"event-paid:{booking.id}",
    )


async def payment_failed(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    booking = await uow.session.get(Booking, int(payment.ref))
    if booking is not None:
        await end_hold(uow, booking.id or 0, now)


payments.register_purpose(PURPOSE, on_paid=payment_received, on_failed=payment_failed)


async def held_booking(uow: UnitOfWork, citizen_id: int, booking_id: int) -> Booking:
    booking = await uow.session.get(Booking, booking_id)
    if booking is None or booking.citizen_id != citizen_id:
        raise NotFound("This booking is not yours or does not exist.")
    await uow.session.refresh(booking)
    return booking
