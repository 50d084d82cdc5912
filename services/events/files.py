"""The file a ticket holder gets: the ICS calendar entry (RFC 5545, through the icalendar
library). The ticket's QR code is made by services/qr.py."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent


def calendar_uid(ticket_id: int, town: str) -> str:
    """The UID of a holder's calendar entry: tied to their first ticket for the event, so the
    same entry is updated (or cancelled) however often the file is downloaded again, and not to
    any URL that may change."""
    return f"ticket-{ticket_id}@{_slug(town) or 'town'}.stadtlotse"


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    return re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode()).strip("-")


def event_sequence(cancelled: bool) -> int:
    """SEQUENCE (RFC 5545, 3.8.7.4): 0 as published, 1 once cancelled. Events cannot be edited
    after publishing; an edit feature must raise this with every change of time or place."""
    return 1 if cancelled else 0


def ics_filename(title: str, starts_at: datetime, tz: ZoneInfo) -> str:
    """'2026-12-12-weihnachtskonzert.ics': one file name per event, safe on every system."""
    slug = _slug(title)
    return f"{starts_at.astimezone(tz).date().isoformat()}-{slug[:40].strip('-') or 'event'}.ics"


def event_ics(
    *,
    uid: str,
    title: str,
    description: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    tz: ZoneInfo,
    cancelled: bool = False,
    method: str = "PUBLISH",
) -> bytes:
    """One VEVENT in a VCALENDAR (icalendar): local times with TZID and the VTIMEZONE that
    defines it, SEQUENCE, STATUS; METHOD:CANCEL tells a calendar to remove the entry."""
    calendar = Calendar()
    calendar.add("prodid", "-//Stadtlotse//Events//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    entry = IcsEvent()
    entry.add("uid", uid)
    entry.add("dtstamp", now.astimezone(UTC))
    entry.add("dtstart", starts_at.astimezone(tz))
    entry.add("dtend", ends_at.astimezone(tz))
    entry.add("summary", title)
    entry.add("location", place)
    if description:
        entry.add("description", description)
    entry.add("sequence", event_sequence(cancelled))
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
