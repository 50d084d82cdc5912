"""A transcript per form, from the first question to the receipt, with the bad input the
issue names: impossible and implausible dates, wrong chip numbers, files where text is asked
and the other way round, oversized PDFs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers import menus
from storage.models.cases import Case
from tests.cases.conftest import PDF, PNG, Press, walk
from tests.support.chat import Transcript
from tests.support.pdf import embedded_fonts, pdf_text


async def only_case(chat: Transcript) -> Case:
    async with chat.db.uow() as uow:
        found = list((await uow.session.execute(select(Case))).scalars())
        await uow.commit()  # keeps the loaded rows usable after the session closes
    assert len(found) == 1
    return found[0]


def receipt_of(chat: Transcript, user: str, reference: str) -> bytes:
    media = [r.media for r in chat.last[user] if r.media]
    assert media and media[0].filename == f"{reference}.pdf"
    assert media[0].mime == "application/pdf"
    assert media[0].data.startswith(b"%PDF")
    return media[0].data


async def test_dog_tax_from_start_to_receipt(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    first = await chat.send("anna", "dog tax")
    assert "Dog tax registration (1/12)" in first
    assert "From your profile: Anna Schulte" in first
    await walk(chat, "anna", Press("Use this"), Press("Use this"))
    assert "does not exist" in await chat.send("anna", "31.02.1980")
    future = (chat.clock.now() + timedelta(days=30)).strftime("%d.%m.%Y")
    assert "in the future" in await chat.send("anna", future)
    photo_for_text = await chat.upload("anna", "dog.png", "image/png", PNG)
    assert "Please type your answer as text" in photo_for_text
    await walk(chat, "anna", "12.03.1980", "Bello", Press("male"), "Rottweiler-Mix")
    await walk(chat, "anna", "01.05.2024", "black")
    short = await chat.send("anna", "27610000000000")
    assert "exactly 15 digits; this one has 14" in short
    await walk(chat, "anna", "276 100 000 000 001")
    before_birth = await chat.send("anna", "01.01.2024")
    assert "Other dogs" not in before_birth  # next question comes, the check is at the end
    await walk(chat, "anna", "0", Press("Assistance"))
    text_for_file = await chat.send("anna", "I have a certificate")
    assert "Please send a photo or a PDF file here." in text_for_file
    summary = await chat.upload("anna", "certificate.pdf", "application/pdf", PDF)
    # the dog came "before it was born": asked again before the summary
    assert "cannot have come to you before it was born" in summary
    summary = await chat.send("anna", "01.06.2024")
    assert "Please check your application" in summary
    assert "Microchip number: 276100000000001" in summary
    assert "Rottweiler is listed in the dog law of NRW" in summary
    sent = await chat.press("anna", "Send")
    case = await only_case(chat)
    assert case.reference == "AH-2026-000001"
    assert f"Your reference is {case.reference}" in sent
    assert case.department == "steuern" and case.status == "submitted"
    assert case.answers["chip"] == "276100000000001"
    receipt_of(chat, "anna", case.reference)
    room = await chat.notifications("room:steuern")
    assert "Neuer Antrag AH-2026-000001" in room and "Rottweiler-Mix" in room
    assert "Listenhund (Rottweiler): erhöhter Steuersatz" in room


async def test_business_registration_company(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("ben", "/language en")
    await walk(chat, "ben", "Gewerbeanmeldung", Press("company"), Press("GmbH"))
    await walk(chat, "ben", "Terhaar Fahrräder GmbH", "Amtsgericht Coesfeld")
    wrong = await chat.send("ben", "12345")
    assert "for example HRB 12345" in wrong
    await walk(chat, "ben", "hrb 4711", Press("Use this"), "02.02.1985", Press("Skip"))
    await chat.press("ben", "Use this")
    decades = await chat.send("ben", "01.01.1990")
    assert "Please choose a date from" in decades
    await walk(chat, "ben", "01.12.2026", "Sale and repair of bicycles", Press("Full time"))
    assert "whole number" in await chat.send("ben", "three")
    await chat.send("ben", "3")
    summary = await chat.press("ben", "Use this")
    assert "Register number: HRB 4711" in summary
    assert "Trading name: (skipped)" in summary
    await chat.press("ben", "Send")
    case = await only_case(chat)
    assert case.department == "ordnung" and case.answers["legal_form"] == "gmbh"
    receipt_of(chat, "ben", case.reference)


async def test_business_registration_person_skips_register(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("ben", "/language en")
    answer = await walk(chat, "ben", "/apply", Press("Business"), Press("as a person"))
    assert "Your first and last name" in answer  # no legal form, no register questions


async def test_special_use_with_fee_lead_time_and_pin(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "Sondernutzung", Press("Café terrace"), "Marktstraße 12, Ahaus")
    await chat.handle_location("anna", 52.0758, 7.0131) if hasattr(
        chat, "handle_location"
    ) else await chat.send("anna", "@location 52.0758,7.0131")
    soon = (chat.clock.now() + timedelta(days=3)).strftime("%d.%m.%Y")
    later = (chat.clock.now() + timedelta(days=12)).strftime("%d.%m.%Y")
    past = (chat.clock.now() - timedelta(days=3)).strftime("%d.%m.%Y")
    assert "in the past" in await chat.send("anna", past)
    await walk(chat, "anna", later, soon)
    await chat.send("anna", "12,5")
    big = await chat.upload("anna", "plan.pdf", "application/pdf", b"%PDF" + b"0" * (50 << 20))
    assert "too large" in big
    await chat.upload("anna", "plan.pdf", "application/pdf", PDF)
    problem = await chat.press("anna", "Use this")
    assert "The last day is before the first day" in problem
    later2 = (chat.clock.now() + timedelta(days=21)).strftime("%d.%m.%Y")
    summary = await chat.send("anna", later2)
    # terrace: 0.15 €/m²/day × 12.5 m² × 10 days = 18.75 €, the minimum fee is 25 €
    assert "Estimated fee: €25.00" in summary
    assert "at least 14 days ahead" in summary
    assert "Location pin: 52.07580, 7.01310" in summary
    await chat.press("anna", "Send")
    case = await only_case(chat)
    assert case.department == "ordnung" and case.answers["area"] == 12.5
    text = pdf_text(receipt_of(chat, "anna", case.reference))
    # what a town's letter carries: letterhead, department, contact, office hours, reference,
    # date, the answers, the fee estimate and the expected decision date the chat showed
    for expected in (
        "Stadt Ahaus",
        "Public order office",
        "Rathausplatz 1, 48683 Ahaus",
        "ordnungsamt@ahaus.de",
        "Office hours",
        f"Reference: {case.reference}",
        "Marktstraße 12, Ahaus",
        "Estimated fee: €25.00",
        "You can expect a decision by",
    ):
        assert expected in text, expected
    assert "DejaVuSansBook" in embedded_fonts(receipt_of(chat, "anna", case.reference))


async def test_daycare_with_ranked_choices(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "kita", "Mia", Press("Use this"))
    assert "in the future" in await chat.send("anna", "01.01.2027")
    await walk(chat, "anna", "15.03.2024", "01.08.2027", Press("35 hours"))
    count = await chat.send("anna", "9")
    assert "Please choose one of the options" in count
    first = await chat.press("anna", "3")
    assert "first choice" in first and "St. Marien" in first
    second = await chat.press("anna", "St. Marien")
    assert "second choice" in second and "St. Marien" not in second
    third = await chat.press("anna", "Regenbogen")
    assert "Regenbogen" not in third and "St. Marien" not in third
    await walk(chat, "anna", Press("Waldkindergarten"), "Leon, Kita St. Marien")
    await walk(chat, "anna", Press("Use this"), Press("Use this"))
    summary = await chat.press("anna", "Use this")
    assert "1st choice: Kath. Kita St. Marien" in summary
    assert "3rd choice: Waldkindergarten" in summary
    await chat.press("anna", "Send")
    case = await only_case(chat)
    assert case.department == "kita"
    assert [case.answers[f"daycare_{n}"] for n in (1, 2, 3)] == [
        "st-marien",
        "regenbogen",
        "waldkita",
    ]
    receipt_of(chat, "anna", case.reference)


async def test_transit_ticket_application(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "Sozialticket", Press("Use this"), "01.04.1975")
    await walk(chat, "anna", Press("Citizen's income"))
    assert "Please send a photo or a PDF" in await chat.send("anna", "here it is")
    await chat.upload("anna", "bescheid.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 100)
    summary = await chat.send("anna", "31.03.2027")
    assert "Proof valid until: 31 Mar 2027" in summary
    await chat.press("anna", "Send")
    case = await only_case(chat)
    assert case.department == "buergerbuero" and case.answers["basis"] == "buergergeld"
    receipt_of(chat, "anna", case.reference)


async def test_german_is_the_default(chat: Transcript, people: dict[str, int]) -> None:
    answer = await chat.send("anna", "Hundesteuer")
    assert "Hundesteuer-Anmeldung (1/12)" in answer
    assert "Wer hält den Hund?" in answer
    for _ in range(2):  # the first button ("use this"), whatever the core's German calls it
        await chat.choose("anna", menus.pack(chat.last["anna"][-1].menu, 0))
    await walk(chat, "anna", "12.03.1980", "Bello")
    choice = chat.last["anna"][-1]
    assert [b.label for b in choice.buttons][:2] == ["Rüde", "Hündin"]


async def test_a_draft_survives_a_pause_and_a_restart(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "dog tax", Press("Use this"), Press("Use this"), "12.03.1980")
    await chat.press("anna", "Cancel")
    chat.restart()
    again = await chat.send("anna", "dog tax")
    assert "unfinished application" in again
    resumed = await chat.press("anna", "Continue")
    assert "What is the dog's name?" in resumed


async def test_a_sent_form_cannot_be_sent_or_edited_again(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "Sozialticket", Press("Use this"), "01.04.1975")
    await walk(chat, "anna", Press("Citizen's income"))
    await chat.upload("anna", "bescheid.pdf", "application/pdf", PDF)
    await chat.send("anna", "31.03.2027")
    summary_menu = chat.last["anna"]
    await chat.press("anna", "Send")
    chat.last["anna"] = summary_menu  # the old summary, pressed again
    again = await chat.press("anna", "Send")
    assert "outdated" in again
    chat.last["anna"] = summary_menu
    edit = await chat.press("anna", "Change an answer")
    assert "outdated" in edit
    async with chat.db.uow() as uow:
        assert len(list((await uow.session.execute(select(Case))).scalars())) == 1


async def test_back_and_change_before_sending(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await walk(chat, "anna", "Sozialticket", Press("Use this"), "01.04.1975")
    back = await chat.press("anna", "Back")
    assert "date of birth" in back and "Current answer: 1 Apr 1975" in back
    await walk(chat, "anna", Press("Keep this answer"), Press("Housing benefit"))
    await chat.upload("anna", "bescheid.pdf", "application/pdf", PDF)
    await chat.send("anna", "31.03.2027")
    await chat.press("anna", "Change an answer")
    await chat.press("anna", "Proof valid until")
    summary = await chat.send("anna", "30.06.2027")
    assert "Proof valid until: 30 Jun 2027" in summary
    assert "Eligibility: Housing benefit (Wohngeld)" in summary
    await chat.press("anna", "Send")
    case = await only_case(chat)
    assert case.answers["proof_until"] == "2027-06-30"
