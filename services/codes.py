"""Bearer codes: Crockford base32 (no I, L, O, U), two check symbols, shown in groups of four.

Codes are random (secrets), typed back tolerant of case, spaces, dashes and look-alikes
(O->0, I/L->1). Every symbol of a new code is one of the 32 of the alphabet, so a code fits a
Telegram start parameter (A-Za-z0-9_-) and a QR code as it is, and reads aloud at a till.

The two check symbols make the whole code, read as a base-32 number, divisible by the prime
1021 (ISO 7064's pure scheme). A wrong symbol anywhere changes that number by d·32^k with
0 < |d| < 32, an adjacent swap by (a-b)·31·32^k: 1021 divides neither, so both are always
reported as a typo rather than as "unknown code".

Codes issued before (one check character mod 37 from `0-9A-Z*~$=U`, one symbol shorter) keep
working when typed or scanned: `parse_code` knows both forms by their length.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = 2
PRIME = 1021  # the largest prime below 32**2
LEGACY_CHECK_ALPHABET = ALPHABET + "*~$=U"  # the single check character of codes issued before
_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


class CodeTypo(ValueError):
    """The text looks like a code but its check symbols do not match."""


def new_code(length: int = 12) -> str:
    """`length` random symbols (5 bits each) plus two check symbols. 12 -> 60 bits."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return body + check_symbols(body)


def _number(symbols: str) -> int:
    value = 0
    for ch in symbols:
        value = (value * 32 + _VALUE[ch]) % PRIME
    return value


def check_symbols(body: str) -> str:
    """The two symbols that make body + check ≡ 0 (mod 1021)."""
    check = -_number(body) * 32 * 32 % PRIME
    return ALPHABET[check // 32] + ALPHABET[check % 32]


def legacy_check_char(body: str) -> str:
    """The check character of codes issued before (mod 37; may be one of `*~$=U`)."""
    value = 0
    for ch in body:
        value = (value * 32 + _VALUE[ch]) % 37
    return LEGACY_CHECK_ALPHABET[value]


def normalise(text: str) -> str:
    """Upper-case, drop separators, map look-alikes. Does not validate."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum() or ch in "*~$=")
    # a legacy check character may legitimately be U; the look-alike mapping leaves it alone
    return cleaned.translate(_LOOKALIKE)


def parse_code(text: str, length: int = 12) -> str:
    """Return the canonical code (new or legacy form) or raise CodeTypo / ValueError."""
    code = normalise(text)
    if len(code) == length + CHECK_SYMBOLS and all(ch in _VALUE for ch in code):
        if _number(code) != 0:
            raise CodeTypo(code)
        return code
    if len(code) == length + 1 and all(ch in _VALUE for ch in code[:-1]):
        if legacy_check_char(code[:-1]) != code[-1]:
            raise CodeTypo(code)
        return code
    raise ValueError("not a code")


def display(code: str) -> str:
    """'ABCD-EFGH-JKMN-PQ' for reading aloud and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
