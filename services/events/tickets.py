"""After booking: residents cancel tickets (refunded through the payment provider), organisers
call events off and check tickets in at the door, and the scheduler sends reminders and pays back
payments that arrived too late. Every change of a ticket or a counter is a conditional update."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlmodel import col

from services import i18n, notify
from services.audit import log_action
from services.city import City
from services.env import Env
from services.errors import Conflict, NotAllowed, NotFound
from services.events import booking as events
from services.events import files as event_files
from services.i18n import N_
from services.identity import privacy
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from storage.models.events import (
    CANCELLED,
    CHECKED_IN,
    CONFIRMED,
    HELD,
    LAPSED,
    PUBLISHED,
    VALID,
    Booking,
    Event,
    Ticket,
)
from storage.models.outbox import StoredFile
from storage.models.payments import PAID, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- refunds and cancellation
async def _refund(uow: UnitOfWork, env: Env, payment_id: int, cents: int, now: datetime) -> None:
    """Book the refund (never more than was paid); the provider pays it out after the
    transaction."""
    if cents > 0:
        await payments.refund(uow, env, payment_id, cents, now)


async def _cancel_ticket_row(uow: UnitOfWork, ticket_id: int, now: datetime) -> bool:
    changed = await uow.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == VALID)
        .values(status=CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(changed) == 1


async def cancel_tickets(
    uow: UnitOfWork,
    env: Env,
    *,
    citizen_id: int,
    ticket_ids: list[int],
    rules: events.EventRules,
    now: datetime,
) -> tuple[int, int]:
    """The holder cancels valid tickets up to `cancellation_hours` before the start: places go
    back on sale, paid tickets are refunded. Returns (tickets cancelled, cents refunded)."""
    cancelled = refunded = 0
    for ticket_id in ticket_ids:
        ticket, event = await events.own_ticket(uow, citizen_id, ticket_id)
        await uow.session.refresh(ticket)
        if ticket.status == CHECKED_IN:
            raise Conflict("This ticket was already used at the door.")
        if ticket.status != VALID:
            continue
        if event.status == CANCELLED:
            raise Conflict("This event was cancelled.")
        deadline = events.cancellation_deadline(event, rules)
        if now >= deadline:
            raise Conflict(
                "Tickets can be cancelled until {day} at {time} ({hours} hours before the "
                "start). That time has passed.",
                hours=rules.cancellation_hours,
                **events.at_params(deadline, env.city.tz),
            )
        if not await _cancel_ticket_row(uow, ticket_id, now):
            continue
        await events.give_back(uow, event.id or 0, 1)
        booking = await uow.session.get(Booking, ticket.booking_id)
        if booking is not None and booking.payment_id is not None and ticket.price_cents:
            await _refund(uow, env, booking.payment_id, ticket.price_cents, now)
            ticket.refunded_cents = ticket.price_cents
            refunded += ticket.price_cents
        cancelled += 1
        log_action(uow, now, "ticket.cancel", f"ticket:{ticket_id}", actor_citizen_id=citizen_id)
    await uow.session.flush()
    return cancelled, refunded


async def cancel_event(
    uow: UnitOfWork,
    env: Env,
    *,
    organiser_id: int,
    event_id: int,
    now: datetime,
) -> int:
    """The organiser calls the event off: every ticket is cancelled and refunded, open holds end,
    every holder is told, with a calendar file (METHOD:CANCEL) that removes the entry from their
    calendar. Returns the number of residents notified."""
    event = await events.organiser_event(uow, organiser_id, event_id)
    if event.status == CANCELLED:
        raise Conflict("This event was cancelled.")
    if event.ends_at <= now:
        raise Conflict("This event is over and can no longer be cancelled.")
    changed = await uow.session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status == PUBLISHED)
        .values(status=CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This event was cancelled.")
    event.status, event.cancelled_at = CANCELLED, now  # the loaded row, as the update wrote it
    holds = await uow.session.execute(
        select(Booking.id, Booking.payment_id).where(
            Booking.event_id == event_id, Booking.status == HELD
        )
    )
    for booking_id, payment_id in holds.all():
        if payment_id is not None:
            await payments.settle(uow, env, payment_id, "cancelled", now)
        await events.end_hold(uow, booking_id, now)
    bookings = await uow.session.execute(
        select(Booking).where(Booking.event_id == event_id, Booking.status == CONFIRMED)
    )
    holders: set[int] = set()
    first_tickets = await calendar_tickets(uow, event_id)
    for booking in bookings.scalars().all():
        tickets = await uow.session.execute(
            select(Ticket).where(Ticket.booking_id == booking.id, Ticket.status != CANCELLED)
        )
        refund = 0
        for ticket in tickets.scalars().all():
            if ticket.status == VALID:
                ticket.status = CANCELLED
                ticket.cancelled_at = now
            refund += ticket.price_cents - ticket.refunded_cents
            ticket.refunded_cents = ticket.price_cents
        if booking.payment_id is not None and refund:
            await _refund(uow, env, booking.payment_id, refund, now)
        if booking.citizen_id not in holders:
            holders.add(booking.citizen_id)
            notify.notify_citizen(
                uow,
                booking.citizen_id,
                N_(
                    "{event} on {day} at {time} has been cancelled by the organiser. Your "
                    "tickets are no longer valid; money paid is refunded."
                ),
                {"event": event.title, **events.when_params(event, env.city.tz)},
                now=now,
                media_file_id=await _cancellation_file(
                    uow, event, booking.citizen_id, first_tickets, now, env.city.tz, env.city.name
                ),
                dedupe_key=f"event-cancelled:{event_id}:{booking.citizen_id}",
            )
    await uow.session.execute(  # nothing is held or sold any more
        update(Event)
        .where(Event.id == event_id)
        .values(taken=0)
        .execution_options(synchronize_session=False)
    )
    await uow.session.flush()
    log_action(uow, now, "event.cancel", f"event:{event_id}", actor_citizen_id=organiser_id)
    return len(holders)


async def calendar_tickets(
    uow: UnitOfWork, event_id: int, citizen_id: int | None = None
) -> dict[int, int]:
    """Each holder's first ticket for the event (whatever its status): the calendar entry's UID."""
    query = (
        select(Ticket.citizen_id, func.min(Ticket.id))
        .where(Ticket.event_id == event_id)
        .group_by(Ticket.citizen_id)
    )
    if citizen_id is not None:
        query = query.where(Ticket.citizen_id == citizen_id)
    return {int(who): int(first) for who, first in (await uow.session.execute(query)).all()}


def calendar_file(
    event: Event, ticket_id: int, now: datetime, tz: ZoneInfo, town: str, method: str = "PUBLISH"
) -> tuple[str, bytes]:
    """File name and ICS of a holder's calendar entry for the event."""
    data = event_files.event_ics(
        uid=event_files.calendar_uid(ticket_id, town),
        title=event.title,
        description=event.description,
        place=event.place,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        now=now,
        tz=tz,
        cancelled=event.status == CANCELLED,
        method=method,
    )
    return event_files.ics_filename(event.title, event.starts_at, tz), data


