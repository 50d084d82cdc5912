"""The catalogue machinery: contexts, plurals, locale numbers and the check's rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services import i18n

ROOT = Path(__file__).resolve().parents[2]


def test_every_msgid_has_german() -> None:
    assert i18n.missing_translations(ROOT) == {}


def test_counted_texts_have_german_plural_forms() -> None:
    assert i18n.missing_plurals(ROOT) == {}


def test_no_msgid_is_translated_differently_in_two_catalogues() -> None:
    assert i18n.conflicting_translations() == {}


def test_conflict_check_finds_two_germans_for_one_msgid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "de"
    folder.mkdir()
    entry = 'msgid "cancelled"\nmsgstr "{}"\n'
    (folder / "a.po").write_text(entry.format("abgesagt"), encoding="utf-8")
    (folder / "b.po").write_text(entry.format("storniert"), encoding="utf-8")
    (folder / "c.po").write_text(
        'msgctxt "payment"\nmsgid "cancelled"\nmsgstr "storniert"\n', encoding="utf-8"
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    assert i18n.conflicting_translations() == {
        "cancelled": {"a.po": "abgesagt", "b.po": "storniert"}
    }


def test_one_english_word_two_german_ones() -> None:
    assert i18n.gettext("de", i18n.NC_("event", "cancelled")) == "abgesagt"
    assert i18n.gettext("de", i18n.NC_("payment", "cancelled")) == "storniert"
    assert i18n.gettext("en", i18n.NC_("payment", "cancelled")) == "cancelled"
    assert i18n.translate("en", i18n.NC_("event", "cancelled")) == "cancelled"


def test_plurals_in_flows_notifications_and_parameters() -> None:
    one = i18n.counted("{n} day", "{n} days", 1)
    many = i18n.counted("{n} day", "{n} days", 3)
    assert i18n.format_value("de", one) == "1 Tag"
    assert i18n.format_value("de", many) == "3 Tage"
    assert i18n.format_value("en", one) == "1 day"
    stored = "Payment received: your {n} ticket for {event} on {day} at {time} is in your wallet."
    params = {
        "event": "Weihnachtsmarkt",
        "day": "1.12.",
        "time": "18:00",
        **i18n.plural(
            "Payment received: your {n} tickets for {event} on {day} at {time} are in your wallet.",
            1,
        ),
    }
    german = i18n.translate("de", stored, params)
    assert "Ihr 1 Ticket für Weihnachtsmarkt" in german and "(s)" not in german
    params["n"] = 2
    assert "2 tickets for" in i18n.translate("en", stored, params)
    assert "Ihre 2 Tickets" in i18n.translate("de", stored, params)


def test_numbers_and_dates_as_the_person_writes_them() -> None:
    message = "Please enter a number from {low} to {high}."
    assert "0,5" in i18n.translate("de", message, {"low": 0.5, "high": 5000})
    assert "0.5" in i18n.translate("en", message, {"low": 0.5, "high": 5000})
    assert i18n.format_value("de", 15.0) == "15"
    assert i18n.format_value("de", 12.5) == "12,5"
    assert i18n.format_value("de", date(2027, 6, 30)) == "30.06.2027"
    assert i18n.format_value("en", date(2027, 6, 30)) == "30 Jun 2027"
