"""Money is integer cents (EUR) everywhere: columns, rules and parameters are plain `int`s named
`*_cents`, and there is no money type to convert from and to. Parsing accepts what residents
type; display goes through Babel (format_money), in files through format_cents_plain."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency

from services.errors import InvalidInput

_PLAIN = re.compile(r"[0-9]{1,7}(?:[.,]([0-9]+))?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,([0-9]+))?")  # German "1.000,50"


def parse_amount(text: str) -> int:
    """'12,50', '12.50 €', 'EUR 12', '1.000,00' -> cents. Raises InvalidInput with a reason."""
    cleaned = re.sub(r"(?i)€|eur(o|os)?|\s", "", text)
    if cleaned.startswith("-"):
        raise InvalidInput("Please enter a positive amount, for example 12,50.")
    match = _GROUPED.fullmatch(cleaned) or _PLAIN.fullmatch(cleaned)
    if not match:
        raise InvalidInput("Please enter an amount in euros, for example 12,50.")
    fraction = match.group(1) or ""
    if len(fraction) > 2:
        raise InvalidInput("Amounts have at most two decimal places, for example 12,50.")
    whole = re.split(r"[,]", cleaned)[0] if match.re is _GROUPED else re.split(r"[.,]", cleaned)[0]
    euros = int(whole.replace(".", ""))
    cents = euros * 100 + int(fraction.ljust(2, "0") or "0")
    if cents == 0:
        raise InvalidInput("The amount must be more than 0 €.")
    return cents


def format_money(cents: int, locale: str = "de") -> str:
    return format_currency(Decimal(cents) / 100, "EUR", locale=babel_locale(locale))


def format_cents_plain(cents: int) -> str:
    """For CSV files and logs: '12.50' with a dot, no currency sign."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def babel_locale(lang: str) -> str:
    return {"de": "de_DE", "en": "en_GB"}.get(lang, "de_DE")
