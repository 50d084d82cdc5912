"""Booking a slot of a facility with a lock; the key comes with the confirmation.

A booking claims one lock's slot: the unique `claim` column (services/keys/config.py `claim`)
is set in the INSERT itself, inside a savepoint, so of two residents booking the last free box
at the same moment one gets it and the other gets the next box or "fully booked" — on SQLite
and PostgreSQL alike, with no read-then-write. Free slots are confirmed at once; paid ones are
held for `hold_minutes` while the resident pays through the one checkout. A confirmed booking
gets its key: a signed token of kind "key" (services/trust/tokens.py) valid for the slot plus
the grace times (services/keys/records.py `issue_key`). Cancelling and passing the key on are in
services/keys/changes.py, the wallet and deletion in services/keys/holdings.py, the lock side in
services/keys/lock.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import i18n, notify
from services.audit import log_action
from services.city import City
from services.env import Env
from services.errors import Conflict, InvalidInput, LimitReached, NotFound
from services.i18n import N_
from services.keys import holdings as holdings  # registers the wallet source and /deleteme
from services.keys.config import Facility, KeyRules, Slot, claim, slots_on
from services.keys.config import rules as key_rules
from services.keys.records import (
    CONFIRMED,
    HELD,
    LAPSED,
    LIVE,
    KeyBooking,
    facility_name,
    issue_key,
    record,
)
from services.payments import lifecycle as payments
from storage.models.payments import EXPIRED, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)
PURPOSE = "key"


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    free: int  # locks of the facility not yet booked for it


def facility_or_error(rules: KeyRules, key: str) -> Facility:
    facility = rules.facility(key)
    if facility is None:
        raise NotFound("This facility cannot be booked (any more).")
    return facility


def bookable_days(rules: KeyRules, city: City, now: datetime) -> list[date]:
    today = now.astimezone(city.tz).date()
    return [today + timedelta(days=n) for n in range(rules.days_ahead)]


async def slots(
    uow: UnitOfWork, city: City, facility: Facility, day: date, now: datetime
) -> list[SlotView]:
    """The day's slots that have not ended yet, with how many locks are still free."""
    upcoming = [s for s in slots_on(facility, day, city.tz) if s.ends_at > now]
    if not upcoming:
        return []
    taken_rows = await uow.session.execute(
        select(KeyBooking.starts_at, func.count())
        .where(
            KeyBooking.facility == facility.key,
            col(KeyBooking.claim).is_not(None),
            col(KeyBooking.starts_at) >= upcoming[0].starts_at,
            col(KeyBooking.starts_at) <= upcoming[-1].starts_at,
        )
        .group_by(KeyBooking.starts_at)
    )
    taken = {at.astimezone(UTC): count for at, count in taken_rows.all()}
    return [SlotView(s, max(0, len(facility.locks) - taken.get(s.starts_at, 0))) for s in upcoming]


def find_slot(facility: Facility, city: City, starts_at: datetime) -> Slot:
    day = starts_at.astimezone(city.tz).date()
    for slot in slots_on(facility, day, city.tz):
        if slot.starts_at == starts_at:
            return slot
    raise NotFound("This slot does not exist (the opening times may have changed).")


# ---------------------------------------------------------------- booking
@dataclass
class BookingResult:
    booking: KeyBooking
    facility: Facility
    payment: Payment | None = None


async def _insert_claimed(uow: UnitOfWork, booking: KeyBooking) -> bool:
    """Insert the booking with its claim in a savepoint; False when the slot of that lock is
    taken (the unique claim collided), and nothing was written."""
    try:
        async with uow.session.begin_nested():
            uow.session.add(booking)
            await uow.session.flush()
    except IntegrityError:
        return False
    return True


async def release_lapsed(uow: UnitOfWork, env: Env, now: datetime) -> int:
    """Paid slots not paid within `hold_minutes` give their lock back (their payment expires)."""
    query = select(KeyBooking.id, KeyBooking.payment_id).where(
        KeyBooking.status == HELD, col(KeyBooking.held_until) <= now
    )
    lapsed = 0
    for booking_id, payment_id in (await uow.session.execute(query.limit(500))).all():
        if payment_id is not None:
            await payments.settle(uow, env, payment_id, EXPIRED, now)
        if await _end_hold(uow, booking_id, now):
            lapsed += 1
    return lapsed


