"""Validation of profile data: pure functions that return the clean value or raise InvalidInput."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from services.errors import InvalidInput

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
_PHONE = re.compile(r"^\+?[0-9][0-9 /()-]{5,24}$")
_POSTAL = re.compile(r"^[0-9]{5}$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$", re.UNICODE)


def clean_text(text: str, max_length: int = 200) -> str:
    """Strip control characters and surrounding space; refuse empty and overlong text."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    cleaned = cleaned.strip()
    if not cleaned:
        raise InvalidInput("That was empty. Please write a short answer.")
    if len(cleaned) > max_length:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=max_length)
    return cleaned


def validate_name(text: str) -> str:
    name = " ".join(clean_text(text, 100).split())
    if not _NAME.match(name):
        raise InvalidInput("Please enter a name with letters only, for example Anna Schulte.")
    return name


def validate_email(text: str) -> str:
    email = clean_text(text, 254).lower()
    if not _EMAIL.match(email):
        raise InvalidInput(
            "That does not look like an e-mail address, for example anna@example.de."
        )
    return email


def validate_phone(text: str) -> str:
    phone = clean_text(text, 30)
    digits = re.sub(r"\D", "", phone)
    if not _PHONE.match(phone) or not 6 <= len(digits) <= 15:
        raise InvalidInput("Please enter a phone number with digits, for example 02561 4440.")
    return phone


def validate_postal_code(text: str) -> str:
    code = clean_text(text, 10).replace(" ", "")
    if not _POSTAL.match(code):
        raise InvalidInput("A German postal code has five digits, for example 48683.")
    return code


def validate_street(text: str) -> str:
    street = " ".join(clean_text(text, 200).split())
    if not re.search(r"[^\W\d_]{2,}", street) or not re.search(r"\d", street):
        raise InvalidInput("Please enter street and house number, for example Rathausplatz 1.")
    return street


def validate_town(text: str) -> str:
    town = " ".join(clean_text(text, 100).split())
    if not re.fullmatch(r"[^\W\d_][\w .'()/-]*", town):
        raise InvalidInput("Please enter the name of the town, for example Ahaus.")
    return town


def parse_date(text: str, today: date, *, past: bool | None = None, example: str = "") -> date:
    """'24.12.2026', '24.12.26', '12.5.90', '2026-12-24'. Impossible dates (31.02.) are refused
    by name. A two-digit year takes its century from `today`: for a date in the past (a birth
    date) the latest year not after today ('12.5.90' is 1990), for a date ahead the next one,
    otherwise the nearest."""
    raw = clean_text(text, 20)
    match = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2}|[0-9]{4})", raw)
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            year = _century(year, today, past)
    else:
        iso = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", raw)
        if not iso:
            raise InvalidInput(
                "Please enter a date as day.month.year, for example {example}.",
                example=example or "24.12.2026",
            )
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(
            "The date {text} does not exist. Please check day and month.", text=raw
        ) from exc


def _century(two_digits: int, today: date, past: bool | None) -> int:
    this_century = today.year - today.year % 100 + two_digits
    if past is True:
        return this_century if this_century <= today.year else this_century - 100
    if past is False:
        return this_century if this_century >= today.year else this_century + 100
    candidates = (this_century - 100, this_century, this_century + 100)
    return min(candidates, key=lambda year: abs(year - today.year))


PROFILE_FIELDS = {
    "first_name": validate_name,
    "last_name": validate_name,
    "street": validate_street,
    "postal_code": validate_postal_code,
    "town": validate_town,
    "email": validate_email,
    "phone": validate_phone,
}
