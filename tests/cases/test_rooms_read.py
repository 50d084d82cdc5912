"""Staff rooms people can read (issue 12, "Staff rooms read like a database dump"): labels and
values in the room's language, configured names instead of keys, and personal data only where
the department's room is private."""

from __future__ import annotations

from datetime import date
from typing import Any

from services import drafts
from services.i18n import gettext
from tests.cases.conftest import PDF
from tests.support.chat import Transcript

SPACE = {
    "purpose": "removal",
    "place": "Wallstraße 7, 48683 Ahaus",
    "pin": None,
    "first_day": "2026-12-18",
    "last_day": "2026-12-18",
    "area": 15.0,
    "phone": "02561 12345",
}
TRANSIT = {
    "holder_name": "Anna Schulte",
    "holder_birth": "1980-03-12",
    "basis": "buergergeld",
    "proof_until": "2027-06-30",
}
DAYCARE = {
    "child_first": "Mia",
    "child_last": "Schulte",
    "child_birth": "2024-05-01",
    "start": "2027-08-01",
    "hours": "35",
    "choices": "2",
    "daycare_1": "st-marien",
    "daycare_2": "regenbogen",
    "siblings": "no",
    "parent_name": "Anna Schulte",
    "parent_phone": "02561 12345",
    "parent_email": "anna@example.org",
}


DOG = {
    "holder_name": "Anna Schulte",
    "holder_address": "Marktstraße 5, 48683 Ahaus",
    "holder_birth": "1980-03-12",
    "dog_name": "Bello",
    "dog_sex": "m",
    "breed": "Labrador",
    "litter_date": "2024-05-01",
    "colour": "schwarz",
    "chip": "276100000000001",
    "since": "2024-07-01",
    "other_dogs": 0,
    "exemption": "no",
}
TITLES = {
    "dogtax": "Dog tax registration",
    "space": "Special use of public space",
    "transit": "Subsidised transit ticket",
    "daycare": "Daycare registration",
}


async def send_prepared(
    chat: Transcript, user: str, citizen: int, form: str, answers: dict[str, Any], lang: str = "de"
) -> str:
    """The resident has filled in everything but the file; they send the file and the form."""
    async with chat.db.uow() as uow:
        await drafts.save(uow, citizen, form, answers, "", chat.clock.now())
        await uow.commit()
    await chat.send(user, "/apply")
    await chat.press(user, gettext(lang, TITLES[form]))
    answer = await chat.press(user, gettext(lang, "Continue"))
    if "PDF" in answer or "photo" in answer.casefold() or "Foto" in answer:
        answer = await chat.upload(user, "proof.pdf", "application/pdf", PDF)
    assert gettext(lang, "Send") in answer, answer
    return await chat.press(user, gettext(lang, "Send"))


