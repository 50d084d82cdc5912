"""The pure rules of digital keys: slots in the city's time zone (also across a DST switch),
the claim that forbids double booking, the key's window, refunds, and configuration errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.city import load_city
from services.keys.config import (
    Facility,
    KeyRules,
    claim,
    key_window,
    refund_cents,
    rules,
    slots_on,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_demo_configuration() -> None:
    keys = rules(load_city())
    boxes = keys.facility("fahrradbox-bahnhof")
    room = keys.facility("gemeinschaftsraum-wuellen")
    assert boxes is not None and room is not None
    assert boxes.name == "Fahrradboxen Bahnhof" and len(boxes.locks) == 10
    assert boxes.price_cents == 0 and room.price_cents > 0
    assert boxes.unit("fahrradbox-bahnhof-03") == 3
    assert keys.facility_of_lock("gemeinschaftsraum-wuellen") is room


def test_room_slots_of_a_day() -> None:
    room = Facility(
        key="r", name="R", locks=["r1"], slot_minutes=120, opens="08:00", closes="22:00"
    )
    found = slots_on(room, date(2026, 11, 25), BERLIN)
    assert len(found) == 7
    assert found[0].starts_at == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert found[-1].ends_at == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 11, 25), 24)],
)
def test_a_whole_day_slot_follows_the_wall_clock(day: date, hours: int) -> None:
    box = Facility(
        key="b", name="B", locks=["b1"], slot_minutes=1440, opens="00:00", closes="24:00"
    )
    [slot] = slots_on(box, day, BERLIN)
    assert slot.starts_at.astimezone(BERLIN).hour == 0
    assert slot.ends_at.astimezone(BERLIN) == datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN
    )
    assert slot.ends_at - slot.starts_at == timedelta(hours=hours)


def test_claim_and_window() -> None:
    start = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
    assert claim("box-1", start) == "box-1@20261125T0900Z"
    keys = KeyRules(grace_before_minutes=10, grace_after_minutes=5)
    opens, closes = key_window(keys, start, start + timedelta(hours=2))
    assert opens == start - timedelta(minutes=10) and closes == start + timedelta(
        hours=2, minutes=5
    )


def test_refund_rule() -> None:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    keys = KeyRules(refund_percent_before_start=50, refund_percent_after_start=0)
    assert refund_cents(keys, 1001, start, start - timedelta(seconds=1)) == 500
    assert refund_cents(keys, 1000, start, start) == 0
    assert refund_cents(KeyRules(), 1000, start, start - timedelta(days=1)) == 1000


@pytest.mark.parametrize(
    "facility",
    [
        {"key": "Box", "name": "x", "locks": ["a"]},
        {"key": "box", "name": "x", "locks": []},
        {"key": "box", "name": "x", "locks": ["a b"]},
        {"key": "box", "name": "x", "locks": ["a", "a"]},
        {"key": "box", "name": "x", "locks": ["a"], "opens": "8 Uhr"},
        {"key": "box", "name": "x", "locks": ["a"], "opens": "21:00", "closes": "22:00"},
    ],
)
def test_configuration_mistakes_are_named(facility: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        KeyRules.model_validate({"facilities": [facility]})


def test_a_lock_in_two_facilities_is_refused() -> None:
    with pytest.raises(ValidationError, match="two facilities"):
        KeyRules.model_validate(
            {
                "facilities": [
                    {"key": "a", "name": "A", "locks": ["l1"]},
                    {"key": "b", "name": "B", "locks": ["l1"]},
                ]
            }
        )