async def _cancellation_file(
    uow: UnitOfWork,
    event: Event,
    citizen_id: int,
    first_tickets: dict[int, int],
    now: datetime,
    tz: ZoneInfo,
    town: str,
) -> int | None:
    ticket_id = first_tickets.get(citizen_id)
    if ticket_id is None:
        return None
    filename, data = calendar_file(event, ticket_id, now, tz, town, method="CANCEL")
    stored = StoredFile(
        citizen_id=citizen_id,
        purpose="event:cancel",
        filename=filename,
        mime="text/calendar",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_at=now,
    )
    uow.session.add(stored)
    await uow.session.flush()
    return stored.id


async def refund_late_payments(uow: UnitOfWork, env: Env, now: datetime) -> int:
    """Payments that arrived after their hold lapsed and found no free places: pay them back.
    For the scheduler; returns how many were refunded."""
    query = (
        select(Payment.id, Payment.amount_cents - Payment.refunded_cents)
        .join(Booking, col(Booking.payment_id) == Payment.id)
        .where(
            Payment.purpose == events.PURPOSE,
            Payment.status == PAID,
            Booking.status == LAPSED,
            Payment.refunded_cents < Payment.amount_cents,
        )
        .limit(200)
    )
    done = 0
    for payment_id, due in (await uow.session.execute(query)).all():
        await _refund(uow, env, payment_id, int(due), now)
        done += 1
    return done


# ---------------------------------------------------------------- at the door
@dataclass
class DoorView:
    ticket: Ticket
    event: Event
    own_event: bool


async def door_view(uow: UnitOfWork, organiser_id: int, ticket: Ticket) -> DoorView:
    event = await events.get_event(uow, ticket.event_id)
    return DoorView(ticket, event, event.organiser_id == organiser_id)


async def check_in(
    uow: UnitOfWork, organiser_id: int, ticket_id: int, now: datetime, *, tz: ZoneInfo
) -> Ticket:
    """Admit a ticket once. A second scan is refused with the time of the first."""
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("No ticket has this code.")
    event = await events.get_event(uow, ticket.event_id)
    if event.organiser_id != organiser_id:
        raise NotAllowed(
            "This ticket is for {event}, an event of another organiser.", event=event.title
        )
    if event.status == CANCELLED:
        raise Conflict("This event was cancelled.")
    changed = await uow.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == VALID)
        .values(status=CHECKED_IN, checked_in_at=now, checked_in_by=organiser_id)
        .execution_options(synchronize_session=False)
    )
    await uow.session.refresh(ticket)
    if rows_changed(changed) != 1:
        if ticket.status == CHECKED_IN and ticket.checked_in_at is not None:
            raise Conflict(
                "Already checked in on {day} at {time}. Do not let this ticket in again.",
                **events.at_params(ticket.checked_in_at, tz),
            )
        raise Conflict("This ticket was cancelled and is not valid.")
    log_action(uow, now, "ticket.checkin", f"ticket:{ticket_id}", actor_citizen_id=organiser_id)
    return ticket


