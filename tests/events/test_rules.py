"""Pure event rules: prices, schedules, quantities, the ICS file, the QR code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services import qr
from services.errors import InvalidInput
from services.events import booking as svc
from services.events.files import event_ics, ics_fold
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


def test_ics_is_rfc5545_with_crlf_uid_and_utc_times() -> None:
    start = datetime(2026, 12, 12, 18, 0, tzinfo=BERLIN)
    data = event_ics(
        uid="event-7@stadtlotse.example",
        title="Konzert; Chor, Orchester",
        description="Zeile eins\nZeile zwei mit Umlauten äöü " + "x" * 80,
        place="Schlosspark Ahaus",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        now=NOW,
    )
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line break is CRLF
    lines = text.split("\r\n")[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "UID:event-7@stadtlotse.example" in lines
    assert "DTSTART:20261212T170000Z" in lines  # 18:00 in Berlin (winter) is 17:00 UTC
    assert "DTEND:20261212T190000Z" in lines
    assert "DTSTAMP:20261125T090000Z" in lines
    assert "SUMMARY:Konzert\\; Chor\\, Orchester" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = re.sub(r"\r\n ", "", text)
    assert "DESCRIPTION:Zeile eins\\nZeile zwei mit Umlauten äöü " + "x" * 80 in unfolded


def test_folding_never_splits_a_multibyte_character() -> None:
    folded = ics_fold("DESCRIPTION:" + "ä" * 100)
    for piece in folded.split("\r\n"):
        piece.encode("utf-8").decode("utf-8")
        assert len(piece.encode("utf-8")) <= 75


def test_summer_time_start_in_utc() -> None:
    start = datetime(2027, 7, 1, 20, 0, tzinfo=BERLIN)
    text = event_ics(
        uid="u",
        title="t",
        description="",
        place="p",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        now=NOW,
    ).decode()
    assert "DTSTART:20270701T180000Z" in text
    assert start.astimezone(UTC).hour == 18


def test_qr_code_is_a_png_of_the_deep_link() -> None:
    assert svc.ticket_link("ABCDEFGHJKMNP") == "/start t-ABCDEFGHJKMNP"
    png = qr.png(svc.ticket_link("ABCDEFGHJKMNP"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
