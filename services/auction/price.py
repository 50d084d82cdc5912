"""The auction's price rule, as pure functions of the day.

Day d is the number of whole local days (city time zone) since the auction started; day 0 is the
listing day. The price on day d is

    max(floor, round(start × factor(d)))

where factor(d) is, in parts per billion (ppb),
- linear:   1 − d × rate              (1 % of the start price per day; exact), or
- compound: (1 − rate)^d, rounded half up to nine decimal places (each day takes 1 % of the
            day before);
and `round` is the city's named rounding rule for cents: "half_up" (kaufmännisch, the default),
"down" or "up". The same integer formula runs in SQL in the daily step (services/auction/daily.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PPB = 1_000_000_000
VARIANTS = ("linear", "compound")
ROUNDINGS = ("half_up", "down", "up")
MAX_DAYS = 20_000


@dataclass(frozen=True)
class Rule:
    variant: str = "linear"
    rate_bp: int = 100  # basis points per day: 100 = 1 %
    rounding: str = "half_up"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown price variant {self.variant!r}")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"unknown rounding rule {self.rounding!r}")
        if not 1 <= self.rate_bp < 10_000:
            raise ValueError("the daily rate must be between 0.01 % and 99.99 %")


def divide(numerator: int, denominator: int, rounding: str) -> int:
    """Non-negative integer division by the named rounding rule."""
    if rounding == "half_up":
        return (numerator + denominator // 2) // denominator
    if rounding == "up":
        return (numerator + denominator - 1) // denominator
    return numerator // denominator


@functools.lru_cache(maxsize=4096)
def factor_ppb(variant: str, rate_bp: int, day: int) -> int:
    """The share of the start price left on `day`, in parts per billion."""
    if day <= 0:
        return PPB
    if variant == "linear":
        return max(0, PPB - day * rate_bp * (PPB // 10_000))
    keep, whole = (10_000 - rate_bp) ** day, 10_000**day
    return int((2 * PPB * keep + whole) // (2 * whole))  # half up


def price_on(start_cents: int, floor_cents: int, rule: Rule, day: int) -> int:
    raw = divide(start_cents * factor_ppb(rule.variant, rule.rate_bp, day), PPB, rule.rounding)
    return max(floor_cents, raw)


def reach_day(start_cents: int, floor_cents: int, rule: Rule, cents: int) -> int:
    """The first day on which the price is `cents` or less (MAX_DAYS if it never is: below the
    floor). Prices never rise, so: binary search. Known when an item is listed or a wish or
    alert is made, so the nightly step looks these days up instead of recomputing prices."""
    if cents < floor_cents:
        return MAX_DAYS
    low, high = 0, 1
    while price_on(start_cents, floor_cents, rule, high) > cents:
        low, high = high, high * 2
        if high > MAX_DAYS:
            return MAX_DAYS
    while low < high:
        middle = (low + high) // 2
        if price_on(start_cents, floor_cents, rule, middle) > cents:
            low = middle + 1
        else:
            high = middle
    return low


def floor_day(start_cents: int, floor_cents: int, rule: Rule) -> int:
    """The first day on which the price is the floor."""
    return reach_day(start_cents, floor_cents, rule, floor_cents)


def day_number(moment: datetime, tz: ZoneInfo) -> int:
    """The local day of `moment` as an ordinal (days are counted by the city's calendar, so
    the 23- and 25-hour days of the daylight-saving switches are one day each)."""
    return moment.astimezone(tz).date().toordinal()


def day_of(dayno: int) -> date:
    return date.fromordinal(dayno)


def curve(start_cents: int, floor_cents: int, rule: Rule, first: int, last: int) -> list[int]:
    return [price_on(start_cents, floor_cents, rule, d) for d in range(first, last + 1)]


def local_midnight_after(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
