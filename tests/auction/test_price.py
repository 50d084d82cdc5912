"""The price rule, exactly in cents."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.auction.price import Rule, day_number, divide, factor_ppb, floor_day, price_on

BERLIN = ZoneInfo("Europe/Berlin")
LINEAR = Rule("linear", 100, "half_up")
COMPOUND = Rule("compound", 100, "half_up")


@pytest.mark.parametrize(
    ("day", "cents"),
    [
        (0, 12_345),
        (1, 12_222),
        (2, 12_098),
        (37, 7_777),
        (50, 6_173),
        (59, 5_061),
        (60, 5_000),
        (61, 5_000),
        (400, 5_000),
    ],
)
def test_linear_curve_in_cents(day: int, cents: int) -> None:
    # 123,45 € falling by 1,2345 € a day: day 1 = 122,2155 -> 122,22; day 2 = 120,981 -> 120,98
    assert price_on(12_345, 5_000, LINEAR, day) == cents


@pytest.mark.parametrize(
    ("day", "cents"),
    [
        (0, 10_000),
        (1, 9_900),
        (2, 9_801),
        (3, 9_703),
        (10, 9_044),
        (68, 5_049),
        (69, 4_998),
        (200, 1_340),
        (500, 1_000),
    ],
)
def test_compound_curve_in_cents(day: int, cents: int) -> None:
    # 100 € × 0.99^d: 99, 98.01, 97.0299 -> 97.03, 0.99^10 = 0.904382... -> 90.44
    assert price_on(10_000, 1_000, COMPOUND, day) == cents


def test_rounding_rules_are_named_and_distinct() -> None:
    # 123,45 € on day 1 is 122,2155 €
    assert price_on(12_345, 1, Rule("linear", 100, "half_up"), 1) == 12_222
    assert price_on(12_345, 1, Rule("linear", 100, "down"), 1) == 12_221
    assert price_on(12_345, 1, Rule("linear", 100, "up"), 1) == 12_222
    assert divide(5, 10, "half_up") == 1 and divide(4, 10, "half_up") == 0
    with pytest.raises(ValueError):
        Rule("linear", 100, "banker")


def test_floor_and_configurable_rate() -> None:
    assert price_on(10_000, 4_000, LINEAR, 59) == 4_100
    assert price_on(10_000, 4_000, LINEAR, 60) == 4_000
    assert price_on(10_000, 4_000, LINEAR, 100) == 4_000  # factor 0: never below the floor
    assert price_on(10_000, 4_000, LINEAR, 1000) == 4_000
    assert floor_day(10_000, 4_000, LINEAR) == 60
    assert floor_day(10_000, 4_000, Rule("linear", 250, "half_up")) == 24
    assert price_on(10_000, 0, Rule("linear", 250, "half_up"), 2) == 9_500
    assert floor_day(10_000, 5_000, COMPOUND) == 69  # 0.99^69 = 0.4998
    assert factor_ppb("compound", 100, 1) == 990_000_000
    assert factor_ppb("linear", 100, 150) == 0


def test_days_are_counted_in_berlin_across_daylight_saving() -> None:
    start = datetime(2027, 3, 27, 12, 0, tzinfo=BERLIN)  # Saturday before the March switch
    first = day_number(start, BERLIN)
    # Sunday 28 March has 23 hours; 00:30 on Monday is two days later, not one
    assert day_number(datetime(2027, 3, 29, 0, 30, tzinfo=BERLIN), BERLIN) - first == 2
    assert day_number(datetime(2027, 3, 28, 23, 59, tzinfo=BERLIN), BERLIN) - first == 1
    # October: the 25-hour Sunday is still one day; 23:30 local on it is the same day
    autumn = datetime(2027, 10, 30, 9, 0, tzinfo=BERLIN)
    late = datetime(2027, 10, 31, 23, 30, tzinfo=BERLIN)
    assert day_number(late, BERLIN) - day_number(autumn, BERLIN) == 1
    # in UTC 23:30 local on 31 Oct is 22:30 UTC; on 28 March 00:30 local is 23:30 UTC on 27th
    utc_march = datetime(2027, 3, 27, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert day_number(utc_march, BERLIN) - first == 1
    price = price_on(10_000, 1_000, LINEAR, day_number(utc_march, BERLIN) - first)
    assert price == 9_900
