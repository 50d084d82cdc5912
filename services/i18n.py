"""User text: gettext catalogues (English msgids, German first), locale-aware money and dates.

Catalogues are plain `.po` files under services/locales/<lang>/, one per capability, read at
start with Babel, so no compile step is needed. `python -m services.i18n check` lists every
msgid in the code that has no German translation.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from services.money import babel_locale, format_money

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LOCALES_DIR = Path(__file__).parent / "locales"
# Names under which user text is written in the code; used by extraction and the check.
KEYWORDS = {
    "t": None,
    "N_": None,
    "_": None,
    "tn": (1, 2),
    "InvalidInput": None,
    "NotFound": None,
    "NotAllowed": None,
    "Conflict": None,
    "LimitReached": None,
    "DomainError": None,
    "Invalid": None,
    "button": None,  # ctx.button(label, ...), notify.button(label, ...)
    "Choice": (2,),  # Choice(value, label)
}


def N_(message: str) -> str:
    """Marks text for translation where it is defined; it is translated where it is shown."""
    return message


@functools.cache
def _catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    messages: dict[str, str | tuple[str, ...]] = {}
    folder = LOCALES_DIR / lang
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            value = message.string
            messages[key] = value if isinstance(value, str) else tuple(value)
    return messages


def reload() -> None:
    _catalogue.cache_clear()


def normalise_language(lang: str | None) -> str:
    code = (lang or "").lower().split("-")[0].split("_")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def gettext(lang: str, message: str) -> str:
    found = _catalogue(normalise_language(lang)).get(message)
    return found if isinstance(found, str) else message


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    found = _catalogue(normalise_language(lang)).get(singular)
    if isinstance(found, tuple) and found:
        index = 0 if n == 1 else min(1, len(found) - 1)
        return found[index]
    return singular if n == 1 else plural


def translate(lang: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    text = gettext(lang, message)
    if not params:
        return text
    return text.format(**{k: format_value(lang, v) for k, v in params.items()})


def format_value(lang: str, value: Any, tz: ZoneInfo | None = None) -> Any:
    """Typed parameters stored with notifications: {"$money": 1250}, {"$date": "2026-12-01"},
    {"$datetime": "...", "tz": "<the city's zone>"}, {"$t": "msgid"} (a translated word),
    {"$l": {"de": "...", "en": "..."}} (configured text in each language),
    {"$lines": [{"key": msgid, "params": {...}}, ...]} (lines of a digest, each translated)."""
    if isinstance(value, dict):
        if "$money" in value:
            return format_money(int(value["$money"]), lang)
        if "$date" in value:
            return format_date(lang, date.fromisoformat(value["$date"]))
        if "$datetime" in value:
            zone = ZoneInfo(value["tz"]) if value.get("tz") else (tz or ZoneInfo("UTC"))
            return format_datetime(lang, datetime.fromisoformat(value["$datetime"]), zone)
        if "$t" in value:
            return gettext(lang, value["$t"])
        if "$number" in value:
            return format_decimal(value["$number"], locale=babel_locale(lang))
        if "$lines" in value:  # one line per {"key": msgid, "params": {...}} (digests)
            return "\n".join(
                translate(lang, line["key"], line.get("params")) for line in value["$lines"]
            )
        if "$l" in value:  # text from the city configuration, one per language
            texts = value["$l"]
            return texts.get(normalise_language(lang)) or texts.get(DEFAULT_LANGUAGE, "")
    return value


def number(value: float) -> dict[str, float]:
    """A decimal number shown as the recipient writes it: 12,5 in German, 12.5 in English."""
    return {"$number": value}


def money(cents: int) -> dict[str, int]:
    return {"$money": cents}


def day(value: date) -> dict[str, str]:
    return {"$date": value.isoformat()}


def moment(value: datetime, tz: str) -> dict[str, str]:
    """A date and time shown in the zone `tz` (the city's: City.timezone)."""
    return {"$datetime": value.isoformat(), "tz": tz}


def word(message: str) -> dict[str, str]:
    return {"$t": message}


def per_language(de: str, en: str) -> dict[str, dict[str, str]]:
    """A name from the city configuration, shown in the recipient's language."""
    return {"$l": {"de": de, "en": en}}


def format_date(lang: str, value: date) -> str:
    return _babel_date(value, format="medium", locale=babel_locale(lang))


def format_datetime(lang: str, value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return _babel_datetime(local, format="medium", tzinfo=tz, locale=babel_locale(lang))


def _extract_msgids(root: Path) -> dict[str, str]:
    from babel.messages.extract import extract_from_file

    found: dict[str, str] = {}
    for package in ("bot", "handlers", "flows", "services", "scheduler"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for _lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS
            ):
                key = message if isinstance(message, str) else message[0]
                if key:
                    found.setdefault(key, f"{path.relative_to(root)}:{_lineno}")
    return found


def missing_translations(root: Path, lang: str = "de") -> dict[str, str]:
    catalogue = _catalogue(lang)
    return {k: where for k, where in _extract_msgids(root).items() if k not in catalogue}


def _main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    if argv[:1] != ["check"]:
        print("usage: python -m services.i18n check")
        return 2
    missing = missing_translations(root)
    for message, where in sorted(missing.items(), key=lambda item: item[1]):
        print(f"{where}: {message!r}")
    print(f"{len(missing)} msgids without German translation")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
