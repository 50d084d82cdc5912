"""Numbers and ids typed or sent by anyone: only plain ASCII digits count.

`str.isdigit()` is true for '²', '³' and '٣', and `int()` takes '٣', '1_000' and ' 7 ', so
neither may decide what a number is. Every place that turns text from outside (a chat step, a
button's argument, a callback token, a URL) into a number goes through this module; anything
else is "not a number" (None), which the caller turns into a friendly re-ask or a 404.
"""

from __future__ import annotations

import re

# the id columns are INTEGER: 32 bits signed on PostgreSQL (SQLite would take 64); a larger
# id is "no such row", never a query PostgreSQL refuses (found by bench/fuzz.py)
ID_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
_SIGNED_DECIMAL = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")


def parse_int(
    text: str, *, low: int | None = None, high: int | None = None, signed: bool = False
) -> int | None:
    """'42' -> 42; None for anything but ASCII digits (with a leading '-' where `signed`)
    or a value outside [low, high]. No spaces, signs, underscores or other scripts' digits."""
    if len(text) > 20 or not (_SIGNED if signed else _DIGITS).fullmatch(text):
        return None
    number = int(text)
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number


def parse_decimal(text: str, *, signed: bool = False) -> float | None:
    """'12,5' or '12.5' -> 12.5 (areas, attributes; never money: see services.money);
    None for anything but ASCII digits with one optional decimal point or comma."""
    if len(text) > 30 or not (_SIGNED_DECIMAL if signed else _DECIMAL).fullmatch(text):
        return None
    return float(text.replace(",", "."))


def parse_id(text: str) -> int | None:
    """A database id from outside: 1 ≤ id ≤ 2**31-1, ASCII digits only, else None."""
    return parse_int(text, low=1, high=ID_MAX)


def id_or_zero(text: str) -> int:
    """For lookups where 0 reads "no such row" (ids start at 1)."""
    return parse_id(text) or 0


def is_id(value: object) -> bool:
    """An id kept in our own data (conversation scratch, a stored reference) is a real int."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX
