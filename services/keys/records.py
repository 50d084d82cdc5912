"""Reading bookings and their history, the state of a key, and signing a key for a booking's
current holder (a token of kind "key", services/trust/tokens.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from services.errors import NotFound
from services.keys.config import KeyRules, key_window
from services.trust import tokens
from storage.models.keys import CANCELLED, CONFIRMED, HELD, LAPSED, KeyBooking, KeyEvent
from storage.uow import UnitOfWork

TOKEN_KIND = "key"
LIVE = (HELD, CONFIRMED)
__all__ = ["CANCELLED", "CONFIRMED", "HELD", "LAPSED", "LIVE", "KeyBooking", "KeyEvent"]


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


def facility_name(rules: KeyRules, booking: KeyBooking) -> str:
    facility = rules.facility(booking.facility)
    return facility.name if facility else booking.facility


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
