"""What changes a booking after it is made: the booker cancels (the key is revoked, a paid slot
refunded by the configured rule), the holder passes the key on with a single-use hand-over code
(the old key is revoked, the new holder gets a freshly signed one). Every change is a
conditional update, so a code works once and a booking is cancelled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services import codes, i18n, notify
from services.audit import log_action
from services.city import City
from services.env import Env
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from services.keys.config import refund_cents
from services.keys.config import rules as key_rules
from services.keys.records import (
    CANCELLED,
    CONFIRMED,
    LIVE,
    KeyBooking,
    facility_name,
    issue_key,
    key_state,
    own_booking,
    record,
)
from services.payments import lifecycle as payments
from services.trust import tokens
from storage.models.payments import PAID, Payment
from storage.uow import UnitOfWork, rows_changed

CODE_LENGTH = 12


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
                "facility": facility_name(rules, booking),
                "when": i18n.moment(booking.starts_at, env.city.timezone),
            },
            now=now,
        )
    await uow.session.flush()
    return refunded


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
            "That is not a hand-over code. It has 14 characters, for example {example}.",
            example="ABCD-EFGH-JKMN-PQ",
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
        {
            "facility": facility_name(rules, booking),
            "when": i18n.moment(booking.starts_at, city.timezone),
        },
        now=now,
    )
    return booking
