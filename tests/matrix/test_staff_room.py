"""A department's staff room on a real Synapse: notifications with numbered options, staff act
by a numbered reply in the notification's thread, anyone else is refused politely."""

from __future__ import annotations

from pathlib import Path

from nio import RoomCreateResponse

from flows.context import Ctx
from flows.registry import Router
from services import notify
from services.clock import FrozenClock
from services.identity import accounts as identity
from tests.matrix.support import BotRunner, Resident, options_of
from tests.support.synapse import SynapseServer

router = Router("test-staff")
TAKEN: list[tuple[str, int]] = []


@router.action("teststaff.take", roles=["staff"])
async def take(ctx: Ctx, arg: str) -> None:
    TAKEN.append((arg, ctx.citizen_id))
    ctx.say(ctx.t("Case {ref} is now yours.", ref=arg))


@router.action("teststaff.reject", roles=["staff"])
async def reject(ctx: Ctx, arg: str) -> None:
    ctx.say(ctx.t("Case {ref} rejected.", ref=arg))


@router.action("teststaff.ask", roles=["staff"])
async def ask(ctx: Ctx, arg: str) -> None:
    ctx.ask("teststaff.question", ctx.t("What should I ask about {ref}?", ref=arg), ref=arg)


@router.step("teststaff.question")
async def question(ctx: Ctx) -> None:
    ctx.say(
        ctx.t("I asked about {ref}: {text}", ref=ctx.data.get("ref", ""), text=ctx.inbound.text)
    )
    ctx.done()


def thread_of(seen: object) -> str:
    relates = getattr(seen, "content", {}).get("m.relates_to") or {}
    return str(relates.get("event_id", "")) if relates.get("rel_type") == "m.thread" else ""


async def test_staff_thread_reply_and_refusal(
    bot: BotRunner, synapse: SynapseServer, clock: FrozenClock, tmp_path: Path, unique: str
) -> None:
    TAKEN.clear()
    staff = await Resident.create(synapse, tmp_path / "sven", f"sven{unique}", encrypted=False)
    anna = await Resident.create(synapse, tmp_path / "anna", f"anna{unique}", encrypted=False)
    try:
        created = await staff.client.room_create(
            name="Bürgerbüro (staff)", invite=[bot.user_id, anna.user_id]
        )
        assert isinstance(created, RoomCreateResponse)
        room = str(created.room_id)
        await anna.client.join(room)
        department = bot.city.department("buergerbuero")
        assert department is not None
        department.rooms.matrix = room
        staff.bot_id = anna.bot_id = bot.user_id

        async with bot.db.uow() as uow:
            citizen, _account = await identity.contact(
                uow,
                channel="matrix",
                external_id=staff.user_id,
                chat_id="",
                now=clock.now(),
                default_language="en",
                private_chat=False,
            )
            assert citizen.id is not None
            await identity.grant_role(
                uow, citizen.id, "staff", "buergerbuero", now=clock.now(), by="test"
            )
            await uow.commit()
        staff_citizen = citizen.id

        await bot.start()
        async with bot.db.uow() as uow:
            notify.notify_department(
                uow,
                bot.city,
                "buergerbuero",
                "New application {ref}",
                {"ref": "AH-1"},
                now=clock.now(),
                buttons=[
                    notify.button("Take it (test)", "teststaff.take", "AH-1"),
                    notify.button("Reject it (test)", "teststaff.reject", "AH-1"),
                    notify.button("Ask (test)", "teststaff.ask", "AH-1"),
                ],
            )
            await uow.commit()
        await bot.drain()
        posted = await staff.next_answer(room, 0, contains="New application AH-1")
        note = posted[-1]
        assert options_of(note) == ["Take it (test)", "Reject it (test)", "Ask (test)"]

        # people talking to each other: the bot stays quiet
        await staff.send(room, "Guten Morgen zusammen")

        # a resident in the room tries the staff action: refused, nothing done
        count = len(anna.from_bot(room))
        await anna.send(room, "1", relates_to={"rel_type": "m.thread", "event_id": note.event_id})
        refused = await anna.next_answer(room, count, contains="only the staff")
        assert "Citizens' office" in refused[-1].body
        assert thread_of(refused[-1]) == note.event_id
        assert TAKEN == []

        # the staff member answers with a number in the notification's thread
        count = len(staff.from_bot(room))
        await staff.send(room, "1", relates_to={"rel_type": "m.thread", "event_id": note.event_id})
        done = await staff.next_answer(room, count, contains="is now yours")
        assert done[-1].body == "Case AH-1 is now yours."
        assert thread_of(done[-1]) == note.event_id
        assert TAKEN[0] == ("AH-1", staff_citizen)
        assert len(TAKEN) == 1
        bodies = [s.body for s in staff.from_bot(room)]
        assert not any("did not understand" in b for b in bodies), "answered the small talk"

        # a keycap reaction on the notification acts too, answered in its thread
        count = len(staff.from_bot(room))
        await staff.react(room, note.event_id, "2️⃣")
        rejected = await staff.next_answer(room, count, contains="rejected")
        assert rejected[-1].body == "Case AH-1 rejected."
        assert thread_of(rejected[-1]) == note.event_id

        # free text in the thread answers the step the staff member is in
        count = len(staff.from_bot(room))
        in_thread = {"rel_type": "m.thread", "event_id": note.event_id}
        await staff.send(room, "Ask (test)", relates_to=in_thread)
        await staff.next_answer(room, count, contains="What should I ask")
        count = len(staff.from_bot(room))
        await staff.send(room, "Please send a copy of the ID card", relates_to=in_thread)
        asked = await staff.next_answer(room, count, contains="I asked about")
        assert asked[-1].body == "I asked about AH-1: Please send a copy of the ID card"
        assert thread_of(asked[-1]) == note.event_id

        # personal data asked for in the shared room is not shown there
        count = len(staff.from_bot(room))
        await staff.send(room, "!profile")
        withheld = await staff.next_answer(room, count, contains="personal data")
        assert "Your profile" not in withheld[-1].body

        # notifications about one case share a thread
        async with bot.db.uow() as uow:
            for key in ("First news {ref}", "More news {ref}"):
                notify.notify_department(
                    uow,
                    bot.city,
                    "buergerbuero",
                    key,
                    {"ref": "AH-2"},
                    now=clock.now(),
                    thread="case:AH-2",
                )
            await uow.commit()
        await bot.drain()
        news = await staff.next_answer(room, len(staff.from_bot(room)), contains="More news")
        first = next(s for s in staff.from_bot(room) if s.body == "First news AH-2")
        assert thread_of(first) == ""
        assert thread_of(news[-1]) == first.event_id
    finally:
        await staff.close()
        await anna.close()


