"""Events, bookings and tickets (organisers publish, residents book, the door checks in)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from storage.types import moment_field

# event status
PUBLISHED, CANCELLED = "published", "cancelled"
# booking status
HELD, CONFIRMED, LAPSED = "held", "confirmed", "lapsed"
# ticket status (plus CANCELLED)
VALID, CHECKED_IN = "valid", "checked_in"


class Event(SQLModel, table=True):
    """A published event. `taken` counts places held or sold; it only ever changes through a
    conditional update, so `taken <= capacity` holds under any number of parallel bookings.
    Kept when the organiser deletes their account: tickets and bookings refer to it."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_event_quota"),
        Index("ix_event_status_start", "status", "starts_at"),
        {"info": {"erase": "keep"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="citizen.id", index=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=1000)
    place: str = Field(max_length=200)
    starts_at: datetime = moment_field()
    ends_at: datetime = moment_field()
    booking_deadline: datetime = moment_field()
    price_cents: int = 0
    capacity: int
    taken: int = 0
    status: str = Field(default=PUBLISHED, max_length=12)
    created_at: datetime = moment_field()
    cancelled_at: datetime | None = moment_field(nullable=True)


class Booking(SQLModel, table=True):
    """One resident's booking of 1..N places. A paid booking is `held` until paid (30 minutes),
    then `confirmed` with its tickets, or `lapsed` and its places return. Bookkeeping: kept
    (anonymised) when the resident is deleted."""

    __tablename__ = "event_booking"
    __table_args__ = (
        Index("ix_event_booking_hold", "status", "held_until"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    quantity: int
    unit_price_cents: int = 0
    status: str = Field(default=HELD, max_length=12)
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    held_until: datetime | None = moment_field(nullable=True)
    created_at: datetime = moment_field()
    confirmed_at: datetime | None = moment_field(nullable=True)
    ended_at: datetime | None = moment_field(nullable=True)  # lapsed or fully cancelled


class Ticket(SQLModel, table=True):
    """One admission. The code is a bearer instrument (60 bits + check character)."""

    __tablename__ = "event_ticket"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="event_booking.id", index=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    code: str = Field(max_length=16, unique=True)
    status: str = Field(default=VALID, max_length=12)
    price_cents: int = 0
    refunded_cents: int = 0
    created_at: datetime = moment_field()
    checked_in_at: datetime | None = moment_field(nullable=True)
    checked_in_by: int | None = None  # the organiser's citizen id (no key: survives deletion)
    cancelled_at: datetime | None = moment_field(nullable=True)
