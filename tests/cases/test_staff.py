"""Staff rooms on the console staff view: take, ask and the answer coming back, reject with a
reason, notes only staff see, files, /queue by age."""

from __future__ import annotations

from datetime import timedelta

from tests.cases.conftest import PDF, Press, case_state, submit_case, walk
from tests.support.chat import Transcript


async def test_question_and_answer_round_trip(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await chat.send("stefan", "/language en")
    ref = await submit_case(chat, people["anna"])
    room = await chat.notifications("room:steuern")
    assert f"Neuer Antrag {ref}" in room
    taken = await chat.press("stefan", "Übernehmen", room="steuern")
    assert f"Stefan is now handling {ref}" in taken
    await chat.press("stefan", "Ask the resident", room="steuern")  # on his own (English) reply
    sure = await chat.send("stefan", "Which colour is Bello?", room="steuern")
    assert f"Send this question about {ref} to the resident?" in sure
    sent = await chat.press("stefan", "Yes", room="steuern")
    assert "sent to the resident" in sent
    assert (await case_state(chat, ref))[0] == "question"
    told = await chat.notifications("anna")
    assert "is now being handled by Stefan (Tax office)" in told
    assert "Stefan has a question about your application" in told
    assert "Which colour is Bello?" in told
    # typed, as on the console and Matrix: the label of the notification's button
    await chat.send("anna", "Answer")
    thanks = await chat.send("anna", "He is black with a white spot.")
    assert "passed on to the staff" in thanks
    assert (await case_state(chat, ref))[0] == "in_progress"
    back = await chat.notifications("room:steuern")
    assert f"Antwort der antragstellenden Person zu {ref}: He is black with a white spot." in back
    sure = await chat.press("stefan", "Bewilligen", room="steuern")
    assert f"Approve {ref} (Dog tax registration)?" in sure
    approved = await chat.press("stefan", "Yes", room="steuern")
    assert f"{ref} approved by Stefan" in approved
    assert "was approved" in await chat.notifications("anna")
    shown = await chat.press("anna", "Show the application")
    assert "Status: approved" in shown
    assert "question from Stefan: Which colour is Bello?" in shown
    assert "your answer: He is black with a white spot." in shown


async def test_the_resident_answers_with_a_photo(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Rückfrage stellen", room="steuern")
    await chat.send("stefan", "Please send the vaccination pass.", room="steuern")
    await chat.press("stefan", "Ja", room="steuern")
    await chat.notifications("anna")
    await chat.press("anna", "Answer")
    await chat.upload("anna", "impfpass.pdf", "application/pdf", PDF)
    back = await chat.notifications("room:steuern")
    assert "impfpass.pdf" in back
    files = await chat.press("stefan", "Dateien", room="steuern")
    assert "impfpass.pdf" in files
    assert any(r.media and r.media.data == PDF for r in chat.last["room:steuern"])
    assert (await case_state(chat, ref))[0] == "in_progress"  # asking made Stefan the handler


async def test_reject_needs_a_reason_and_passes_it_on_kindly(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await chat.send("stefan", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    asked = await chat.press("stefan", "Ablehnen", room="steuern")
    assert "Please write the reason" in asked
    before = await case_state(chat, ref)
    too_short = await chat.send("stefan", "no", room="steuern")
    assert "a reason of a few words" in too_short
    assert await case_state(chat, ref) == before
    sure = await chat.send(
        "stefan", "The dog is registered in Gescher, not in Ahaus.", room="steuern"
    )
    assert f"Reject {ref} with this reason?" in sure
    assert await case_state(chat, ref) == before
    done = await chat.send("stefan", "1", room="steuern")  # yes/no: the number picks
    assert "rejected" in done
    told = await chat.notifications("anna")
    assert "We are sorry" in told
    assert "The dog is registered in Gescher, not in Ahaus." in told
    assert "Mensch" in told
    again = await chat.send("stefan", f"/case {ref}", room="steuern")
    assert "Status: rejected" in again


async def test_notes_are_for_staff_only(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    await chat.send("stefan", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Notiz hinzufügen", room="steuern")
    await chat.send("stefan", "Called the vet, chip confirmed.", room="steuern")
    details = await chat.send("stefan", f"/case {ref}", room="steuern")
    assert "note by Stefan: Called the vet, chip confirmed." in details
    mine = await chat.send("anna", f"/case {ref}")
    assert "Called the vet" not in mine
    assert await chat.notifications("anna") == ""  # a note is no status change


async def test_queue_lists_open_cases_by_age(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("stefan", "/language en")
    old = await submit_case(chat, people["anna"])
    chat.clock.advance(timedelta(days=3))
    new = await submit_case(chat, people["ben"])
    other = await submit_case(chat, people["ben"], form="space", department="ordnung")
    chat.clock.advance(timedelta(days=1))
    shown = await chat.send("stefan", "/queue", room="steuern")
    assert "Open cases for Steueramt: 2" in shown or "Open cases for Tax office: 2" in shown
    assert shown.index(old) < shown.index(new)
    assert "4 days" in shown and "1 day ·" in shown
    assert other not in shown
    refused = await chat.send("stefan", "/queue ordnung", room="steuern")
    assert other not in refused and "Only staff of that department" in refused
    await chat.press("stefan", old, room="steuern")
    await chat.press("stefan", "Approve", room="steuern")
    await chat.press("stefan", "Yes", room="steuern")
    after = await chat.send("stefan", "/queue", room="steuern")
    assert old not in after and new in after


async def test_residents_add_information_and_withdraw(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await chat.send("stefan", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    posted = chat.last["room:steuern"]
    await walk(chat, "anna", "/cases", Press(ref), Press("Add information"))
    await chat.send("anna", "Bello has moved to my new address.")
    room = await chat.notifications("room:steuern")
    assert "Neue Angaben der antragstellenden Person" in room and "new address" in room
    await walk(chat, "anna", f"/case {ref}", Press("Withdraw"))
    await chat.press("anna", "Yes, withdraw")
    assert (await case_state(chat, ref))[0] == "closed"
    assert "zurückgezogen" in await chat.notifications("room:steuern")
    closed = await chat.send("anna", f"/case {ref}")
    assert "Add information" not in closed
    chat.last["room:steuern"] = posted  # the staff member presses the old notification
    late = await chat.press("stefan", "Bewilligen", room="steuern")
    assert "already closed" in late and (await case_state(chat, ref))[0] == "closed"


async def test_someone_elses_reference_is_simply_not_found(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("ben", "/language en")
    ref = await submit_case(chat, people["anna"])
    foreign = await chat.send("ben", f"/case {ref}")
    missing = await chat.send("ben", "/case AH-2026-999999")
    assert f"No application of yours has the reference {ref}" in foreign
    assert "No application of yours has the reference AH-2026-999999" in missing
    assert "Bello" not in foreign
    garbage = await chat.send("ben", "/case x'; drop table")
    assert "No application of yours" in garbage


async def test_an_old_prompt_in_the_room_does_not_catch_later_chat(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("stefan", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Rückfrage stellen", room="steuern")
    before = await case_state(chat, ref)
    chat.clock.advance(timedelta(hours=2))
    late = await chat.send("stefan", "lunch at 12?", room="steuern")
    assert "expired, so nothing was sent" in late
    assert (await case_state(chat, ref))[:2] == before[:2]
    assert (await case_state(chat, ref))[3:] == before[3:]


async def test_staff_look_a_case_up_in_their_own_chat(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("stefan", "/language en")
    await chat.send("olga", "/language en")
    ref = await submit_case(chat, people["anna"])
    mine = await chat.send("stefan", f"/case {ref}")
    assert "Bello" in mine and "Approve" in mine
    other = await chat.send("olga", f"/case {ref}")
    assert "Only staff of the department responsible" in other and "Bello" not in other


async def test_two_staff_members_act_at_once(chat: Transcript, people: dict[str, int]) -> None:
    from tests.cases.conftest import make_person

    await make_person(chat, "svenja", "Svenja", "Lammers", role="staff", scope="steuern")
    await chat.send("svenja", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    posted = chat.last["room:steuern"]
    await chat.press("stefan", "Bewilligen", room="steuern")
    await chat.press("stefan", "Ja", room="steuern")
    chat.last["room:steuern"] = posted
    second = await chat.press("svenja", "Ablehnen", room="steuern")
    assert f"{ref} is already approved. Nothing was changed." in second
    chat.last["room:steuern"] = posted
    taken = await chat.press("svenja", "Übernehmen", room="steuern")
    assert "already approved" in taken
    state = await case_state(chat, ref)
    assert state[0] == "approved"
