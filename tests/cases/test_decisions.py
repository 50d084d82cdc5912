"""Decisions carry their content: the dog tax per year and the tag number, the special-use
permit as a PDF letter, the daycare staff chose from the ranked list; a rejected resident can
answer or object inside the case."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from services.cases import dogtax
from services.city import City
from storage.models.cases import Case
from tests.cases.conftest import PDF, submit_case
from tests.conftest import BERLIN
from tests.support.chat import Transcript
from tests.support.pdf import embedded_fonts, pdf_text


async def case_of(chat: Transcript, ref: str) -> Case:
    async with chat.db.uow() as uow:
        found = (await uow.session.execute(select(Case).where(Case.reference == ref))).scalar_one()
        uow.session.expunge(found)
        return found


def test_dog_tax_rates_as_the_statute_sets_them(city: City) -> None:
    tax = dogtax.rules(city)
    assert dogtax.yearly_rate(tax, 1, listed=False) == 5400  # one dog: 54 €
    assert dogtax.yearly_rate(tax, 2, listed=False) == 7200  # two dogs: 72 € each
    assert dogtax.yearly_rate(tax, 3, listed=False) == 8400  # three or more: 84 € each
    assert dogtax.yearly_rate(tax, 7, listed=False) == 8400
    assert dogtax.yearly_rate(tax, 1, listed=True) == tax.dangerous_rate_cents
    # the first year from the first of the month the dog came, in twelfths
    assert dogtax.first_year_cents(7200, date(2026, 9, 14), 2026) == 2400  # Sep-Dec: 4/12
    assert dogtax.first_year_cents(5400, date(2026, 1, 31), 2026) == 5400
    assert dogtax.first_year_cents(5400, date(2025, 6, 1), 2026) == 5400
    assert dogtax.first_year_cents(5400, date(2026, 12, 1), 2026) == 450


async def test_approving_a_dog_tells_the_yearly_tax_and_the_tag_number(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(
        chat, people["anna"], other_dogs=1, since="2026-09-14", exemption="no", breed="Labrador"
    )
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Bewilligen", room="steuern")
    approved = await chat.press("stefan", "Ja, ", room="steuern")
    assert "Hundesteuermarke Nr.: AH-00001" in approved and "72,00" in approved
    told = await chat.notifications("anna")
    assert "Tag number for Bello: AH-00001" in told
    assert "Dog tax: €72.00 a year (rate per dog for 2 dog(s) in the household)" in told
    assert "for 2026 from 09/2026: €24.00" in told
    case = await case_of(chat, ref)
    assert case.decision["tag"] == "AH-00001" and case.decision["yearly_cents"] == 7200
    shown = await chat.send("anna", f"/case {ref}")
    assert "Dog tag number: AH-00001" in shown and "Dog tax: €72.00 a year" in shown
    # the next dog gets the next tag; a listed breed pays the listed-dog rate
    ref2 = await submit_case(
        chat, people["ben"], other_dogs=0, since="2026-11-01", breed="Rottweiler-Mix"
    )
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Bewilligen", room="steuern")
    await chat.press("stefan", "Ja, ", room="steuern")
    assert (await case_of(chat, ref2)).decision["tag"] == "AH-00002"
    told = await chat.notifications("ben")
    assert "AH-00002" in told and "600,00" in told and "Listenhunde" in told


async def test_an_exempt_assistance_dog_pays_nothing(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(chat, people["anna"], exemption="assistance", since="2026-10-01")
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Bewilligen", room="steuern")
    await chat.press("stefan", "Ja, ", room="steuern")
    assert "Bello is exempt from the dog tax. Tag number: AH-00001" in (
        await chat.notifications("anna")
    )
    assert (await case_of(chat, ref)).decision["yearly_cents"] == 0


async def test_a_special_use_permit_comes_as_a_pdf_with_area_period_conditions_and_fee(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(
        chat,
        people["anna"],
        form="space",
        department="ordnung",
        purpose="scaffolding",
        place="Marktstraße 12, 48683 Ahaus",
        first_day="2026-12-01",
        last_day="2026-12-30",
        area=20,
    )
    await chat.notifications("room:ordnung")
    offer = await chat.press("olga", "Bewilligen", room="ordnung")
    assert "Erlaubnis für 20 m² vom 01.12.2026 bis 30.12.2026, Gebühr 60,00" in offer
    await chat.press("olga", "Auflagen ergänzen", room="ordnung", reply=0)
    extra = "Gerüst nachts mit Warnleuchten sichern.\nKein Anbringen von Werbung."
    asked = await chat.send("olga", extra, room="ordnung")
    assert "mit diesen zusätzlichen Auflagen erteilen?" in asked
    done = await chat.press("olga", "Ja, ", room="ordnung")
    assert "Die Erlaubnis (PDF) wurde an die Person geschickt." in done
    assert "Erlaubnis: 20 m², 01.12.2026 bis 30.12.2026, Gebühr 60,00" in done
    told = await chat.notifications("anna")
    assert "special-use permit" in told and "20 m² from 1 Dec 2026 to 30 Dec 2026" in told
    assert "Fee: €60.00" in told
    media = [r.media for r in chat.last["anna"] if r.media]
    assert media and media[0].filename == f"Sondernutzungserlaubnis-{ref}.pdf"
    assert "DejaVuSansBook" in embedded_fonts(media[0].data)
    text = pdf_text(media[0].data)
    for expected in (
        "Sondernutzungserlaubnis",
        "Ordnungsamt",
        ref,
        "Anna Schulte",
        "Gerüst",
        "Marktstraße 12, 48683 Ahaus",
        "20 m²",
        "01.12.2026 bis 30.12.2026 (30 Tage)",
        "60,00 €",
        "0,10 € je m² und Tag",
        "mindestens 1,50 m",
        "Gerüst nachts mit Warnleuchten sichern.",
        "Kein Anbringen von Werbung.",
        "§ 18",
        "Verwaltungsgericht",
    ):
        assert expected in text, expected
    shown = await chat.send("anna", f"/case {ref}")
    assert "Permit: 20 m², 1 Dec 2026 to 30 Dec 2026, fee €60.00" in shown
    assert "permit issued" in shown


async def test_a_daycare_approval_names_the_daycare_staff_chose(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(
        chat,
        people["anna"],
        form="daycare",
        department="kita",
        child_first="Mia",
        start="2027-08-01",
        choices="3",
        daycare_1="st-marien",
        daycare_2="regenbogen",
        daycare_3="waldkita",
    )
    await chat.notifications("room:kita")
    choose = await chat.press("kira", "Bewilligen", room="kita")
    assert "Welche Kita bietet den Platz" in choose
    assert "1. Kath. Kita St. Marien" in choose and "3. Waldkindergarten" in choose
    assert (await case_of(chat, ref)).status == "submitted"  # nothing decided yet
    asked = await chat.press("kira", "2. Städt. Kita Regenbogen, Wüllener Straße 60", room="kita")
    assert "mit einem Platz in Städt. Kita Regenbogen" in asked
    done = await chat.press("kira", "Ja, ", room="kita")
    assert "Kita-Platz in: Städt. Kita Regenbogen" in done
    told = await chat.notifications("anna")
    assert "Mia has a daycare place at Städt. Kita Regenbogen, Wüllener Straße 60" in told
    assert "(your choice no. 2) from 1 Aug 2027" in told
    case = await case_of(chat, ref)
    assert case.status == "approved" and case.decision["daycare"] == "regenbogen"


async def test_a_rejected_resident_can_answer_and_object_inside_the_case(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    chat.clock.set(datetime(2027, 1, 29, 10, 0, tzinfo=BERLIN))
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Ablehnen", room="steuern")
    await chat.send("stefan", "Der Hund ist in Gescher gemeldet.", room="steuern")
    await chat.press("stefan", "Ja, ", room="steuern")
    told = await chat.notifications("anna")
    # one month, and 28 Feb 2027 is a Sunday: until Monday 1 Mar 2027
    assert "You can answer or object here until 1 Mar 2027" in told
    asked = await chat.press("anna", "Answer or object")
    assert "What would you like to answer to the decision" in asked
    thanks = await chat.send("anna", "We moved to Ahaus in December, the dog with us.")
    assert "passed on to the department" in thanks
    await chat.press("anna", "Answer or object")
    await chat.upload("anna", "meldebescheinigung.pdf", "application/pdf", PDF)
    room = await chat.notifications("room:steuern")
    assert f"Einwand zur Ablehnung von {ref}: We moved to Ahaus in December" in room
    assert "meldebescheinigung.pdf" in room
    reopened = await chat.press("stefan", "Vorgang wieder aufnehmen", room="steuern")
    assert f"{ref} ist wieder offen" in reopened
    assert (await case_of(chat, ref)).status == "in_progress"
    assert "is being looked at again by Stefan" in await chat.notifications("anna")
    shown = await chat.send("anna", f"/case {ref}")
    assert "your answer or objection: We moved to Ahaus in December" in shown


async def test_after_the_month_an_objection_is_refused_kindly(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Ablehnen", room="steuern")
    await chat.send("stefan", "Der Hund ist in Gescher gemeldet.", room="steuern")
    await chat.press("stefan", "Ja, ", room="steuern")
    await chat.notifications("anna")
    chat.clock.advance(timedelta(days=40))
    shown = await chat.send("anna", f"/case {ref}")
    assert "Answer or object" not in shown
    from services.cases import actions
    from services.errors import Conflict

    async with chat.db.uow() as uow:
        try:
            await actions.object_to(
                uow, chat.city, people["anna"], ref, chat.clock.now(), text="Too late?"
            )
        except Conflict as refused:
            assert "The month for an objection" in refused.message
        else:
            raise AssertionError("an objection after the month was accepted")
