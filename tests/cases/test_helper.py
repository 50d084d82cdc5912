"""The human helper (Digitallotse): relay both ways, one thread per resident, either side ends
it, office hours, only the helpdesk staff answer."""

from __future__ import annotations

from datetime import datetime

from tests.cases.conftest import walk
from tests.conftest import BERLIN
from tests.support.chat import Transcript


async def test_relay_both_ways_and_the_resident_ends(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await chat.send("lotte", "/language en")
    hello = await chat.send("anna", "Mensch")
    assert "connecting you with our Digitallotsen" in hello
    assert "not in the office" not in hello  # Wednesday 10:00
    await chat.send("anna", "How do I register my dog?")
    room = await chat.notifications("room:lotsen")
    assert "Anna möchte mit einem Menschen sprechen (L-1)" in room
    assert "Anna (L-1): How do I register my dog?" in room
    asked = await chat.press("lotte", "Antwort schreiben", room="lotsen")
    assert "Your answer to L-1" in asked
    sent = await chat.send("lotte", "Just type 'dog tax' and I will guide you.", room="lotsen")
    assert "Sent to L-1" in sent
    told = await chat.notifications("anna")
    assert "Lotte (Digitallotse): Just type 'dog tax' and I will guide you." in told
    # the resident is still talking to the helper: the next line is relayed too
    assert "Passed on" in await chat.send("anna", "Thank you, Lotte!")
    assert "Anna (L-1): Thank you, Lotte!" in await chat.notifications("room:lotsen")
    assert "Sent to L-1" in await chat.send("lotte", "/reply L-1 You're welcome!", room="lotsen")
    assert "You're welcome!" in await chat.notifications("anna")
    ended = await chat.press("anna", "End the conversation")
    assert "The conversation has ended" in ended
    assert "Anna hat das Gespräch L-1 beendet" in await chat.notifications("room:lotsen")
    late = await chat.send("lotte", "/reply L-1 Anything else?", room="lotsen")
    assert "already ended" in late
    assert await chat.notifications("anna") == ""


async def test_staff_end_it_and_each_resident_has_a_thread(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    await chat.send("ben", "/language en")
    await walk(chat, "anna", "/lotse", "Where is the Bürgerbüro?")
    await walk(chat, "ben", "/lotse My voucher code does not work")
    await chat.notifications("room:lotsen")
    async with chat.db.uow() as uow:
        from sqlalchemy import select

        from storage.models.outbox import Notification

        threads = {
            n.thread
            for n in (
                await uow.session.execute(
                    select(Notification).where(Notification.department == "lotsen")
                )
            ).scalars()
        }
    assert threads == {"L-1", "L-2"}
    closed = await chat.press("lotte", "Gespräch beenden", room="lotsen")
    assert "Gespräch L-2 beendet" in closed
    assert "ended the conversation" in await chat.notifications("ben")
    after = await chat.send("ben", "Hello?")
    assert "has ended" in after
    assert await chat.notifications("room:lotsen") == ""


async def test_outside_office_hours_the_bot_says_when(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "/language en")
    chat.clock.set(datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN))  # Saturday
    hello = await chat.send("anna", "Mensch")
    assert "not in the office right now" in hello
    assert "30 Nov 2026, 08:00" in hello  # Monday morning
    chat.clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=BERLIN))  # Thursday: open until 18
    again = await chat.send("anna", "Mensch")
    assert "not in the office" not in again


async def test_only_the_helpdesk_answers(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("stefan", "/language en")
    await chat.send("ben", "/language en")
    await walk(chat, "anna", "Mensch", "Hallo?")
    await chat.notifications("room:lotsen")
    posted = chat.last["room:lotsen"]
    refused = await chat.press("stefan", "Antwort schreiben", room="lotsen")
    assert "only the staff of Digital helpers can act in this room" in refused
    refused = await chat.send("stefan", "/reply L-1 hi", room="lotsen")
    assert "only the staff of Digital helpers can act in this room" in refused
    chat.last["room:lotsen"] = posted
    refused = await chat.press("ben", "Gespräch beenden", room="lotsen")
    assert "only the staff of Digital helpers can act in this room" in refused
    assert await chat.notifications("anna") == ""