async def _end_hold(uow: UnitOfWork, booking_id: int, now: datetime) -> bool:
    changed = await uow.session.execute(
        update(KeyBooking)
        .where(KeyBooking.id == booking_id, KeyBooking.status == HELD)
        .values(status=LAPSED, claim=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(changed) == 1


async def book(
    uow: UnitOfWork,
    env: Env,
    *,
    citizen_id: int,
    facility_key: str,
    starts_at: datetime,
    now: datetime,
) -> BookingResult:
    """Book the slot starting at `starts_at` on the first free lock of the facility."""
    rules = key_rules(env.city)
    facility = facility_or_error(rules, facility_key)
    slot = find_slot(facility, env.city, starts_at)
    if slot.ends_at <= now:
        raise Conflict("This slot is already over. Please choose a later one.")
    if slot.starts_at.astimezone(env.city.tz).date() not in bookable_days(rules, env.city, now):
        raise InvalidInput("You can book at most {days} days ahead.", days=rules.days_ahead)
    if facility.price_cents > 0 and env.payments is None:
        raise Conflict("Payment is not available right now, so this slot cannot be booked.")
    await release_lapsed(uow, env, now)
    live = await uow.session.execute(
        select(func.count()).where(
            KeyBooking.citizen_id == citizen_id,
            col(KeyBooking.status).in_(LIVE),
            KeyBooking.ends_at > now,
        )
    )
    if int(live.scalar_one()) >= rules.max_active_bookings:
        raise LimitReached(
            "You already have {n} bookings. Please cancel one or wait until one has ended.",
            n=rules.max_active_bookings,
        )
    mine = await uow.session.execute(
        select(KeyBooking.id).where(
            KeyBooking.citizen_id == citizen_id,
            KeyBooking.facility == facility.key,
            KeyBooking.starts_at == slot.starts_at,
            col(KeyBooking.status).in_(LIVE),
        )
    )
    if mine.first() is not None:
        raise Conflict("You have already booked this slot.")
    free = facility.price_cents == 0
    taken = set(
        (
            await uow.session.execute(
                select(KeyBooking.lock_id).where(
                    KeyBooking.facility == facility.key,
                    KeyBooking.starts_at == slot.starts_at,
                    col(KeyBooking.claim).is_not(None),
                )
            )
        ).scalars()
    )
    booking: KeyBooking | None = None
    for lock_id in facility.locks:
        if lock_id in taken:
            continue
        candidate = KeyBooking(
            facility=facility.key,
            lock_id=lock_id,
            citizen_id=citizen_id,
            holder_id=citizen_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=CONFIRMED if free else HELD,
            claim=claim(lock_id, slot.starts_at),
            price_cents=facility.price_cents,
            held_until=None if free else now + timedelta(minutes=rules.hold_minutes),
            created_at=now,
            confirmed_at=now if free else None,
        )
        if await _insert_claimed(uow, candidate):
            booking = candidate
            break
    if booking is None:
        raise Conflict("Sorry, this slot is fully booked. Please choose another one.")
    record(uow, booking, "booked", now)
    log_action(uow, now, "key.book", f"key_booking:{booking.id}", actor_citizen_id=citizen_id)
    payment: Payment | None = None
    if free:
        await issue_key(uow, rules, booking, now)
    else:
        assert booking.held_until is not None
        payment = await payments.start(
            uow,
            env,
            citizen_id=citizen_id,
            purpose=PURPOSE,
            ref=str(booking.id),
            amount_cents=facility.price_cents,
            description=f"{facility.name} {slot.starts_at.astimezone(env.city.tz):%d.%m.%Y %H:%M}",
            now=now,
            ttl=booking.held_until - now,
        )
        booking.payment_id = payment.id
    await uow.session.flush()
    return BookingResult(booking, facility, payment)


async def payment_received(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    """Payment hook: confirm the booking and issue its key, exactly once. A payment that
    arrives after the hold lapsed still confirms it while the lock's slot is free; otherwise
    the money goes back."""
    booking = await uow.session.get(KeyBooking, int(payment.ref), populate_existing=True)
    if booking is None:
        return
    rules = key_rules(env.city)
    when = i18n.moment(booking.starts_at, env.city.timezone)
    if booking.status == LAPSED and (booking.ends_at <= now or not await _reclaim(uow, booking)):
        await payments.refund(uow, env, payment.id or 0, payment.amount_cents, now)
        notify.notify_citizen(
            uow,
            booking.citizen_id,
            N_(
                "Your payment for {facility} on {when} arrived after your reservation had "
                "lapsed, and the slot is gone. You get the money back ({amount})."
            ),
            {
                "facility": facility_name(rules, booking),
                "when": when,
                "amount": i18n.money(payment.amount_cents),
            },
            now=now,
            dedupe_key=f"key-late:{booking.id}",
        )
        return
    changed = await uow.session.execute(
        update(KeyBooking)
        .where(KeyBooking.id == booking.id, KeyBooking.status == HELD)
        .values(status=CONFIRMED, confirmed_at=now, held_until=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return
    await uow.session.refresh(booking)
    record(uow, booking, "paid", now)
    await issue_key(uow, rules, booking, now)
    facility = rules.facility(booking.facility)
    notify.notify_citizen(
        uow,
        booking.holder_id,
        N_("Payment received: your key for {facility} on {when} is in your wallet."),
        {"facility": facility.name if facility else booking.facility, "when": when},
        now=now,
        buttons=[notify.button("Show the key", "keys.show", str(booking.id))],
        dedupe_key=f"key-paid:{booking.id}",
    )


async def _reclaim(uow: UnitOfWork, booking: KeyBooking) -> bool:
    """A lapsed booking whose payment came late takes its slot back if it is still free."""
    try:
        async with uow.session.begin_nested():
            changed = await uow.session.execute(
                update(KeyBooking)
                .where(KeyBooking.id == booking.id, KeyBooking.status == LAPSED)
                .values(status=HELD, claim=claim(booking.lock_id, booking.starts_at))
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return False
    return rows_changed(changed) == 1


async def payment_failed(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    await _end_hold(uow, int(payment.ref), now)


payments.register_purpose(PURPOSE, on_paid=payment_received, on_failed=payment_failed)
