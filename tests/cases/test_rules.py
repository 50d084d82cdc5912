"""The pure rules: references, chip numbers, listed breeds, fees, office hours, pass months."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services import documents
from services.cases.rules import (
    dangerous_breed,
    in_office_hours,
    next_opening,
    normalise_reference,
    rules,
    space_fee,
    valid_chip,
)
from services.city import City
from tests.conftest import BERLIN
from tests.support.pdf import embedded_fonts, pdf_text, unembedded_fonts


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("AH-2026-000123", "AH-2026-000123"),
        ("ah 2026 123", "AH-2026-000123"),
        (" AH/2026/000123 ", "AH-2026-000123"),
        ("AH-26-123", ""),
        ("2026-000123", ""),
        ("AH-2026-1234567890", ""),
        ("'; drop table", ""),
    ],
)
def test_references(typed: str, expected: str) -> None:
    assert normalise_reference(typed) == expected


def test_chip_numbers() -> None:
    assert valid_chip("276 0981 0000 123") is None  # 14 digits
    assert valid_chip("276098100001234") == "276098100001234"
    assert valid_chip("27609810000123X") is None


def test_listed_breeds(city: City) -> None:
    listed = rules(city).dangerous_breeds
    assert dangerous_breed("Rottweiler-Mix", listed) == "Rottweiler"
    assert dangerous_breed("american staffordshire terrier", listed)
    assert dangerous_breed("Labrador", listed) is None


def test_space_fee(city: City) -> None:
    town = rules(city)
    # a scaffold of 20 m² for 30 days at 0.10 €/m²/day = 60 €
    assert space_fee(town, "scaffolding", 20, date(2026, 12, 1), date(2026, 12, 30)) == 6000
    assert space_fee(town, "terrace", 1, date(2026, 12, 1), date(2026, 12, 1)) == 2500  # minimum


def test_office_hours(city: City) -> None:
    town = rules(city)
    thursday_evening = datetime(2026, 11, 26, 17, 30, tzinfo=BERLIN)
    friday_evening = datetime(2026, 11, 27, 17, 30, tzinfo=BERLIN)
    assert in_office_hours(town, thursday_evening, BERLIN)
    assert not in_office_hours(town, friday_evening, BERLIN)
    assert next_opening(town, friday_evening, BERLIN) == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)


def test_letters_keep_every_letter_and_the_euro_sign(city: City) -> None:
    """DejaVu Sans is embedded: ı, ş, Ł, đ and € survive (Helvetica/WinAnsi dropped them)."""
    letter = documents.Letter(
        head=documents.letterhead(city, "steuern", "de"),
        title="Eingangsbestätigung: Hundesteuer-Anmeldung",
        facts=[("Aktenzeichen", "AH-2026-000001"), ("Datum", "25.11.2026")],
        sections=[("Name", "Iğdır Şahin, Łukasz Đorđević"), ("Gebühr", "25,00 €")],
        notes=["Geschätzte Gebühr: 25,00 €"],
        footer="Bitte geben Sie das Aktenzeichen an.",
    )
    data = documents.render(letter)
    assert data.startswith(b"%PDF")
    assert embedded_fonts(data) == {"DejaVuSansBook", "DejaVuSansBold"}  # subset, embedded
    assert not unembedded_fonts(data)
    text = pdf_text(data)
    for expected in ("Iğdır Şahin", "Łukasz Đorđević", "25,00 €", "Stadt Ahaus", "Steueramt"):
        assert expected in text, expected
    assert "steueramt@ahaus.de" in text and "AH-2026-000001" in text


def test_the_font_and_its_licence_ship_as_package_data() -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert (documents.FONT_DIR / name).is_file(), name
    assert "Bitstream" in (documents.FONT_DIR / "LICENSE-DejaVu.txt").read_text()
