"""User text: gettext catalogues (English msgids, German first), locale-aware money and dates.

Catalogues are plain `.po` files under services/locales/<lang>/, one per capability, read at
start with Babel, so no compile step is needed. `python -m services.i18n check` lists every
msgid in the code that has no German translation, plurals without plural forms, and msgids that
two catalogues translate differently (the last one loaded would win).

- Plurals: `ctx.tn(singular, plural, n)` in flows; in a notification or a domain error the
  singular is the msgid and `**i18n.plural(plural_msgid, n)` goes into its parameters.
- One English word that needs two German ones: a context, `NC_("event", "cancelled")` (a key
  "event\x04cancelled" that every translating function understands; English shows the word),
  or `ctx.tp("event", "cancelled")`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from services.money import babel_locale, format_money

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LOCALES_DIR = Path(__file__).parent / "locales"
# Names under which user text is written in the code; used by extraction and the check.
KEYWORDS: dict[str, Any] = {
    "t": None,
    "tp": ((1, "c"), 2),
    "NC_": ((1, "c"), 2),
    "FieldProblem": (2,),  # FieldProblem(field, msgid)
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


CONTEXT_SEPARATOR = "\x04"  # gettext's own: "context\x04msgid"


def N_(message: str) -> str:
    """Marks text for translation where it is defined; it is translated where it is shown."""
    return message


def NC_(context: str, message: str) -> str:
    """Like N_, for a word whose German depends on what it is about ("cancelled": an event is
    "abgesagt", a payment "storniert"): the key carries the context (.po: msgctxt)."""
    return f"{context}{CONTEXT_SEPARATOR}{message}"


def _key(message: str, context: str | None) -> str:
    return NC_(context, message) if context else message


def english(key: str) -> str:
    """The English text of a key (a context, if any, removed)."""
    return key.rsplit(CONTEXT_SEPARATOR, 1)[-1]


def _messages(lang: str) -> Iterator[tuple[str, Message]]:
    """(catalogue file name, message) for every translated message of `lang`."""
    for po_file in sorted((LOCALES_DIR / lang).glob("*.po")):
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                yield po_file.name, message


def _message_key(message: Message) -> str:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return _key(msgid, message.context)


@functools.cache
def _catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    messages: dict[str, str | tuple[str, ...]] = {}
    for _name, message in _messages(lang):
        value = message.string
        messages[_message_key(message)] = value if isinstance(value, str) else tuple(value)
    return messages


def reload() -> None:
    _catalogue.cache_clear()


def normalise_language(lang: str | None) -> str:
    code = (lang or "").lower().split("-")[0].split("_")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def gettext(lang: str, message: str) -> str:
    found = _catalogue(normalise_language(lang)).get(message)
    if isinstance(found, tuple) and found:  # a plural msgid used without a count
        return found[0]
    return found if isinstance(found, str) else english(message)


def pgettext(lang: str, context: str, message: str) -> str:
    return gettext(lang, NC_(context, message))


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    found = _catalogue(normalise_language(lang)).get(singular)
    if isinstance(found, tuple) and found:
        index = 0 if n == 1 else min(1, len(found) - 1)
        return found[index]
    return english(singular) if n == 1 else english(plural)


def plural(message: str, n: int) -> dict[str, Any]:
    """Parameters that make a stored msgid (notification, domain error) plural:
    `notify_citizen(..., "{n} ticket", {"event": ..., **i18n.plural("{n} tickets", n)})`."""
    return {PLURAL: message, "n": n}


PLURAL = "$plural"


def translate(lang: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    if params and PLURAL in params:
        text = ngettext(lang, message, str(params[PLURAL]), int(params.get("n") or 0))
    else:
        text = gettext(lang, message)
    if not params:
        return text
    return text.format(**{k: format_value(lang, v) for k, v in params.items() if k != PLURAL})


def format_value(lang: str, value: Any, tz: ZoneInfo | None = None) -> Any:
    """Typed parameters stored with notifications: {"$money": 1250}, {"$date": "2026-12-01"},
    {"$datetime": "...", "tz": "<the city's zone>"}, {"$t": "msgid"} (a translated word),
    {"$l": {"de": "...", "en": "..."}} (configured text in each language),
    {"$lines": [{"key": msgid, "params": {...}}, ...]} (lines of a digest, each translated);
    floats and dates as the recipient writes them."""
    if isinstance(value, float):  # never an id or a year: always as the recipient writes it
        return format_decimal(value, locale=babel_locale(lang))
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(lang, value)
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
        if "$n" in value:  # a word that depends on a count: {"$n": [singular, plural], "n": 2}
            count = int(value["n"])
            return ngettext(lang, value["$n"][0], value["$n"][1], count).format(n=count)
        if "$number" in value:
            return format_decimal(value["$number"], locale=babel_locale(lang))
        if "$de" in value:
            return content(lang, str(value["$de"]))
        if "$text" in value:
            return content(lang, str(value["$text"]), str(value.get("lang") or "de"))
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
    """A word translated for the recipient; `NC_(context, msgid)` where it needs a context."""
    return {"$t": message}


IN_LANGUAGE = {"de": N_("“{text}” (in German)"), "en": N_("“{text}” (in English)")}


def content(lang: str, text: str, text_lang: str = "de") -> str:
    """Text that exists in one language only (event and item descriptions, campaign texts,
    payment descriptions, what staff wrote): as it is for readers of that language, marked as
    such for everyone else, never passed off as theirs."""
    source = normalise_language(text_lang)
    if not text or normalise_language(lang) == source:
        return text
    return gettext(lang, IN_LANGUAGE[source]).format(text=text)


def written(text: str, lang: str) -> dict[str, str]:
    """A notification parameter holding what someone wrote in `lang` (a staff member's
    reason): marked as written in that language for readers of another."""
    return {"$de": text} if normalise_language(lang) == "de" else {"$text": text, "lang": lang}


def german(text: str) -> dict[str, str]:
    """A notification parameter with German-only content (see `content`)."""
    return {"$de": text}


def counted(singular: str, plural: str, n: int) -> dict[str, Any]:
    """A counted phrase inside a stored message ("{n} day" / "{n} days"), formatted with n."""
    return {"$n": [singular, plural], "n": n}


def per_language(de: str, en: str) -> dict[str, dict[str, str]]:
    """A name from the city configuration, shown in the recipient's language."""
    return {"$l": {"de": de, "en": en}}


