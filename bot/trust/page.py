"""The public check page of a resident card, `/v/{token}`: valid or not, in German or English.

It shows only what the card itself shows (first name, initial, town, resident since, valid
until) and answers an unknown, forged or garbled token exactly like any other invalid one."""

from __future__ import annotations

from html import escape
from typing import Any

from services.i18n import N_, format_date, translate
from services.trust.card import CardView

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;background:#f5f5f5;color:#222}"
    "main{max-width:28rem;margin:0 auto;background:#fff;border-radius:1rem;padding:1.5rem;"
    "box-shadow:0 1px 4px #0002}"
    ".verdict{font-size:1.6rem;font-weight:700;padding:1rem;border-radius:.6rem;margin:0 0 1rem}"
    ".valid{background:#dff5e1;color:#0b5d1e}.invalid{background:#fde2e1;color:#8a1111}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}"
    "dd{margin:0;font-weight:600}footer{margin-top:1.5rem;font-size:.9rem;color:#555}"
)
VALID = N_("Valid")
NOT_VALID = N_("Not valid")
NAME = N_("Name")
CHECKED = N_("A resident of {town}, checked in person.")
COMPARE = N_("Compare the first name with the person showing the card.")
KEYS = N_("The town’s public keys")
TITLE = N_("{town} card")
RESIDENT_OF = N_("Resident of")
SINCE = N_("Resident since")
UNTIL = N_("Valid until")
REASONS = {
    "expired": N_("This card has expired."),
    "revoked": N_("This card was revoked."),
    "invalid": N_("This is not a valid resident card of the town."),
}


def _t(lang: str, message: str, **params: Any) -> str:
    return escape(translate(lang, message, params))


def language(query: str, accept: str) -> str:
    """?lang=de|en wins; else the first of de/en in Accept-Language; else German."""
    if query in ("de", "en"):
        return query
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("de", "en"):
            return tag
    return "de"


def card_page(lang: str, town: str, card: CardView, keys_url: str) -> str:
    title = _t(lang, TITLE, town=town)
    if card.valid:
        rows = [
            (NAME, f"{card.first_name} {card.last_initial}."),
            (RESIDENT_OF, card.town),
        ]
        if card.resident_since is not None:
            rows.append((SINCE, format_date(lang, card.resident_since)))
        if card.valid_until is not None:
            rows.append((UNTIL, format_date(lang, card.valid_until)))
        details = "".join(f"<dt>{_t(lang, k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
        body = (
            f'<p class="verdict valid" id="verdict" data-valid="true">✓ {_t(lang, VALID)}</p>'
            f"<p>{_t(lang, CHECKED, town=town)}</p>"
            f"<dl>{details}</dl>"
            f"<p>{_t(lang, COMPARE)}</p>"
        )
    else:
        reason = REASONS.get(card.reason, REASONS["invalid"])
        body = (
            f'<p class="verdict invalid" id="verdict" data-valid="false">✗ '
            f"{_t(lang, NOT_VALID)}</p><p>{_t(lang, reason)}</p>"
        )
    other = "en" if lang == "de" else "de"
    switch = "English" if lang == "de" else "Deutsch"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{title}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{title}</h1>{body}<footer>"
        f'<a href="?lang={other}" hreflang="{other}">{switch}</a> · '
        f'<a href="{escape(keys_url)}">{_t(lang, KEYS)}</a>'
        "</footer></main></body></html>"
    )
