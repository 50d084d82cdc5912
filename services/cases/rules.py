"""Rules for forms and cases that need no database: the `forms` section of the city
configuration, fee estimates, dangerous breeds, office hours, transit pass periods."""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services import city
from services.numbers import parse_int

SUBMITTED, IN_PROGRESS, QUESTION, APPROVED, REJECTED, CLOSED = (
    "submitted",
    "in_progress",
    "question",
    "approved",
    "rejected",
    "closed",
)
OPEN_STATUSES = (SUBMITTED, IN_PROGRESS, QUESTION)
FINAL_STATUSES = (APPROVED, REJECTED, CLOSED)


class Daycare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name: str


class OfficeHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: list[int]
    start: time
    end: time

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= d <= 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value


class MinimumFee(BaseModel):
    cents: int = 2500


class FormRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference_prefix: str = Field(default="AH", pattern=r"^[A-Z]{1,5}$")
    dangerous_breeds: list[str] = Field(default_factory=list)
    space_lead_days: int = Field(default=14, ge=0)
    space_fees: dict[str, int] = Field(default_factory=dict)
    space_minimum_fee: MinimumFee = Field(default_factory=MinimumFee)
    daycares: list[Daycare] = Field(default_factory=list)
    daycare_max_choices: int = Field(default=3, ge=1, le=10)
    transit_price_cents: int = Field(default=3900, gt=0)
    # the current month is offered while at least this many days of it are left ...
    transit_min_days_left: int = Field(default=10, ge=1, le=31)
    # ... and from this day of the month the next month as well
    transit_next_month_from_day: int = Field(default=20, ge=1, le=31)
    processing_days: dict[str, int] = Field(default_factory=dict)
    office_hours: list[OfficeHours] = Field(default_factory=list)

    def daycare(self, key: str) -> Daycare | None:
        return next((d for d in self.daycares if d.key == key), None)


city.register_section("forms", FormRules)


def rules(town: city.City) -> FormRules:
    return town.section("forms", FormRules)


# ---------------------------------------------------------------- references
def reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def normalise_reference(text: str) -> str:
    """'ah 2026 123', 'AH-2026-000123' -> 'AH-2026-000123'; '' when it cannot be one."""
    parts = [p for p in "".join(c if c.isalnum() else " " for c in text.upper()).split() if p]
    if len(parts) != 3 or not parts[0].isalpha() or len(parts[1]) != 4 or len(parts[2]) > 9:
        return ""
    year, number = parse_int(parts[1]), parse_int(parts[2])
    if year is None or number is None:
        return ""
    return reference(parts[0], year, number)


# ---------------------------------------------------------------- dog tax
def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in plain if ch.isalnum())


def dangerous_breed(breed: str, listed: list[str]) -> str | None:
    """The listed breed a given breed (or crossbreed, 'Rottweiler-Mix') belongs to."""
    folded = _fold(breed)
    for name in listed:
        key = _fold(name)
        if key and key in folded:
            return name
    return None


def valid_chip(text: str) -> str | None:
    """A transponder number: exactly 15 digits (ISO 11784/11785); spaces allowed when typed."""
    digits = "".join(text.split())
    return digits if len(digits) == 15 and digits.isascii() and digits.isdigit() else None


def chip_problem(text: str) -> tuple[str, dict[str, object]]:
    """Why a typed chip number is no chip number, precisely (msgid, params)."""
    typed = "".join(text.split())
    wrong = [ch for ch in typed if not (ch.isascii() and ch.isdigit()) and ch not in "-/."]
    if wrong:
        shown = ", ".join(dict.fromkeys(wrong))
        return (
            "A microchip number has digits only; {chars} is not a digit (the letter O is easily "
            "mistaken for zero). Please check it.",
            {"chars": shown},
        )
    digits = sum(ch in "0123456789" for ch in typed)
    return (
        "A microchip number has exactly 15 digits; this one has {n}. Please check it.",
        {"n": digits},
    )


# ---------------------------------------------------------------- special use
def space_fee(
    rules: FormRules, purpose: str, area_m2: Decimal | float | str, first: date, last: date
) -> int:
    """Fee estimate in cents: rate per m² and day × area × days, at least the minimum fee.

    Money never meets a binary float: the area (as the resident typed it, e.g. 12,5 m²) is
    taken as a decimal, and the product is rounded half up to whole cents."""
    days = max((last - first).days + 1, 0)
    rate = rules.space_fees.get(purpose, rules.space_fees.get("other", 0))
    area = Decimal(str(area_m2))
    cents = int((rate * area * days).to_integral_value(rounding=ROUND_HALF_UP))
    return max(cents, rules.space_minimum_fee.cents)


def short_lead(rules: FormRules, first: date, today: date) -> bool:
    return (first - today).days < rules.space_lead_days


# ---------------------------------------------------------------- office hours
OpenDay = Callable[[date], bool]  # False on public holidays (services.workdays)


def _every_day(day: date) -> bool:
    return True


def in_office_hours(
    rules: FormRules, moment: datetime, tz: ZoneInfo, open_day: OpenDay = _every_day
) -> bool:
    if not rules.office_hours:
        return True
    local = moment.astimezone(tz)
    if not open_day(local.date()):
        return False
    return any(
        local.weekday() in hours.days and hours.start <= local.time() < hours.end
        for hours in rules.office_hours
    )


def next_opening(
    rules: FormRules, moment: datetime, tz: ZoneInfo, open_day: OpenDay = _every_day
) -> datetime | None:
    """When the helpdesk opens next (now, if it is open); None without office hours. Days that
    are not `open_day` (public holidays) are skipped: from Maundy Thursday evening over Easter
    that is the Tuesday."""
    if not rules.office_hours:
        return None
    local = moment.astimezone(tz)
    for offset in range(22):
        day = local.date() + timedelta(days=offset)
        if not open_day(day):
            continue
        spans = sorted(
            (datetime.combine(day, h.start, tz), datetime.combine(day, h.end, tz))
            for h in rules.office_hours
            if day.weekday() in h.days
        )
        for start, end in spans:
            if start <= local < end:
                return local
            if start > local:
                return start
    return None


# ---------------------------------------------------------------- transit pass
def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_key(day: date) -> str:
    return day.strftime("%Y-%m")


def pass_months(
    today: date,
    proof_until: date,
    taken_months: set[str],
    *,
    min_days_left: int,
    next_month_from_day: int,
) -> list[tuple[date, date]]:
    """The months a pass can be bought for today, as (first useful day, last day): the current
    month only while at least `min_days_left` days of it are left (today counted), otherwise
    the next; from day `next_month_from_day` of a month the next month as well (so December
    can be paid before it starts); never a month already paid, never beyond the proof."""
    this_end = month_end(today)
    next_first = this_end + timedelta(days=1)
    days_left = (this_end - today).days + 1
    useful_now = days_left >= min_days_left and today <= proof_until
    offered = []
    if useful_now and month_key(today) not in taken_months:
        offered.append((today, min(this_end, proof_until)))
    wants_next = (
        not useful_now or month_key(today) in taken_months or today.day >= next_month_from_day
    )
    if wants_next and month_key(next_first) not in taken_months and next_first <= proof_until:
        offered.append((next_first, min(month_end(next_first), proof_until)))
    return offered
