"""Plausibility: two-digit years, ages, places outside the town, files by their bytes, "keine"
as 0, chip numbers with letters, examples that fit the question, public holidays in office
hours and deadlines, case numbers that start again each year."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from services import workdays
from services.cases import records as cases
from services.cases.rules import in_office_hours, next_opening, rules
from services.city import City
from services.errors import InvalidInput
from services.identity.profile import parse_date
from services.town_area import in_town
from storage.models.cases import Case
from tests.cases.conftest import PNG, Press, walk
from tests.conftest import BERLIN
from tests.support.chat import Transcript

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("typed", "past", "expected"),
    [
        ("12.5.90", True, date(1990, 5, 12)),  # a birth date: never 2090
        ("12.5.90", None, date(1990, 5, 12)),  # the nearest: 36 years back, not 64 ahead
        ("1.1.26", True, date(2026, 1, 1)),
        ("1.12.26", True, date(2026, 12, 1)),  # this year: the field then says "in the future"
        ("1.1.27", False, date(2027, 1, 1)),
        ("1.1.25", False, date(2125, 1, 1)),
        ("24.12.26", None, date(2026, 12, 24)),
        ("3.4.1990", True, date(1990, 4, 3)),
    ],
)
def test_two_digit_years_take_the_century_the_question_needs(
    typed: str, past: bool | None, expected: date
) -> None:
    assert parse_date(typed, TODAY, past=past) == expected


def test_town_area_from_the_configuration(city: City) -> None:
    assert in_town(city, 52.0758, 7.0131)  # Ahaus, Marktstraße
    assert in_town(city, 52.1240, 6.9230)  # Alstätte
    assert not in_town(city, 48.1372, 11.5756)  # Munich
    assert not in_town(city, 52.2230, 6.8940)  # Enschede (NL), just across the border


def test_public_holidays_of_nrw_count_for_office_hours(city: City) -> None:
    town = rules(city)
    open_day = lambda day: workdays.is_open_day(city, day)  # noqa: E731
    maundy_thursday = datetime(2027, 3, 25, 18, 30, tzinfo=BERLIN)
    # Good Friday and Easter Monday are holidays, summer time starts on Easter Sunday
    assert next_opening(town, maundy_thursday, BERLIN, open_day) == datetime(
        2027, 3, 30, 8, 0, tzinfo=BERLIN
    )
    corpus_christi = datetime(2026, 6, 4, 10, 0, tzinfo=BERLIN)  # Fronleichnam: NRW only
    assert workdays.holiday_name(city, corpus_christi.date()) == "Fronleichnam"
    assert not in_office_hours(town, corpus_christi, BERLIN, open_day)
    assert in_office_hours(town, corpus_christi, BERLIN)  # without the calendar it looked open
    assert workdays.holiday_name(city, date(2026, 11, 1)) == "Allerheiligen"
    assert workdays.holiday_name(city, date(2026, 11, 18)) is None  # Buß- und Bettag: Saxony


def test_a_deadline_on_a_weekend_or_holiday_moves_to_the_next_working_day(city: City) -> None:
    assert workdays.deadline(city, date(2026, 12, 11), 14) == date(2026, 12, 28)  # 25./26./27.
    assert workdays.deadline(city, date(2026, 12, 10), 14) == date(2026, 12, 24)
    assert workdays.deadline(city, date(2026, 5, 21), 14) == date(2026, 6, 5)  # 4.6. Fronleichnam
    assert workdays.deadline(city, date(2026, 11, 18), 14) == date(2026, 12, 2)


async def test_expected_decision_skips_christmas(chat: Transcript, people: dict[str, int]) -> None:
    chat.clock.set(datetime(2026, 12, 11, 10, 0, tzinfo=BERLIN))
    async with chat.db.uow() as uow:
        case = await cases.submit(
            uow,
            chat.city,
            citizen_id=people["anna"],
            form="dogtax",  # 14 days: 25.12., a holiday, then the weekend
            department="steuern",
            answers={},
            summary="Bello",
            now=chat.clock.now(),
        )
        await uow.commit()
    assert case.expected_on == date(2026, 12, 28)


async def test_case_numbers_start_again_each_year(chat: Transcript, people: dict[str, int]) -> None:
    async def submit(at: datetime) -> str:
        chat.clock.set(at)
        async with chat.db.uow() as uow:
            case = await cases.submit(
                uow,
                chat.city,
                citizen_id=people["anna"],
                form="dogtax",
                department="steuern",
                answers={},
                summary="Bello",
                now=at,
            )
            await uow.commit()
            return case.reference

    assert await submit(datetime(2026, 12, 30, 12, 0, tzinfo=BERLIN)) == "AH-2026-000001"
    assert await submit(datetime(2026, 12, 31, 23, 30, tzinfo=BERLIN)) == "AH-2026-000002"
    # 00:30 on New Year's Day in Ahaus is still 2026 in UTC: the town's calendar counts
    assert await submit(datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN)) == "AH-2027-000001"
    assert await submit(datetime(2027, 1, 2, 9, 0, tzinfo=BERLIN)) == "AH-2027-000002"
    async with chat.db.uow() as uow:
        count = len((await uow.session.execute(select(Case.id))).all())
    assert count == 4


async def test_business_owner_aged_eleven_is_refused(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("ben", "/language en")
    await walk(chat, "ben", "/apply", Press("Business"), Press("as a person"), Press("Use this"))
    example = await chat.send("ben", "yesterday")
    found = example.split("for example ")[1][:10]
    assert parse_date(found, TODAY) < TODAY  # the example for a birth date is in the past
    eleven = (chat.clock.now() - timedelta(days=11 * 365 + 30)).strftime("%d.%m.%Y")
    answer = await chat.send("ben", eleven)
    assert "you are 11" in answer and "§ 112 BGB" in answer
    answer = await chat.send("ben", "12.5.90")
    assert "Trading name" in answer or "trading name" in answer  # accepted: 12.05.1990


async def test_dog_form_chip_letters_and_keine(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "dog tax", Press("Use this"), Press("Use this"))
    await walk(chat, "anna", "12.5.90", "Bello", Press("male"), "Labrador", "1.5.24", "black")
    answer = await chat.send("anna", "27610000000O001")
    assert "digits only; O is not a digit" in answer
    await walk(chat, "anna", "276-100-000-000-001", "01.06.2024")
    answer = await chat.send("anna", "keine")
    assert "exemption" in answer  # accepted as 0: the next question
    await chat.press("anna", "No exemption")
    async with chat.db.uow() as uow:
        from storage.models.conversation import FormDraft

        answers = (await uow.session.execute(select(FormDraft.answers))).scalar_one()
    assert answers["other_dogs"] == 0
    assert answers["holder_birth"] == "1990-05-12"
    assert answers["chip"] == "276100000000001"


@pytest.mark.parametrize("word", ["keine", "Niemanden", "none", "nobody."])
async def test_words_for_none_are_zero_employees(
    chat: Transcript, people: dict[str, int], word: str
) -> None:
    from flows import fields

    parse = fields.integer(0, 100)
    assert parse(None, word) == 0  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        fields.integer(1, 6)(None, word)  # type: ignore[arg-type]


async def test_a_place_in_munich_and_a_text_file_named_png_are_refused(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "Sondernutzung", Press("Café terrace"), "Marktstraße 12, Ahaus")
    munich = await chat.send("anna", "@location 48.1372,11.5756")
    assert "This place is outside Ahaus" in munich
    answer = await chat.send("anna", "@location 52.0758,7.0131")
    assert "From which day" in answer
    first = (chat.clock.now() + timedelta(days=20)).strftime("%d.%m.%Y")
    last = (chat.clock.now() + timedelta(days=25)).strftime("%d.%m.%Y")
    await walk(chat, "anna", first, last, "12,5")
    fake = await chat.upload("anna", "fake.png", "image/png", b"just some text, no picture")
    assert "not a photo (JPEG or PNG) or a PDF, whatever its name says" in fake
    answer = await chat.upload("anna", "sketch.png", "image/png", PNG)
    assert "phone" in answer.lower()
