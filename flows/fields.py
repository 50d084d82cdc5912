"""Ready-made answer parsers for form fields: `Field(..., parse=fields.email)`.

Each takes (ctx, text) and returns a JSON value or raises InvalidInput with a clear reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flows.context import Ctx
from services.errors import InvalidInput
from services.i18n import N_
from services.identity import profile
from services.money import parse_amount
from services.numbers import parse_decimal

Parser = Callable[[Ctx, str], object]


def text(ctx: Ctx, value: str) -> str:
    return profile.clean_text(value, 500)


def short_text(ctx: Ctx, value: str) -> str:
    return profile.clean_text(value, 120)


def name(ctx: Ctx, value: str) -> str:
    return profile.validate_name(value)


def full_name(ctx: Ctx, value: str) -> str:
    cleaned = profile.validate_name(value)
    if " " not in cleaned:
        raise InvalidInput("Please enter first and last name, for example Anna Schulte.")
    return cleaned


def email(ctx: Ctx, value: str) -> str:
    return profile.validate_email(value)


def phone(ctx: Ctx, value: str) -> str:
    return profile.validate_phone(value)


def postal_code(ctx: Ctx, value: str) -> str:
    return profile.validate_postal_code(value)


def street(ctx: Ctx, value: str) -> str:
    return profile.validate_street(value)


def address(ctx: Ctx, value: str) -> str:
    """'Rathausplatz 1, 48683 Ahaus' (street and number, postal code and town)."""
    cleaned = " ".join(profile.clean_text(value, 250).split())
    if not re.search(r"[^\W\d_]{2,}.*\d", cleaned):
        raise InvalidInput(
            "Please enter street, house number and town, for example Rathausplatz 1, 48683 Ahaus."
        )
    return cleaned


def amount(ctx: Ctx, value: str) -> int:
    return parse_amount(value)


# what people type for "none at all" where a count is asked
ZERO_WORDS = frozenset(
    {
        "kein", "keine", "keinen", "keiner", "keins", "niemand", "niemanden", "null", "nix",
        "nichts", "none", "no", "nobody", "no one", "zero", "nil",
    }
)  # fmt: skip


def integer(low: int, high: int) -> Parser:
    def parse(ctx: Ctx, value: str) -> int:
        cleaned = value.strip()
        if low <= 0 <= high and " ".join(cleaned.casefold().rstrip(".!").split()) in ZERO_WORDS:
            return 0
        if not re.fullmatch(r"-?[0-9]{1,9}", cleaned):
            raise InvalidInput("Please enter a whole number, for example {example}.", example=low)
        number = int(cleaned)
        if not low <= number <= high:
            raise InvalidInput("Please enter a number from {low} to {high}.", low=low, high=high)
        return number

    return parse


def decimal_number(low: float, high: float) -> Parser:
    """Area in m² and the like: '12,5' -> 12.5 (not money)."""

    def parse(ctx: Ctx, value: str) -> float:
        cleaned = value.strip().replace(",", ".").removesuffix("m²").removesuffix("qm").strip()
        number = parse_decimal(cleaned)
        if number is None:
            raise InvalidInput("Please enter a number, for example 12,5.")
        if not low <= number <= high:
            raise InvalidInput("Please enter a number from {low} to {high}.", low=low, high=high)
        return number

    return parse


def day(
    *,
    past: bool | None = None,
    min_days: int | None = None,
    max_days: int | None = None,
    max_years_back: int | None = None,
    min_age: int | None = None,
    too_young: str = N_(
        "Born on {born}, this person is {age} years old; at least {min_age} is needed here. "
        "Please check the date."
    ),
) -> Parser:
    """A date, stored as ISO text. past=True: not in the future; past=False: not in the past;
    min_days/max_days: relative to today (e.g. min_days=1: from tomorrow on); min_age: a birth
    date of someone at least that many years old today."""

    def parse(ctx: Ctx, value: str) -> str:
        today = ctx.today()
        found = profile.parse_date(value, today, past=past, example=_example(ctx, today, past))
        if past is True and found > today:
            raise InvalidInput("This date is in the future. Please check it.")
        if past is False and found < today:
            raise InvalidInput("This date is in the past. Please enter a date from today on.")
        if min_days is not None and (found - today).days < min_days:
            raise InvalidInput(
                "Please choose a date from {first} on.",
                first=_iso_day(today.toordinal() + min_days),
            )
        if max_days is not None and (found - today).days > max_days:
            raise InvalidInput(
                "Please choose a date until {last}.", last=_iso_day(today.toordinal() + max_days)
            )
        if max_years_back is not None and today.year - found.year > max_years_back:
            raise InvalidInput(
                "This date is more than {years} years ago. Please check it.", years=max_years_back
            )
        if min_age is not None and age_on(found, today) < min_age:
            raise InvalidInput(
                too_young,
                born=_iso_day(found.toordinal()),
                age=age_on(found, today),
                min_age=min_age,
            )
        return found.isoformat()

    return parse


def age_on(born: date, today: date) -> int:
    """Completed years of life on `today` (born 29.02.: a year older on 01.03.)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _example(ctx: Ctx, today: date, past: bool | None) -> str:
    """An example date that fits the question: a birth date in the past, a start ahead."""
    if past is True:
        sample = date(today.year - 35, 5, 12)
    else:
        sample = date.fromordinal(today.toordinal() + 14)
    return sample.strftime("%d.%m.%Y")


def _iso_day(ordinal: int) -> dict[str, str]:
    return {"$date": date.fromordinal(ordinal).isoformat()}


def show_day(ctx: Ctx, value: object) -> str:
    return ctx.date(date.fromisoformat(str(value)))


def show_money(ctx: Ctx, value: object) -> str:
    return ctx.money(int(str(value)))


# Parsers whose answer is never a bare number: a number typed there picks an option (use the
# profile's value, skip, back). Every other parser (dates, amounts, counts, chip and register
# numbers, phone numbers) may take a number as its answer: there the options are named.
WORDS_ONLY: frozenset[Parser] = frozenset(
    {text, short_text, name, full_name, email, street, address}
)


def numbers_are_answers(parse: Parser | None) -> bool:
    return parse is not None and parse not in WORDS_ONLY
