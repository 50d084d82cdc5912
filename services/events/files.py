"""The file a ticket holder gets: the ICS calendar entry (RFC 5545, written by hand). The
ticket's QR code is made by services/qr.py."""

from __future__ import annotations

from datetime import UTC, datetime

ICS_LINE_LIMIT = 75  # octets per line before folding (RFC 5545, 3.1)


def ics_escape(text: str) -> str:
    """TEXT values (RFC 5545, 3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def ics_fold(line: str) -> str:
    """Split a content line into 75-octet pieces, continuation lines starting with a space,
    never inside a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= ICS_LINE_LIMIT:
        return line
    pieces: list[str] = []
    current = ""
    limit = ICS_LINE_LIMIT
    for ch in line:
        if len((current + ch).encode("utf-8")) > limit:
            pieces.append(current)
            current = ch
            limit = ICS_LINE_LIMIT - 1  # the leading space counts
        else:
            current += ch
    pieces.append(current)
    return "\r\n ".join(pieces)


def ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_ics(
    *,
    uid: str,
    title: str,
    description: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    cancelled: bool = False,
) -> bytes:
    """One VEVENT in a VCALENDAR, CRLF line endings, times in UTC."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Stadtlotse//Events//DE",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{ics_time(now)}",
        f"DTSTART:{ics_time(starts_at)}",
        f"DTEND:{ics_time(ends_at)}",
        f"SUMMARY:{ics_escape(title)}",
        f"LOCATION:{ics_escape(place)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{ics_escape(description)}")
    lines.append(f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(ics_fold(line) for line in lines) + "\r\n").encode("utf-8")
