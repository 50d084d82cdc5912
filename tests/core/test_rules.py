"""Pure rules: money, codes, dates, profile validation, settings and city configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from services import codes
from services.city import CityConfigError, load_city
from services.errors import InvalidInput
from services.identity.profile import (
    parse_date,
    validate_email,
    validate_name,
    validate_phone,
    validate_postal_code,
    validate_street,
)
from services.money import format_cents_plain, format_money, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50 €", 1250),
        ("12", 1200),
        ("EUR 7,5", 750),
        ("1.000,00", 100000),
        (" 25 € ", 2500),
        ("0,99", 99),
        ("100euro", 10000),
    ],
)
def test_amounts_residents_type(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["-5", "0", "0,00", "12,505", "zwölf", "", "12,5,0", "1e3"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(text)


def test_money_is_shown_for_the_locale() -> None:
    assert format_money(1250, "de") == "12,50\xa0€"
    assert format_money(1250, "en") == "€12.50"
    assert format_cents_plain(-1205) == "-12.05"


def test_codes_have_60_bits_two_check_symbols_and_tolerate_typing() -> None:
    code = codes.new_code(12)
    assert len(code) == 14 and all(ch in codes.ALPHABET for ch in code)
    typed = codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert codes.parse_code(typed) == code


def test_one_wrong_character_is_a_typo_not_another_code() -> None:
    code = codes.new_code(12)
    for position in range(12):
        wrong = codes.ALPHABET[(codes.ALPHABET.index(code[position]) + 1) % 32]
        with pytest.raises(codes.CodeTypo):
            codes.parse_code(code[:position] + wrong + code[position + 1 :])


def test_garbage_is_not_a_code() -> None:
    with pytest.raises(ValueError):
        codes.parse_code("hello")


def test_dates_as_residents_write_them() -> None:
    assert parse_date("24.12.2026", date(2026, 11, 25)).isoformat() == "2026-12-24"
    assert parse_date("1.2.27", date(2026, 11, 25)).isoformat() == "2027-02-01"
    assert parse_date("2026-03-29", date(2026, 11, 25)).isoformat() == "2026-03-29"
    with pytest.raises(InvalidInput, match="does not exist"):
        parse_date("31.02.2026", date(2026, 11, 25))
    with pytest.raises(InvalidInput):
        parse_date("next friday", date(2026, 11, 25))


def test_profile_validation() -> None:
    assert validate_name("  anna   Schulte-Bölting ") == "anna Schulte-Bölting"
    assert validate_email("Anna@Example.DE") == "anna@example.de"
    assert validate_phone("02561 444-0") == "02561 444-0"
    assert validate_postal_code("48 683") == "48683"
    assert validate_street("Rathausplatz 1") == "Rathausplatz 1"
    for validator, bad in [
        (validate_name, "12345"),
        (validate_name, "🙂🙂"),
        (validate_email, "anna@"),
        (validate_phone, "call me"),
        (validate_postal_code, "4868"),
        (validate_street, "Rathausplatz"),
    ]:
        with pytest.raises(InvalidInput):
            validator(bad)


def test_settings_errors_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTLOTSE_WEB_PORT", "eighty")
    with pytest.raises(SettingsError, match="STADTLOTSE_WEB_PORT"):
        load_settings()
    monkeypatch.delenv("STADTLOTSE_WEB_PORT")
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-12-01T09:00:00")
    with pytest.raises(SettingsError, match=r"STADTLOTSE_NOW.*time zone"):
        load_settings()
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-12-01T09:00:00+01:00")
    monkeypatch.setenv("STADTLOTSE_TELEGRAM_WEBHOOK_URL", "https://example.org/hook")
    with pytest.raises(SettingsError, match="TELEGRAM_TOKEN"):
        load_settings()


def test_city_configuration_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "city.toml"
    bad.write_text('name = "Ahaus"\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(CityConfigError, match="timezone"):
        load_city(bad)
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(CityConfigError, match="not valid TOML"):
        load_city(bad)
    with pytest.raises(CityConfigError, match="does not exist"):
        load_city(tmp_path / "missing.toml")


def test_default_city_is_ahaus() -> None:
    city = load_city()
    assert city.name == "Ahaus" and city.timezone == "Europe/Berlin"
    assert city.department("buergerbuero") is not None
    assert city.merchants