def format_date(lang: str, value: date) -> str:
    return _babel_date(value, format="medium", locale=babel_locale(lang))


def format_datetime(lang: str, value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return _babel_datetime(local, format="medium", tzinfo=tz, locale=babel_locale(lang))


def _extract(root: Path, keywords: Mapping[str, Any]) -> Iterator[tuple[str, object, str | None]]:
    """(where, message, context) of every text written under `keywords` in the code."""
    from babel.messages.extract import extract_from_file

    for package in ("bot", "handlers", "flows", "services", "scheduler"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for lineno, message, _comments, context in extract_from_file(
                "python", str(path), keywords=keywords
            ):
                yield f"{path.relative_to(root)}:{lineno}", message, context


def _extract_msgids(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for where, message, context in _extract(root, KEYWORDS):
        key = message if isinstance(message, str) else message[0]  # type: ignore[index]
        if key:
            found.setdefault(_key(str(key), context), where)
    return found


def missing_translations(root: Path, lang: str = "de") -> dict[str, str]:
    catalogue = _catalogue(lang)
    return {k: where for k, where in _extract_msgids(root).items() if k not in catalogue}


def missing_plurals(root: Path, lang: str = "de") -> dict[str, str]:
    """Texts used with a count (ctx.tn, i18n.plural, i18n.counted) whose translation has no
    plural forms: "1 Tage" would follow."""
    catalogue = _catalogue(lang)
    plural_ids = {
        message.id[1]
        for _name, message in _messages(lang)
        if not isinstance(message.id, str) and len(message.id) > 1
    }
    found: dict[str, str] = {}
    counted = {"tn": (1, 2), "counted": (1, 2), "ngettext": (2, 3)}
    for where, message, _context in _extract(root, counted):
        singular = message[0] if isinstance(message, tuple) else None
        if singular and not isinstance(catalogue.get(singular), tuple):
            found.setdefault(singular, where)
    for where, message, _context in _extract(root, {"plural": (1,)}):
        if isinstance(message, str) and message not in plural_ids:
            found.setdefault(message, where)
    return found


def conflicting_translations(lang: str = "de") -> dict[str, dict[str, str]]:
    """Msgids that two catalogues translate differently: only one can win at run time.
    One English word with two meanings needs a context (msgctxt, `NC_`)."""
    seen: dict[str, dict[str, str]] = {}
    for name, message in _messages(lang):
        value = message.string if isinstance(message.string, str) else " | ".join(message.string)
        seen.setdefault(_message_key(message), {})[name] = value
    return {key: files for key, files in seen.items() if len(set(files.values())) > 1}


def _main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    if argv[:1] != ["check"]:
        print("usage: python -m services.i18n check")
        return 2
    missing = missing_translations(root)
    for message, where in sorted(missing.items(), key=lambda item: item[1]):
        print(f"{where}: {message!r}")
    print(f"{len(missing)} msgids without German translation")
    plurals = missing_plurals(root)
    for message, where in sorted(plurals.items(), key=lambda item: item[1]):
        print(f"{where}: {message!r} is counted but has no German plural forms")
    conflicts = conflicting_translations()
    for key, files in sorted(conflicts.items()):
        shown = ", ".join(f"{name}: {value!r}" for name, value in sorted(files.items()))
        context = key.partition(CONTEXT_SEPARATOR)[0] if CONTEXT_SEPARATOR in key else "-"
        print(f"{english(key)!r} (context {context}) is translated differently: {shown}")
    if conflicts:
        print(f"{len(conflicts)} msgids translated differently across catalogues")
    return 1 if missing or plurals or conflicts else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
