"""Every staff action × a resident, staff of another department and staff of the right one.
Refused actions answer politely and change nothing: no status, no history, no message to the
resident, no audit entry."""

from __future__ import annotations

import pytest

from handlers import menus
from tests.cases.conftest import case_state, submit_case
from tests.support.chat import Transcript

# (button label as the room shows it: staff rooms are German; text typed afterwards by
# actions that ask for it; status after success)
ACTIONS = [
    ("Übernehmen", None, "in_progress"),
    ("Bewilligen", None, "approved"),
    ("Ablehnen", "The dog lives in another town.", "rejected"),
    ("Rückfrage stellen", "Since when is Bello with you?", "question"),
    ("Notiz hinzufügen", "Checked the chip.", "submitted"),
    ("Details", None, "submitted"),
]

CONFIRMED = {"Bewilligen", "Ablehnen", "Rückfrage stellen"}


@pytest.mark.parametrize(("label", "text", "status"), ACTIONS)
async def test_staff_actions_by_who_presses(
    chat: Transcript, people: dict[str, int], label: str, text: str | None, status: str
) -> None:
    for user in ("ben", "olga", "stefan"):
        await chat.send(user, "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    posted = chat.last["room:steuern"]
    untouched = await case_state(chat, ref)

    # a resident in the room: the room is for the department's staff (on every channel)
    answer = await chat.press("ben", label, room="steuern")
    assert "Sorry, ben: only the staff of Tax office can act in this room." in answer
    if text:
        await chat.send("ben", text, room="steuern")
    assert await case_state(chat, ref) == untouched

    # staff of another department
    chat.last["room:steuern"] = posted
    answer = await chat.press("olga", label, room="steuern")
    assert "only the staff of Tax office can act in this room" in answer
    assert "Bello" not in answer  # no details leak either
    if text:
        await chat.send("olga", text, room="steuern")
    assert await case_state(chat, ref) == untouched

    # staff of the right department
    chat.last["room:steuern"] = posted
    answer = await chat.press("stefan", label, room="steuern")
    if text:
        answer = await chat.send("stefan", text, room="steuern")
    if label in CONFIRMED:  # irreversible: one confirmation naming the case
        assert ref in answer and await case_state(chat, ref) == untouched
        answer = await chat.press("stefan", "Yes", room="steuern")
    after = await case_state(chat, ref)
    assert after[0] == status
    if label == "Details":
        assert "Bello" in answer and after == untouched
    else:
        assert after[3] > untouched[3]  # a history event
        assert after[5] > untouched[5]  # an audit entry


async def test_files_only_for_the_department_and_the_applicant(
    chat: Transcript, people: dict[str, int]
) -> None:
    from tests.cases.conftest import PDF

    await chat.send("olga", "/language en")
    await chat.send("anna", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Rückfrage stellen", room="steuern")
    await chat.send("stefan", "The certificate, please.", room="steuern")
    await chat.press("stefan", "Ja", room="steuern")
    await chat.notifications("anna")
    await chat.press("anna", "Answer")
    await chat.upload("anna", "cert.pdf", "application/pdf", PDF)
    await chat.notifications("room:steuern")
    posted = chat.last["room:steuern"]
    for user in ("olga", "ben"):
        chat.last["room:steuern"] = posted
        await chat.press(user, "Dateien", room="steuern")
        assert not any(r.media for r in chat.last["room:steuern"]), user
    foreign = await chat.send("ben", f"/case {ref}")
    assert "My files" not in foreign
    chat.last["room:steuern"] = posted
    await chat.press("stefan", "Dateien", room="steuern")
    assert any(r.media and r.media.data == PDF for r in chat.last["room:steuern"])
    await chat.send("anna", f"/case {ref}")
    await chat.press("anna", "My files")
    assert any(r.media and r.media.data == PDF for r in chat.last["anna"])


async def test_a_staff_button_in_a_residents_own_chat_is_refused(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("ben", "/language en")
    ref = await submit_case(chat, people["anna"])
    await chat.notifications("room:steuern")
    room_menu = next(r.menu for r in chat.last["room:steuern"] if r.menu)
    untouched = await case_state(chat, ref)
    for index in range(6):
        answer = await chat.choose("ben", menus.pack(room_menu, index))
        assert "not valid here" in answer
    assert await case_state(chat, ref) == untouched


async def test_queue_is_for_staff(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("ben", "/language en")
    await submit_case(chat, people["anna"])
    answer = await chat.send("ben", "/queue steuern")
    assert "only authorised staff" in answer and "AH-2026" not in answer
