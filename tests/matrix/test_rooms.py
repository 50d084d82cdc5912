"""Rooms: what was said before the bot joined stays unanswered, one direct room per resident,
other invites are refused, and `stadtlotse run` serves Matrix with its outbox sender."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from nio import RoomCreateResponse
from sqlalchemy import select

from bot.bootstrap import build_app
from bot.commands.run import serve
from bot.settings import SettingsError
from services import notify
from services.clock import FrozenClock
from storage.models.identity import ChannelAccount
from storage.models.matrix import MatrixRoomInfo
from tests.matrix.support import BotRunner, Resident
from tests.support.synapse import free_port


async def test_messages_from_before_the_bot_joined_are_not_answered(
    bot: BotRunner, resident: Resident
) -> None:
    room = await resident.open_dm(bot.user_id)
    await resident.send(room, "!help")  # the bot is not running yet
    await bot.start()
    await resident.next_answer(room, 0, contains="What would you like to do?")
    await resident.sync(1500)
    bodies = [s.body for s in resident.from_bot(room)]
    assert not any("Commands:" in b for b in bodies)


async def test_one_direct_room_per_resident(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    first = await resident.open_dm(bot.user_id)
    await resident.next_answer(first, 0, contains="What would you like to do?")
    second = await resident.open_dm(bot.user_id)
    await resident.next_answer(second, 0, contains="What would you like to do?")
    await resident.until(
        lambda: any("continue there" in s.body for s in resident.from_bot(first)),
        "the goodbye in the first room",
    )
    await resident.until(
        lambda: (
            first in resident.client.rooms and bot.user_id not in resident.client.rooms[first].users
        ),
        "the bot leaving the first room",
    )
    async with bot.db.uow() as uow:
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
            )
        ).scalar_one()
        assert account.chat_id == second
        assert account.unreachable_at is None


async def test_deleteme_removes_the_room_record(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    async with bot.db.uow() as uow:
        assert await uow.session.get(MatrixRoomInfo, room) is not None
    count = len(resident.from_bot(room))
    await resident.send(room, "!deleteme")
    await resident.next_answer(room, count, contains="really want to delete")
    count = len(resident.from_bot(room))
    await resident.send(room, "1")
    await resident.next_answer(room, count, contains="has been deleted")
    async with bot.db.uow() as uow:
        assert await uow.session.get(MatrixRoomInfo, room) is None
        accounts = await uow.session.execute(
            select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
        )
        assert accounts.first() is None
    # writing again starts afresh, in the same room
    count = len(resident.from_bot(room))
    await resident.send(room, "hello")
    await resident.next_answer(room, count, contains="What would you like to do?")


async def test_invite_to_a_group_room_is_refused(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    created = await resident.client.room_create(name="Skat club", invite=[bot.user_id])
    assert isinstance(created, RoomCreateResponse)
    room = str(created.room_id)
    await resident.until(
        lambda: (
            room in resident.client.rooms
            and bot.user_id not in resident.client.rooms[room].invited_users
            and bot.user_id not in resident.client.rooms[room].users
        ),
        "the bot declining the invite",
    )


async def test_stadtlotse_run_serves_matrix(
    bot: BotRunner, resident: Resident, clock: FrozenClock, tmp_path: Path
) -> None:
    settings = bot.settings().model_copy(update={"web_port": free_port()})
    app = build_app(settings, clock=clock, db=bot.db, city=bot.city)
    running = asyncio.create_task(serve(app))
    try:
        room = await resident.open_dm(bot.user_id)
        await resident.next_answer(room, 0, contains="What would you like to do?")
        count = len(resident.from_bot(room))
        await resident.send(room, "!help")
        await resident.next_answer(room, count, contains="Commands:")
        async with bot.db.uow() as uow:
            account = (
                await uow.session.execute(
                    select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
                )
            ).scalar_one()
            notify.notify_citizen(uow, account.citizen_id, "Test reminder", now=clock.now())
            await uow.commit()
        # no drain here: the outbox sender of `stadtlotse run` delivers it
        await resident.next_answer(room, len(resident.from_bot(room)), contains="Test reminder")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await app.close()


async def test_wrong_password_and_unreachable_server_are_one_clear_line(
    bot: BotRunner, clock: FrozenClock
) -> None:
    bot.extra = {"matrix_password": "not-the-password"}
    try:
        await bot.start()
    except SettingsError as error:
        assert f"Matrix login as {bot.user_id}" in str(error)
        assert "STADTLOTSE_MATRIX_PASSWORD" in str(error)
    else:
        raise AssertionError("a wrong password must stop the start")
    bot.extra = {"matrix_homeserver": f"http://127.0.0.1:{free_port()}"}
    try:
        await bot.start()
    except SettingsError as error:
        assert "is not reachable" in str(error)
        assert "STADTLOTSE_MATRIX_HOMESERVER" in str(error)
    else:
        raise AssertionError("an unreachable homeserver must stop the start")
