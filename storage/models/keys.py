"""Digital keys: bookings of facilities with locks (bike boxes, rooms) and what locks report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from storage.types import moment_field

# booking status
HELD, CONFIRMED, CANCELLED, LAPSED = "held", "confirmed", "cancelled", "lapsed"


class KeyBooking(SQLModel, table=True):
    """One slot of one lock. `claim` is "<lock>@<slot start>" while the booking is held or
    confirmed and NULL after; its unique index is what makes double booking impossible on
    SQLite and PostgreSQL alike (NULLs do not collide). `holder_id` holds the key: the booker,
    or whom they passed it on to. `token_id` is the signed key's id (services/trust/tokens.py);
    cancelling or passing on revokes it. Bookkeeping: kept anonymised when a resident goes."""

    __tablename__ = "key_booking"
    __table_args__ = (
        Index("ix_key_booking_hold", "status", "held_until"),
        Index("ix_key_booking_slot", "facility", "starts_at"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    facility: str = Field(max_length=40)
    lock_id: str = Field(max_length=60)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    holder_id: int = Field(foreign_key="citizen.id", index=True)
    starts_at: datetime = moment_field()
    ends_at: datetime = moment_field()
    status: str = Field(default=HELD, max_length=12)
    claim: str | None = Field(default=None, max_length=100, unique=True)
    price_cents: int = 0
    refunded_cents: int = 0
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    held_until: datetime | None = moment_field(nullable=True)
    token: str | None = Field(default=None, sa_type=Text)
    token_id: str | None = Field(default=None, max_length=64, index=True)
    handover_code: str | None = Field(default=None, max_length=16, unique=True)
    created_at: datetime = moment_field()
    confirmed_at: datetime | None = moment_field(nullable=True)
    cancelled_at: datetime | None = moment_field(nullable=True)


class KeyEvent(SQLModel, table=True):
    """The history of a booking: booked, paid, key issued, passed on, cancelled, and what its
    lock reported (opened, refused). A lock may send an event twice (it retries when offline):
    `dedupe` ("<lock>|<kind>|<time>") keeps it once."""

    __tablename__ = "key_event"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="key_booking.id", index=True)
    kind: str = Field(max_length=20)
    at: datetime = moment_field()
    lock_id: str = Field(default="", max_length=60)
    detail: str = Field(default="", max_length=80)  # a reason word, never personal data
    dedupe: str | None = Field(default=None, max_length=140, unique=True)
    created_at: datetime = moment_field()