async def test_a_number_in_the_room_picks_the_queue_not_the_notification(
    bot: BotRunner, synapse: SynapseServer, clock: FrozenClock, tmp_path: Path, unique: str
) -> None:
    """/queue, then a new application's notification arrives, then "2" in the room: the second
    case of the queue, never the notification's second option (Bewilligen). The notification's
    options are chosen in its thread (or by reaction), with one confirmation."""
    from sqlalchemy import select

    from services.cases import records as cases
    from storage.models.cases import Case

    staff = await Resident.create(synapse, tmp_path / "olga", f"olga{unique}", encrypted=False)
    try:
        created = await staff.client.room_create(name="Bürgerbüro", invite=[bot.user_id])
        assert isinstance(created, RoomCreateResponse)
        room = str(created.room_id)
        department = bot.city.department("buergerbuero")
        assert department is not None
        department.rooms.matrix = room
        department.language = "de"  # its room speaks German (the test city: English)
        staff.bot_id = bot.user_id
        async with bot.db.uow() as uow:
            citizen, _account = await identity.contact(
                uow,
                channel="matrix",
                external_id=staff.user_id,
                chat_id="",
                now=clock.now(),
                default_language="de",
                private_chat=False,
            )
            assert citizen.id is not None
            await identity.grant_role(
                uow, citizen.id, "staff", "buergerbuero", now=clock.now(), by="test"
            )
            await uow.commit()
        resident = citizen.id

        async def submit() -> str:
            async with bot.db.uow() as uow:
                case = await cases.submit(
                    uow,
                    bot.city,
                    citizen_id=resident,
                    form="transit",
                    department="buergerbuero",
                    answers={},
                    summary="Sozialticket",
                    now=clock.now(),
                )
                await uow.commit()
                return case.reference

        async def status(ref: str) -> str:
            async with bot.db.uow() as uow:
                found = await uow.session.execute(select(Case).where(Case.reference == ref))
                return found.scalar_one().status

        first, second = await submit(), await submit()
        await bot.start()
        await bot.drain()
        count = len(staff.from_bot(room))
        await staff.send(room, "/queue")
        [queue] = (await staff.next_answer(room, count, contains=first))[-1:]
        assert options_of(queue) == [first, second] and "2. " in queue.body
        third = await submit()
        await bot.drain()
        note = (await staff.next_answer(room, len(staff.from_bot(room)), contains=third))[-1]
        assert "Bewilligen" in options_of(note)
        assert "2. " not in note.body and "2️⃣ Bewilligen" in note.body
        assert "antworten Sie in diesem Thread" in note.body

        count = len(staff.from_bot(room))
        await staff.send(room, "2")
        shown = await staff.next_answer(room, count, contains=second)
        assert not any(third in s.body for s in shown)
        assert await status(third) == "submitted"

        in_thread = {"rel_type": "m.thread", "event_id": note.event_id}
        count = len(staff.from_bot(room))
        await staff.send(room, "2", relates_to=in_thread)
        sure = (await staff.next_answer(room, count, contains="bewilligen?"))[-1]
        assert third in sure.body and thread_of(sure) == note.event_id
        assert await status(third) == "submitted"
        count = len(staff.from_bot(room))
        await staff.send(room, "1", relates_to=in_thread)
        await staff.next_answer(room, count, contains=f"{third} bewilligt")
        assert await status(third) == "approved"
    finally:
        await staff.close()
