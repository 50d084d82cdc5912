"""Bearer codes: Crockford base32 (no I, L, O, U), a check character, shown in groups of four.

Codes are random (secrets), typed back tolerant of case, spaces, dashes and look-alikes
(O->0, I/L->1). The check character (mod 37, Crockford's scheme) catches one wrong character
and most swaps, so a typo is reported as a typo rather than as "unknown code".
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeTypo(ValueError):
    """The text looks like a code but its check character does not match."""


def new_code(length: int = 12) -> str:
    """`length` random symbols (5 bits each) plus one check character. 12 -> 60 bits."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return body + check_char(body)


def check_char(body: str) -> str:
    value = 0
    for ch in body:
        value = (value * 32 + ALPHABET.index(ch)) % 37
    return CHECK_ALPHABET[value]


def normalise(text: str) -> str:
    """Upper-case, drop separators, map look-alikes. Does not validate."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum() or ch in "*~$=")
    # the check character may legitimately be U; only the body gets look-alike mapping
    if not cleaned:
        return ""
    return cleaned[:-1].translate(_LOOKALIKE) + cleaned[-1].translate(_LOOKALIKE)


def parse_code(text: str, length: int = 12) -> str:
    """Return the canonical code or raise CodeTypo / ValueError."""
    code = normalise(text)
    if len(code) != length + 1 or any(ch not in ALPHABET for ch in code[:-1]):
        raise ValueError("not a code")
    if check_char(code[:-1]) != code[-1]:
        raise CodeTypo(code)
    return code


def display(code: str) -> str:
    """'ABCD-EFGH-JKMN-P' for reading aloud and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
