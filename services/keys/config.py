"""The `[keys]` section of the city configuration: facilities with locks, their slots, prices
and grace times, and the rules for cancelling. Pure functions compute a day's slots in the
city's time zone (wall-clock times, so a daily slot is 23 or 25 hours on a DST switch)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services import city as city_config
from services.city import City

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
LOCK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")  # also the name of the lock's API key
CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


class Facility(BaseModel):
    """Something bookable behind one or more locks: one lock per unit (box, room)."""

    model_config = ConfigDict(extra="forbid")
    key: str
    name: str  # its proper name, shown as is in both languages ("Fahrradboxen Bahnhof")
    place: str = ""
    locks: list[str] = Field(min_length=1, max_length=500)
    slot_minutes: int = Field(default=120, ge=15, le=24 * 60)
    opens: str = "08:00"
    closes: str = "22:00"  # "24:00": until midnight
    price_cents: int = Field(default=0, ge=0, le=100_000)  # per slot; 0 = free
    keywords: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.fullmatch(value):
            raise ValueError(f"facility key {value!r}: lower-case letters, digits and dashes")
        return value

    @field_validator("locks")
    @classmethod
    def _lock_ids(cls, value: list[str]) -> list[str]:
        for lock in value:
            if not LOCK_ID.fullmatch(lock):
                raise ValueError(f"lock id {lock!r}: 1-60 letters, digits, dots, dashes")
        if len(set(value)) != len(value):
            raise ValueError("a lock id appears twice")
        return value

    @field_validator("opens", "closes")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK.fullmatch(value):
            raise ValueError(f"{value!r} is not a time of day like 08:00")
        return value

    @model_validator(mode="after")
    def _slots_fit(self) -> Facility:
        if minutes(self.closes) - minutes(self.opens) < self.slot_minutes:
            raise ValueError(f"facility {self.key}: no slot fits between opens and closes")
        return self

    def unit(self, lock_id: str) -> int:
        """The number of the lock's unit (box 3), counted from 1."""
        return self.locks.index(lock_id) + 1


class KeyRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_before_minutes: int = Field(default=15, ge=0, le=24 * 60)
    grace_after_minutes: int = Field(default=15, ge=0, le=24 * 60)
    clock_tolerance_seconds: int = Field(default=120, ge=0, le=3600)  # offline locks' clocks
    days_ahead: int = Field(default=14, ge=1, le=365)
    hold_minutes: int = Field(default=30, ge=5, le=24 * 60)  # paid slots held while paying
    max_active_bookings: int = Field(default=4, ge=1, le=100)
    refund_percent_before_start: int = Field(default=100, ge=0, le=100)
    refund_percent_after_start: int = Field(default=0, ge=0, le=100)
    facilities: list[Facility] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> KeyRules:
        keys = [f.key for f in self.facilities]
        if len(set(keys)) != len(keys):
            raise ValueError("a facility key appears twice")
        locks = [lock for f in self.facilities for lock in f.locks]
        if len(set(locks)) != len(locks):
            raise ValueError("a lock id is used by two facilities")
        return self

    def facility(self, key: str) -> Facility | None:
        return next((f for f in self.facilities if f.key == key), None)

    def facility_of_lock(self, lock_id: str) -> Facility | None:
        return next((f for f in self.facilities if lock_id in f.locks), None)

    @property
    def grace_before(self) -> timedelta:
        return timedelta(minutes=self.grace_before_minutes)

    @property
    def grace_after(self) -> timedelta:
        return timedelta(minutes=self.grace_after_minutes)


city_config.register_section("keys", KeyRules)


def rules(city: City) -> KeyRules:
    return city.section("keys", KeyRules)


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


@dataclass(frozen=True)
class Slot:
    number: int  # 0, 1, ... within the day
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC


def _at(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime:
    """Wall-clock minute of the day in the city, as UTC (minute 1440 is the next midnight)."""
    extra_days, minute = divmod(minute_of_day, 24 * 60)
    wall = datetime.combine(day + timedelta(days=extra_days), time(minute // 60, minute % 60))
    return wall.replace(tzinfo=tz).astimezone(UTC)


def slots_on(facility: Facility, day: date, tz: ZoneInfo) -> list[Slot]:
    """The day's slots: from `opens`, `slot_minutes` long, the last one ending by `closes`."""
    first, last = minutes(facility.opens), minutes(facility.closes)
    found: list[Slot] = []
    start = first
    while start + facility.slot_minutes <= last:
        end = start + facility.slot_minutes
        found.append(Slot(len(found), _at(day, start, tz), _at(day, end, tz)))
        start = end
    return found


def claim(lock_id: str, starts_at: datetime) -> str:
    """The value whose uniqueness forbids two live bookings of one lock's slot."""
    return f"{lock_id}@{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


def key_window(
    rules: KeyRules, starts_at: datetime, ends_at: datetime
) -> tuple[datetime, datetime]:
    """When the key opens its lock: the slot plus the grace time before and after."""
    return starts_at - rules.grace_before, ends_at + rules.grace_after


def refund_cents(rules: KeyRules, paid_cents: int, starts_at: datetime, now: datetime) -> int:
    """What a cancellation pays back: a whole-percent share of the price, rounded down to the
    cent (full refund before the start by default, nothing after)."""
    percent = (
        rules.refund_percent_before_start if now < starts_at else rules.refund_percent_after_start
    )
    return paid_cents * percent // 100
