"""The German catalogues follow docs/glossary.md: one word per concept."""

from __future__ import annotations

import re

from services import i18n

# the "not" column of docs/glossary.md, as patterns over the German texts
AVOIDED = {
    r"\bBrieftasche": "Wallet",
    r"\b(Ansuchen|Gesuch)\b": "Antrag",
    r"\bFall\b": "Vorgang",
    r"\b(Coupon|Voucher)": "Gutschein",
    r"\bHändler": "Akzeptanzstelle",
    r"\bKampagne": "Aktion",
    r"\b(Fundstück|Fundgegenst|Fundamt)": "Fundsache, Fundbüro",
    r"\bVersteigerung": "Auktion",
    r"\bAbteilung": "Fachbereich",
    r"\bMitarbeiter\b": "Mitarbeitende",
    r"\bEvents?\b": "Veranstaltung",
    r"\bEintrittskarte": "Ticket",
    r"\bSchadensmeldung": "Meldung",
    r"\bStand:": "Status",
    r"(?<![-\w])Adresse": "Anschrift",
}


def german_texts() -> list[tuple[str, str]]:
    texts = []
    for name, message in i18n._messages("de"):
        strings = [message.string] if isinstance(message.string, str) else message.string
        texts += [(name, text) for text in strings]
    return texts


def test_catalogues_use_the_glossary_words() -> None:
    found = [
        f"{name}: {text!r} uses {re.search(pattern, text).group(0)!r}, say {word!r}"  # type: ignore[union-attr]
        for name, text in german_texts()
        for pattern, word in AVOIDED.items()
        if re.search(pattern, text)
    ]
    assert found == []


def test_cancelled_has_one_german_word_per_meaning() -> None:
    assert i18n.gettext("de", i18n.NC_("event", "cancelled")) == "abgesagt"
    assert i18n.gettext("de", i18n.NC_("payment", "cancelled")) == "storniert"