async def test_space_room_message_has_labels_and_german_values(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await send_prepared(chat, "anna", people["anna"], "space", SPACE, "en")
    room = await chat.notifications("room:ordnung")
    assert "Neuer Antrag AH-2026-000001" in room
    assert gettext("de", "Removal van (no-parking zone)") in room
    assert "18.12.2026" in room and "15 m²" in room
    for dump in ("removal:", "2026-12-18", "15.0", "15,0"):
        assert dump not in room


async def test_a_room_configured_english_reads_english(
    chat: Transcript, people: dict[str, int]
) -> None:
    department = chat.city.department("ordnung")
    assert department is not None
    department.language = "en"
    await send_prepared(chat, "anna", people["anna"], "space", SPACE)
    room = await chat.notifications("room:ordnung")
    assert "New application AH-2026-000001: Special use of public space" in room
    assert "Purpose: Removal van (no-parking zone)" in room
    assert "18 Dec 2026" in room and "15 m²" in room
    assert "Neuer Antrag" not in room and "Umzug" not in room


async def test_a_shared_room_gets_reference_type_and_actions_only(
    chat: Transcript, people: dict[str, int]
) -> None:
    department = chat.city.department("buergerbuero")
    assert department is not None
    department.private_rooms = []  # as a Telegram group is by default
    await send_prepared(chat, "anna", people["anna"], "transit", TRANSIT)
    room = await chat.notifications("room:buergerbuero")
    assert ("AH-2026-000001" in room and "Sozialticket" in room) or "Deutschlandticket" in room
    for personal in ("Anna", "Schulte", "Bürgergeld", "buergergeld", "1980"):
        assert personal not in room
    assert "„Details“" in room  # where the personal details are
    details = await chat.press("petra", "Details", room="buergerbuero")
    assert "Anna Schulte" in details
    assert any(r.private for r in chat.last["room:buergerbuero"] if "Anna Schulte" in r.text)


async def test_transit_in_a_private_room_names_the_benefit_and_formats_the_date(
    chat: Transcript, people: dict[str, int]
) -> None:
    await send_prepared(chat, "anna", people["anna"], "transit", TRANSIT)
    room = await chat.notifications("room:buergerbuero")
    assert gettext("de", "Citizen's income (Bürgergeld)") in room
    assert "30.06.2027" in room
    assert "buergergeld," not in room and "2027-06-30" not in room
    assert "Nachweis gültig bis 2027" not in room


async def test_daycare_choices_by_their_configured_names(
    chat: Transcript, people: dict[str, int]
) -> None:
    await send_prepared(chat, "anna", people["anna"], "daycare", DAYCARE)
    room = await chat.notifications("room:kita")
    assert "Kath. Kita St. Marien" in room and "Städt. Kita Regenbogen" in room
    assert "st-marien > regenbogen" not in room
    assert date(2027, 8, 1).strftime("%d.%m.%Y") in room


async def test_dog_tax_in_a_shared_room_has_no_name_or_chip(
    chat: Transcript, people: dict[str, int]
) -> None:
    department = chat.city.department("steuern")
    assert department is not None
    department.private_rooms = []
    await send_prepared(chat, "anna", people["anna"], "dogtax", DOG)
    room = await chat.notifications("room:steuern")
    assert "AH-2026-000001" in room and "Labrador" in room
    for personal in ("Anna", "Schulte", "276100000000001", "Bello", "Marktstraße"):
        assert personal not in room


async def test_resident_answers_stay_out_of_a_shared_room(
    chat: Transcript, people: dict[str, int]
) -> None:
    from tests.cases.conftest import submit_case

    department = chat.city.department("steuern")
    assert department is not None
    department.private_rooms = []
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", gettext("de", "Ask the resident"), room="steuern")
    asked = await chat.send("stefan", "Seit wann lebt der Hund bei Ihnen?", room="steuern")
    if "Ja" in asked:
        await chat.press("stefan", "Ja", room="steuern")
    told = await chat.notifications("anna")
    assert ref in told
    await chat.press("anna", gettext("de", "Answer"))
    await chat.send("anna", "Seit März, er wohnt in der Marktstraße 5")
    room = await chat.notifications("room:steuern")
    assert ref in room and "Marktstraße" not in room
    assert "Details" in room


async def test_press_in_room_with_personal_details_is_private(
    chat: Transcript, people: dict[str, int]
) -> None:
    await send_prepared(chat, "anna", people["anna"], "space", SPACE)
    await chat.notifications("room:ordnung")
    await chat.press("olga", "Details", room="ordnung")
    shown = [r for r in chat.last["room:ordnung"] if "Wallstraße 7" in r.text]
    assert shown and all(r.private for r in shown)


async def test_help_in_a_staff_room_shows_the_staff_commands(
    chat: Transcript, people: dict[str, int]
) -> None:
    shown = await chat.send("stefan", "/help", room="steuern")
    assert "Befehle im Raum von Steueramt" in shown
    assert "/queue" in shown and "/language" in shown
    for resident_only in ("/wallet", "/apply", "/redeem", "/campaigns", "/myevents", "/deleteme"):
        assert resident_only not in shown
    assert "Offene Vorgänge" in shown and gettext("de", "Apply for something") not in shown


async def test_language_in_a_staff_room_keeps_the_room_and_says_so(
    chat: Transcript, people: dict[str, int]
) -> None:
    choose = await chat.send("stefan", "/language", room="steuern")
    assert "English" in choose
    done = await chat.press("stefan", "English", room="steuern")
    assert "I will speak English with you from now on." in done
    assert "Notifications in this room stay in German, as Tax office has configured it" in done
    assert "Open cases" in done and "Wallet" not in done and "Apply for something" not in done
    queue = await chat.press("stefan", "Open cases", room="steuern")
    assert "No open cases for Tax office" in queue


async def test_help_shows_each_person_the_commands_of_their_roles(
    chat: Transcript, people: dict[str, int]
) -> None:
    from services.identity import accounts as identity

    resident = await chat.send("anna", "/help")
    assert "/wallet" in resident and "/apply" in resident
    for other in ("/queue", "/redeem", "/turnover", "/campaigns", "/myevents", "/maengel"):
        assert other not in resident
    async with chat.db.uow() as uow:
        await identity.grant_role(
            uow, people["ben"], "merchant", "cafe-am-markt", now=chat.clock.now(), by="test"
        )
        await uow.commit()
    merchant = await chat.send("ben", "/help")
    assert "/redeem" in merchant and "/turnover" in merchant and "/wallet" in merchant
    assert "/queue" not in merchant and "/campaigns" not in merchant
    staff = await chat.send("stefan", "/help")
    assert "/queue" in staff and "/wallet" in staff and "/redeem" not in staff
