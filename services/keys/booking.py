"""Booking a slot of a facility with a lock, and the key that comes with it.

A booking claims one lock's slot: the unique `claim` column (services/keys/config.py `claim`)
is set in the INSERT itself, inside a savepoint, so of two residents booking the last free box
at the same moment one gets it and the other gets the next box or "fully booked" — on SQLite
and PostgreSQL alike, with no read-then-write. Free slots are confirmed at once; paid ones are
held for `hold_minutes` while the resident pays through the one checkout. A confirmed booking
gets its key: a signed token of kind "key" (services/trust/tokens.py) valid for the slot plus
the grace times. Cancelling or passing the key on revokes the token; the lock side is in
services/keys/lock.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import codes, i18n, notify
from services.audit import log_action
from services.city import City
from services.env import Env
from services.errors import Conflict, InvalidInput, LimitReached, NotAllowed, NotFound
from services.i18n import N_
from services.identity import privacy
from services.keys.config import Facility, KeyRules, Slot, claim, key_window, refund_cents, slots_on
from services.keys.config import rules as key_rules
from services.payments import lifecycle as payments
from services.trust import tokens
from services.wallet import sources as wallet
from storage.models.keys import CANCELLED, CONFIRMED, HELD, LAPSED, KeyBooking, KeyEvent
from storage.models.payments import EXPIRED, PAID, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)
PURPOSE = "key"
TOKEN_KIND = "key"
CODE_LENGTH = 12
LIVE = (HELD, CONFIRMED)
__all__ = ["CANCELLED", "CONFIRMED", "HELD", "LAPSED", "KeyBooking", "KeyEvent"]


# ---------------------------------------------------------------- reading
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


async def get_booking(uow: UnitOfWork, booking_id: int) -> KeyBooking:
    booking = await uow.session.get(KeyBooking, booking_id, populate_existing=True)
    if booking is None:
        raise NotFound("This booking does not exist.")
    return booking


async def own_booking(uow: UnitOfWork, citizen_id: int, booking_id: int) -> KeyBooking:
    """A booking the resident made or whose key they hold."""
    booking = await uow.session.get(KeyBooking, booking_id, populate_existing=True)
    if booking is None or citizen_id not in (booking.citizen_id, booking.holder_id):
        raise NotFound("This booking is not yours or does not exist.")
    return booking


async def bookings_of(uow: UnitOfWork, citizen_id: int, now: datetime) -> list[KeyBooking]:
    """Bookings the resident made or holds the key of, not ended more than 7 days ago."""
    query = (
        select(KeyBooking)
        .where(
            or_(KeyBooking.citizen_id == citizen_id, KeyBooking.holder_id == citizen_id),
            col(KeyBooking.status).in_([*LIVE, CANCELLED]),
            KeyBooking.ends_at > now - timedelta(days=7),
        )
        .order_by(KeyBooking.starts_at, KeyBooking.id)
        .limit(50)
    )
    return list((await uow.session.execute(query)).scalars())


async def history(uow: UnitOfWork, booking_id: int) -> list[KeyEvent]:
    query = (
        select(KeyEvent)
        .where(KeyEvent.booking_id == booking_id)
        .order_by(KeyEvent.at, KeyEvent.id)
        .limit(100)
    )
    return list((await uow.session.execute(query)).scalars())


def record(
    uow: UnitOfWork, booking: KeyBooking, kind: str, now: datetime, detail: str = ""
) -> None:
    uow.session.add(
        KeyEvent(
            booking_id=booking.id or 0,
            kind=kind,
            at=now,
            lock_id=booking.lock_id,
            detail=detail,
            created_at=now,
        )
    )


def key_state(booking: KeyBooking, rules: KeyRules, now: datetime) -> str:
    """ "pending" (being paid), "upcoming", "valid" (opens now), "expired", "cancelled"."""
    if booking.status == HELD:
        return "pending"
    if booking.status != CONFIRMED:
        return "cancelled" if booking.status == CANCELLED else "expired"
    opens, closes = key_window(rules, booking.starts_at, booking.ends_at)
    if now >= closes:
        return "expired"
    return "valid" if now >= opens else "upcoming"


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


def claims_of(booking: KeyBooking) -> dict[str, Any]:
    """What the key says: which lock, which booking, which slot (UTC, ISO 8601)."""
    return {
        "lock": booking.lock_id,
        "booking": booking.id,
        "slot": {
            "start": booking.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "end": booking.ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        },
    }


async def issue_key(uow: UnitOfWork, rules: KeyRules, booking: KeyBooking, now: datetime) -> str:
    """Sign a fresh key for the booking's current holder (valid for the slot ± grace)."""
    not_before, expires = key_window(rules, booking.starts_at, booking.ends_at)
    token, token_id = await tokens.issue(
        uow, TOKEN_KIND, claims_of(booking), not_before=not_before, expires=expires, now=now
    )
    booking.token, booking.token_id = token, token_id
    record(uow, booking, "issued", now)
    await uow.session.flush()
    return token


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
                "facility": _name(rules, booking),
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