# ---------------------------------------------------------------- reminders
async def remind_upcoming(uow: UnitOfWork, now: datetime, *, tz: ZoneInfo) -> int:
    """Tell ticket holders the day before (local calendar day). Safe to run often: one message
    per booking (dedupe key), for the scheduler. Returns how many reminders were queued."""
    zone = tz
    local_today = now.astimezone(zone).date()
    target = local_today + timedelta(days=1)
    day_start = datetime.combine(target, datetime.min.time(), tzinfo=zone)
    day_end = day_start + timedelta(days=1)
    query = (
        select(Booking, Event)
        .join(Event, col(Event.id) == Booking.event_id)
        .where(
            Event.status == PUBLISHED,
            Event.starts_at >= day_start,
            Event.starts_at < day_end,
            Event.starts_at > now,
            Booking.status == CONFIRMED,
        )
    )
    sent = 0
    due = (await uow.session.execute(query)).all()
    reminded = await notify.known_keys(uow, {f"event-reminder:{b.id}" for b, _event in due})
    for booking, event in due:
        key = f"event-reminder:{booking.id}"
        if key in reminded:
            continue
        valid = await uow.session.execute(
            select(func.count()).where(Ticket.booking_id == booking.id, Ticket.status == VALID)
        )
        count = int(valid.scalar_one())
        if count == 0:
            continue
        notify.notify_citizen(
            uow,
            booking.citizen_id,
            N_(
                "Reminder: {event} starts tomorrow, {day} at {time}, at {place}. You have {n} "
                "ticket in your wallet."
            ),
            {
                "event": event.title,
                "place": event.place,
                **events.when_params(event, zone),
                **i18n.plural(
                    "Reminder: {event} starts tomorrow, {day} at {time}, at {place}. You have {n} "
                    "tickets in your wallet.",
                    count,
                ),
            },
            now=now,
            buttons=[notify.button("My tickets", "events.mine")],
            dedupe_key=key,
        )
        sent += 1
    await uow.session.flush()
    return sent


# ---------------------------------------------------------------- wallet
async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[wallet.WalletEntry]:
    """Tickets and places held for payment, for the wallet."""
    entries = [
        wallet.WalletEntry(
            kind="ticket",
            title=N_("Ticket: {event}"),
            title_params=(("event", event.title),),
            code=ticket.code,
            status=ticket.status,
            valid_until=event.ends_at.astimezone(city.tz).date(),
            action="events.ticket",
            arg=str(ticket.id),
            sort_at=event.starts_at,
        )
        for ticket, event in await events.tickets_of(uow, citizen_id, now)
    ]
    for booking in await events.held_bookings_of(uow, citizen_id, now):
        event = await events.get_event(uow, booking.event_id)
        entries.append(
            wallet.WalletEntry(
                kind="ticket",
                title=N_("Reserved, waiting for payment: {event}"),
                title_params=(("event", event.title),),
                code="",
                status="pending",
                action="events.booking",
                arg=str(booking.id),
                sort_at=event.starts_at,
            )
        )
    return entries


wallet.register_source("tickets", wallet_entries)


# ---------------------------------------------------------------- before a resident is deleted
async def holdings(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[privacy.Holding]:
    """Valid tickets for events still to come (what was paid for them, or 0 when free)."""
    return [
        privacy.Holding(
            kind="ticket",
            title=N_("Ticket for {event} on {day}: {amount}"),
            params=(
                ("event", event.title),
                ("day", i18n.day(event.starts_at.astimezone(city.tz).date())),
                ("amount", i18n.money(ticket.price_cents - ticket.refunded_cents)),
            ),
            cents=ticket.price_cents - ticket.refunded_cents,
            ref=str(ticket.id),
        )
        for ticket, event in await events.tickets_of(uow, citizen_id, now)
        if ticket.status == VALID and event.status != CANCELLED and event.ends_at > now
    ]


async def close_for_deletion(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Cancel the valid tickets of events still to come (the places go back on sale), so no
    ticket code stays valid once its holder is anonymous."""
    closed = 0
    for ticket, event in await events.tickets_of(uow, citizen_id, now):
        if ticket.status != VALID or event.ends_at <= now:
            continue
        if await _cancel_ticket_row(uow, ticket.id or 0, now):
            if event.status != CANCELLED:
                await events.give_back(uow, event.id or 0, 1)
            log_action(uow, now, "ticket.forfeit", f"ticket:{ticket.id}")
            closed += 1
    await uow.session.flush()
    return closed


privacy.register_holdings("tickets", holdings, close_for_deletion)
