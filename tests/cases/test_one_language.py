"""Issue 12, "Two languages in one conversation": each example as a transcript."""

from __future__ import annotations

from services import drafts, i18n
from tests.cases.conftest import PDF, submit_case
from tests.cases.test_rooms_read import DOG, SPACE, TITLES
from tests.support.chat import Transcript


async def open_draft(chat: Transcript, user: str, citizen: int, form: str, answers: dict) -> str:
    async with chat.db.uow() as uow:
        await drafts.save(uow, citizen, form, answers, "", chat.clock.now())
        await uow.commit()
    await chat.send(user, "/apply")
    await chat.press(user, i18n.gettext("de", TITLES[form]))
    return await chat.press(user, i18n.gettext("de", "Continue"))


async def test_form_checks_speak_german_in_a_german_form(
    chat: Transcript, people: dict[str, int]
) -> None:
    dog = DOG | {"since": "2024-01-01", "litter_date": "2024-05-01"}
    answer = await open_draft(chat, "anna", people["anna"], "dogtax", dog)
    assert "Der Hund kann nicht vor seiner Geburt zu Ihnen gekommen sein." in answer
    assert "cannot have come" not in answer
    space = SPACE | {"first_day": "2026-12-18", "last_day": "2026-12-10"}
    await open_draft(chat, "ben", people["ben"], "space", space)
    answer = await chat.upload("ben", "plan.pdf", "application/pdf", PDF)
    assert "Der letzte Tag liegt vor dem ersten Tag." in answer
    assert "The last day" not in answer


async def test_numbers_in_german_prompts_are_german(
    chat: Transcript, people: dict[str, int]
) -> None:
    space = {k: v for k, v in SPACE.items() if k != "area"}
    await open_draft(chat, "anna", people["anna"], "space", space)
    answer = await chat.send("anna", "0,1")
    assert "von 0,5 bis 5000" in answer and "0.5" not in answer


async def test_an_english_reason_reaches_a_german_resident_marked_as_english(
    chat: Transcript, people: dict[str, int]
) -> None:
    ref = await submit_case(chat, people["anna"])
    await chat.send("stefan", "/language en")
    await chat.notifications("room:steuern")  # the room reads German, its language
    await chat.press("stefan", "Ablehnen", room="steuern")
    asked = await chat.send(
        "stefan", "The chip number does not match the vet's record.", room="steuern"
    )
    if "Yes" in asked:
        await chat.press("stefan", "Yes", room="steuern")
    told = await chat.notifications("anna")
    assert ref in told and "Antrag" in told
    assert "„The chip number does not match the vet's record.“ (auf Englisch)" in told


async def test_a_queue_of_one_day_says_one_day(chat: Transcript, people: dict[str, int]) -> None:
    from datetime import timedelta

    await submit_case(chat, people["anna"])
    chat.clock.advance(timedelta(days=1))
    shown = await chat.send("stefan", "/queue", room="steuern")
    assert "· 1 Tag ·" in shown and "1 Tage" not in shown


async def test_special_offer_names_the_offer(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("ben", "/language en")
    shown = await chat.send("ben", "/voucher")
    assert "Special offer “Winter offer”: a voucher worth" in shown
    assert "Special offer Winter offer" not in shown
    german = await chat.send("anna", "/voucher")
    assert "Sonderaktion „Winteraktion“" in german


def test_counted_words_in_both_languages() -> None:
    one = i18n.ngettext(
        "de",
        "Budget: {budget} ({n} voucher of {value}).",
        "Budget: {budget} ({n} vouchers of {value}).",
        1,
    )
    assert one == "Budget: {budget} ({n} Gutschein zu {value})."
    assert i18n.ngettext(
        "en",
        "{merchant}: {n} redemption, {total} in total ({undone} undone).",
        "{merchant}: {n} redemptions, {total} in total ({undone} undone).",
        1,
    ).startswith("{merchant}: {n} redemption,")
    assert i18n.gettext("de", i18n.NC_("event", "cancelled")) == "abgesagt"
    assert i18n.gettext("de", i18n.NC_("payment", "cancelled")) == "storniert"