# ---------------------------------------------------------------- cancel
async def cancel(
    uow: UnitOfWork, env: Env, *, citizen_id: int, booking_id: int, now: datetime
) -> int:
    """The booker cancels: the slot becomes free, the key is revoked at once (online and in the
    published revocation list), a paid slot is refunded by the configured rule. Returns the
    cents refunded."""
    rules = key_rules(env.city)
    booking = await own_booking(uow, citizen_id, booking_id)
    if booking.citizen_id != citizen_id:
        raise NotAllowed("Only the person who booked can cancel. You can pass the key on.")
    if booking.status not in LIVE:
        raise Conflict("This booking is already cancelled.")
    if booking.ends_at <= now:
        raise Conflict("This slot is already over.")
    changed = await uow.session.execute(
        update(KeyBooking)
        .where(KeyBooking.id == booking_id, col(KeyBooking.status).in_(LIVE))
        .values(status=CANCELLED, claim=None, handover_code=None, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This booking changed meanwhile. Please look at it again.")
    await uow.session.refresh(booking)
    if booking.token_id:
        await tokens.revoke(uow, booking.token_id, "cancelled", now)
    record(uow, booking, "cancelled", now)
    log_action(uow, now, "key.cancel", f"key_booking:{booking.id}", actor_citizen_id=citizen_id)
    refunded = 0
    if booking.payment_id is not None:
        payment = await uow.session.get(Payment, booking.payment_id)
        if payment is not None and payment.status == PAID:
            refunded = refund_cents(rules, payment.amount_cents, booking.starts_at, now)
            if refunded and await payments.refund(uow, env, payment.id or 0, refunded, now):
                booking.refunded_cents = refunded
            else:
                refunded = 0
        elif payment is not None:
            await payments.settle(uow, env, payment.id or 0, "cancelled", now)
    if booking.holder_id != citizen_id:
        notify.notify_citizen(
            uow,
            booking.holder_id,
            N_("The booking of {facility} on {when} was cancelled; your key no longer opens."),
            {
                "facility": _name(rules, booking),
                "when": i18n.moment(booking.starts_at, env.city.timezone),
            },
            now=now,
        )
    await uow.session.flush()
    return refunded


def _name(rules: KeyRules, booking: KeyBooking) -> str:
    facility = rules.facility(booking.facility)
    return facility.name if facility else booking.facility


# ---------------------------------------------------------------- passing the key on
async def start_handover(
    uow: UnitOfWork, city: City, *, citizen_id: int, booking_id: int, now: datetime
) -> str:
    """A single-use hand-over code for the key (valid until the slot ends). Whoever enters it
    gets a fresh key; this one stops working then."""
    booking = await own_booking(uow, citizen_id, booking_id)
    if booking.holder_id != citizen_id:
        raise NotAllowed("You passed this key on; only its holder can pass it on again.")
    if key_state(booking, key_rules(city), now) not in ("valid", "upcoming"):
        raise Conflict("Only a confirmed key for a slot still to come can be passed on.")
    if booking.handover_code:
        return booking.handover_code
    code = codes.new_code(CODE_LENGTH)
    changed = await uow.session.execute(
        update(KeyBooking)
        .where(
            KeyBooking.id == booking_id,
            KeyBooking.holder_id == citizen_id,
            KeyBooking.status == CONFIRMED,
            col(KeyBooking.handover_code).is_(None),
        )
        .values(handover_code=code)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This booking changed meanwhile. Please look at it again.")
    await uow.session.refresh(booking)
    return code


async def stop_handover(uow: UnitOfWork, *, citizen_id: int, booking_id: int) -> None:
    await own_booking(uow, citizen_id, booking_id)
    await uow.session.execute(
        update(KeyBooking)
        .where(KeyBooking.id == booking_id, KeyBooking.holder_id == citizen_id)
        .values(handover_code=None)
        .execution_options(synchronize_session=False)
    )


def read_code(text: str) -> str:
    raw = text.strip()
    if raw.casefold().startswith("k-"):
        raw = raw[2:]
    try:
        return codes.parse_code(raw, CODE_LENGTH)
    except codes.CodeTypo:
        raise InvalidInput(
            "This code has a typo: one character is wrong. Please check it and type it again."
        ) from None
    except ValueError:
        raise InvalidInput(
            "That is not a hand-over code. It has 13 characters, for example {example}.",
            example="ABCD-EFGH-JKMN-P",
        ) from None


async def take_over(
    uow: UnitOfWork, city: City, *, citizen_id: int, code: str, now: datetime
) -> KeyBooking:
    """The new holder enters the hand-over code: the old key is revoked, a fresh one is
    signed for them. One conditional update, so a code works exactly once."""
    rules = key_rules(city)
    found = await uow.session.execute(select(KeyBooking).where(KeyBooking.handover_code == code))
    booking: KeyBooking | None = found.scalar_one_or_none()
    if booking is None:
        raise NotFound("No key waits under this code. It may have been used already.")
    if booking.holder_id == citizen_id:
        raise Conflict("This key is already yours. Give the code to the person who should get it.")
    if key_state(booking, rules, now) not in ("valid", "upcoming"):
        raise Conflict("This key can no longer be passed on: its slot is over or cancelled.")
    previous, old_token = booking.holder_id, booking.token_id
    changed = await uow.session.execute(
        update(KeyBooking)
        .where(
            KeyBooking.id == booking.id,
            KeyBooking.handover_code == code,
            KeyBooking.status == CONFIRMED,
        )
        .values(holder_id=citizen_id, handover_code=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This code was used a moment ago.")
    await uow.session.refresh(booking)
    if old_token:
        await tokens.revoke(uow, old_token, "passed_on", now)
    record(uow, booking, "passed_on", now)
    await issue_key(uow, rules, booking, now)
    log_action(uow, now, "key.pass_on", f"key_booking:{booking.id}", actor_citizen_id=citizen_id)
    notify.notify_citizen(
        uow,
        previous,
        N_("Your key for {facility} on {when} was passed on; yours no longer opens."),
        {"facility": _name(rules, booking), "when": i18n.moment(booking.starts_at, city.timezone)},
        now=now,
    )
    return booking


# ---------------------------------------------------------------- wallet and deletion
async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[wallet.WalletEntry]:
    rules = key_rules(city)
    found: list[wallet.WalletEntry] = []
    for booking in await bookings_of(uow, citizen_id, now):
        if booking.holder_id != citizen_id:
            continue
        facility = rules.facility(booking.facility)
        state = key_state(booking, rules, now)
        title, params = title_of(facility, booking)
        found.append(
            wallet.WalletEntry(
                kind="key",
                title=title,
                title_params=params,
                code=booking.token_id or f"booking-{booking.id}",
                status="valid" if state == "upcoming" else state,
                valid_from=booking.starts_at.astimezone(city.tz).date(),
                valid_until=booking.ends_at.astimezone(city.tz).date(),
                action="keys.show",
                arg=str(booking.id),
                sort_at=booking.starts_at,
            )
        )
    return found


def title_of(
    facility: Facility | None, booking: KeyBooking
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key's name as a msgid and its parameters: "Key Fahrradboxen Bahnhof no. 3"."""
    if facility is None:
        return N_("Key {facility}"), (("facility", booking.facility),)
    if len(facility.locks) == 1:
        return N_("Key {facility}"), (("facility", facility.name),)
    return N_("Key {facility} no. {unit}"), (
        ("facility", facility.name),
        ("unit", str(facility.unit(booking.lock_id))),
    )


wallet.register_source("keys", wallet_entries)


async def holdings(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[privacy.Holding]:
    rules = key_rules(city)
    return [
        privacy.Holding(
            kind="key",
            title=N_("Booking of {facility} on {when}: {amount}"),
            params=(
                ("facility", _name(rules, booking)),
                ("when", i18n.moment(booking.starts_at, city.timezone)),
                ("amount", i18n.money(booking.price_cents - booking.refunded_cents)),
            ),
            cents=booking.price_cents - booking.refunded_cents
            if booking.status == CONFIRMED
            else 0,
            ref=str(booking.id),
        )
        for booking in await bookings_of(uow, citizen_id, now)
        if booking.citizen_id == citizen_id and booking.status in LIVE and booking.ends_at > now
    ]


async def close_for_deletion(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Cancel the resident's bookings still to come and revoke every key they hold, so no key
    stays valid once its holder is anonymous."""
    closed = 0
    query = select(KeyBooking).where(
        or_(KeyBooking.citizen_id == citizen_id, KeyBooking.holder_id == citizen_id),
        col(KeyBooking.status).in_(LIVE),
        KeyBooking.ends_at > now,
    )
    for booking in list((await uow.session.execute(query)).scalars()):
        changed = await uow.session.execute(
            update(KeyBooking)
            .where(KeyBooking.id == booking.id, col(KeyBooking.status).in_(LIVE))
            .values(status=CANCELLED, claim=None, handover_code=None, cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(changed) == 1:
            if booking.token_id:
                await tokens.revoke(uow, booking.token_id, "deleted", now)
            record(uow, booking, "cancelled", now, "deleted")
            closed += 1
    await uow.session.flush()
    return closed


privacy.register_holdings("keys", holdings, close_for_deletion)
