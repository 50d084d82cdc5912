"""Pure event rules: prices, schedules, quantities, the ICS file, the QR code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services import qr
from services.errors import InvalidInput
from services.events import booking as svc
from services.events.files import calendar_uid, event_ics, ics_filename
from storage.models.events import CANCELLED, Event

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)


def test_price_accepts_free_and_euros_and_refuses_three_decimals() -> None:
    assert svc.parse_price("0") == 0
    assert svc.parse_price("kostenlos") == 0
    assert svc.parse_price("12,50 €") == 1250
    assert svc.parse_price("8") == 800
    with pytest.raises(InvalidInput, match="two decimal"):
        svc.parse_price("12,505")
    with pytest.raises(InvalidInput):
        svc.parse_price("-3")


def test_schedule_rules() -> None:
    start = NOW + timedelta(days=3)
    svc.check_schedule(start, start + timedelta(hours=2), start, NOW)
    with pytest.raises(InvalidInput, match="past"):
        svc.check_schedule(NOW - timedelta(minutes=1), NOW + timedelta(hours=1), NOW, NOW)
    with pytest.raises(InvalidInput, match="after the start"):
        svc.check_schedule(start, start - timedelta(minutes=1), start, NOW)
    with pytest.raises(InvalidInput, match="deadline must not"):
        svc.check_schedule(start, start + timedelta(hours=1), start + timedelta(minutes=1), NOW)
    with pytest.raises(InvalidInput, match="deadline lies in the past"):
        svc.check_schedule(start, start + timedelta(hours=1), NOW, NOW)


def test_quantity_between_one_and_the_configured_maximum() -> None:
    rules = svc.EventRules(max_tickets_per_booking=6)
    svc.check_quantity(1, rules)
    svc.check_quantity(6, rules)
    for bad in (0, 7, -1):
        with pytest.raises(InvalidInput):
            svc.check_quantity(bad, rules)


def _event(**changes: object) -> Event:
    start = NOW + timedelta(days=5)
    values: dict[str, object] = {
        "organiser_id": 1,
        "title": "Konzert",
        "place": "Schlosspark",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "booking_deadline": start - timedelta(hours=1),
        "capacity": 10,
        "taken": 8,
        "created_at": NOW,
    }
    values.update(changes)
    return Event(**values)


def test_why_not_bookable_names_the_reason() -> None:
    assert svc.why_not_bookable(_event(), 2, NOW, BERLIN) is None
    assert svc.why_not_bookable(_event(), 3, NOW, BERLIN) == (
        "Sorry, only {left} places are left.",
        {"left": 2},
    )
    assert (
        svc.why_not_bookable(_event(taken=10), 1, NOW, BERLIN)[0]
        == "Sorry, this event is sold out."
    )  # type: ignore[index]
    assert (
        svc.why_not_bookable(_event(status=CANCELLED), 1, NOW, BERLIN)[0]
        == "This event was cancelled."
    )  # type: ignore[index]
    late = NOW + timedelta(days=5)
    reason = svc.why_not_bookable(_event(), 1, late - timedelta(minutes=30), BERLIN)
    assert reason is not None and reason[0].startswith("Booking for this event closed")
    assert reason[1]["time"] == "09:00"


def _ics(start: datetime, **extra: object) -> Calendar:
    data = event_ics(
        uid=calendar_uid(7, "Ahaus"),
        title="Konzert; Chor, Orchester",
        description="Zeile eins\nZeile zwei mit Umlauten äöü " + "x" * 80,
        place="Schlosspark Ahaus",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        now=NOW,
        tz=BERLIN,
        **extra,  # type: ignore[arg-type]
    )
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line break is CRLF
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded
    return Calendar.from_ical(data)


def test_ics_has_local_times_with_tzid_and_the_vtimezone_that_defines_them() -> None:
    calendar = _ics(datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN))
    assert calendar["METHOD"] == "PUBLISH"
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["UID"]) == "ticket-7@ahaus.stadtlotse"
    assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert entry["DTSTART"].to_ical() == b"20261212T180000"  # local wall clock, not UTC
    assert entry.decoded("DTSTART") == datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN)
    assert entry.decoded("DTEND").astimezone(UTC) == datetime(2026, 12, 12, 19, 0, tzinfo=UTC)
    assert entry.decoded("DTSTAMP") == NOW.astimezone(UTC)
    assert entry["SEQUENCE"] == 0 and entry["STATUS"] == "CONFIRMED"
    assert str(entry["SUMMARY"]) == "Konzert; Chor, Orchester"
    assert str(entry["DESCRIPTION"]).startswith("Zeile eins\nZeile zwei mit Umlauten äöü")
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Berlin"
    assert {c.name for c in zone.subcomponents} >= {"STANDARD", "DAYLIGHT"}


def test_summer_time_start_keeps_its_local_hour() -> None:
    calendar = _ics(datetime(2027, 7, 1, 20, 0, tzinfo=BERLIN))
    (entry,) = calendar.walk("VEVENT")
    assert entry["DTSTART"].to_ical() == b"20270701T200000"
    assert entry.decoded("DTSTART").astimezone(UTC).hour == 18  # CEST is UTC+2


def test_cancellation_is_method_cancel_with_a_higher_sequence_and_the_same_uid() -> None:
    published = _ics(datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN))
    cancelled = _ics(datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN), cancelled=True, method="CANCEL")
    assert cancelled["METHOD"] == "CANCEL"
    (before,), (after,) = published.walk("VEVENT"), cancelled.walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["STATUS"] == "CANCELLED"


def test_one_file_name_per_event() -> None:
    start = datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN)
    assert ics_filename("Weihnachtskonzert: Chor & Orchester", start, BERLIN) == (
        "2026-12-12-weihnachtskonzert-chor-orchester.ics"
    )
    assert ics_filename("Straßenfest Wüllen", start, BERLIN) == "2026-12-12-strassenfest-wullen.ics"
    assert ics_filename("🎄", start, BERLIN) == "2026-12-12-event.ics"


def test_qr_code_is_a_png_of_the_deep_link() -> None:
    assert svc.ticket_link("ABCDEFGHJKMNP") == "/start t-ABCDEFGHJKMNP"
    png = qr.png(svc.ticket_link("ABCDEFGHJKMNP"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
