"""The typed-number rule (handlers/picking.py, docs/conversation.md), as the failures were seen:
a number picks from the list that answered the person's own last message, never from a
notification that arrived in between; where the answer can itself be a number, the options go by
label; irreversible staff actions ask once."""

from __future__ import annotations

from tests.campaigns.conftest import sent_campaign
from tests.cases.conftest import case_state, make_person, submit_case, walk
from tests.support.chat import Transcript


async def test_staff_number_picks_the_queue_not_the_new_notification(
    chat: Transcript, people: dict[str, int]
) -> None:
    first = await submit_case(chat, people["anna"], form="space", department="ordnung")
    second = await submit_case(chat, people["ben"], form="space", department="ordnung")
    await chat.notifications("room:ordnung")
    queue = await chat.send("olga", "/queue", room="ordnung")
    assert f"[1] {first}" in queue and f"[2] {second}" in queue
    # a new application arrives in the room, its options include "Bewilligen"
    third = await submit_case(chat, people["anna"], form="space", department="ordnung")
    posted = await chat.notifications("room:ordnung")
    assert third in posted and "Bewilligen" in posted
    assert "[2]" not in posted  # a notification's options carry no numbers
    assert f"zum Beispiel „Übernehmen {third}“" in posted  # how to choose them instead
    untouched = await case_state(chat, third)
    details = await chat.send("olga", "2", room="ordnung")  # meant: the second of the queue
    assert second in details and third not in details
    assert await case_state(chat, third) == untouched
    # the notification's option typed with its reference: one confirmation, then done
    sure = await chat.send("olga", f"Bewilligen {third}", room="ordnung")
    assert f"{third} (Sondernutzung" in sure and "bewilligen?" in sure
    assert "nicht rückgängig" in sure
    assert await case_state(chat, third) == untouched
    done = await chat.send("olga", "1", room="ordnung")  # yes/no: the number picks
    assert f"{third} bewilligt" in done
    assert (await case_state(chat, third))[0] == "approved"


async def test_a_label_offered_by_two_notifications_needs_the_reference(
    chat: Transcript, people: dict[str, int]
) -> None:
    one = await submit_case(chat, people["anna"])
    two = await submit_case(chat, people["ben"])
    await chat.notifications("room:steuern")
    answer = await chat.send("stefan", "Bewilligen", room="steuern")
    assert "Mehrere Nachrichten" in answer and one in answer and two in answer
    assert (await case_state(chat, one))[0] == "submitted"
    assert (await case_state(chat, two))[0] == "submitted"


async def test_language_list_survives_a_notification(
    chat: Transcript, people: dict[str, int]
) -> None:
    choose = await chat.send("olga", "/language", room="ordnung")
    assert "[1] Deutsch" in choose and "[2] English" in choose
    ref = await submit_case(chat, people["anna"], form="space", department="ordnung")
    await chat.notifications("room:ordnung")
    untouched = await case_state(chat, ref)
    answer = await chat.send("olga", "2", room="ordnung")
    assert "English" in answer
    assert await case_state(chat, ref) == untouched


async def test_cases_list_survives_a_campaign_notification(
    chat: Transcript, people: dict[str, int]
) -> None:
    from services.campaigns import news

    mara = await make_person(chat, "mara", "Mara", "Koch", role="marketing", scope="")
    async with chat.db.uow() as uow:
        await news.set_consent(uow, people["anna"], True, now=chat.clock.now(), via="test")
        await uow.commit()
    ref = await submit_case(chat, people["anna"])
    await chat.send("anna", "/language en")
    listed = await chat.send("anna", "/cases")
    assert f"[1] {ref}" in listed or ref in listed.split("[1]", 1)[1].splitlines()[0]
    await sent_campaign(chat, chat.city, mara)
    note = await chat.notifications("anna")
    assert "Claim voucher" in note and "[1]" not in note
    answer = await chat.send("anna", "1")
    assert ref in answer and "Status" in answer
    async with chat.db.uow() as uow:
        from sqlalchemy import func, select

        from storage.models.vouchers import Voucher

        held = await uow.session.execute(select(func.count()).select_from(Voucher))
        assert held.scalar_one() == 0  # no voucher was claimed by the number
    claimed = await chat.send("anna", "Claim voucher")
    assert "voucher" in claimed.lower()


async def test_a_prefilled_name_is_taken_with_its_number(
    chat: Transcript, people: dict[str, int]
) -> None:
    first = await chat.send("anna", "Hundesteuer")
    assert "Aus Ihrem Profil: Anna Schulte" in first and "[1] Übernehmen" in first
    second = await chat.send("anna", "1")
    assert "nur mit Buchstaben" not in second
    assert "(2/12)" in second and "Aus Ihrem Profil: Marktstraße 5" in second
    third = await chat.send("anna", "1")
    assert "(3/12)" in third
    # the birth date can be a number: the options are named, a typed number is the answer
    assert "[1]" not in third and "▸ Zurück" in third
    assert "eine getippte Zahl gilt als Ihre Antwort" in third
    wrong = await chat.send("anna", "1")
    assert "(3/12)" in wrong  # asked again: "1" is not a date, and nothing was picked
    back = await chat.send("anna", "Zurück")
    assert "(2/12)" in back


async def test_helper_chat_relays_numbers_and_ends_by_label(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    opened = await chat.send("anna", "Mensch")
    assert "[1]" not in opened and "▸ End the conversation" in opened
    assert "a number you type is your answer" in opened
    relayed = await chat.send("anna", "1")
    assert "Passed on" in relayed
    room = await chat.notifications("room:lotsen")
    assert ": 1" in room or "\n1" in room
    ended = await chat.send("anna", "End the conversation")
    assert "The conversation has ended" in ended


async def test_reject_asks_once_with_the_reason(chat: Transcript, people: dict[str, int]) -> None:
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await walk(chat, "stefan", "/language en")
    await chat.press("stefan", "Ablehnen", room="steuern")
    sure = await chat.send("stefan", "The dog lives in Gescher.", room="steuern")
    assert f"Reject {ref} with this reason?" in sure and "The dog lives in Gescher." in sure
    chatter = await chat.send("stefan", "hmm", room="steuern")
    assert "Please answer with one of the options." in chatter
    assert (await case_state(chat, ref))[0] == "submitted"
    back = await chat.send("stefan", "No, back to the case", room="steuern")
    assert ref in back and (await case_state(chat, ref))[0] == "submitted"
