"""A resident and the bot on a real Synapse: invite, menu, numbered/label/reaction choice,
files, the encrypted room, a restart without repeated answers."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from nio import MemoryDownloadResponse, RoomSendResponse
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy import select

from flows.context import Ctx
from flows.registry import Router
from flows.types import Media
from storage.models.identity import ChannelAccount
from storage.models.matrix import MatrixSession
from tests.matrix.support import BotRunner, Resident, options_of
from tests.support.images import png
from tests.support.synapse import SynapseServer

router = Router("test-matrix-media")


@router.command("testqr")
async def send_qr(ctx: Ctx, args: str) -> None:
    ctx.say("Your code:", media=Media("image", "code.png", "image/png", png(5, 5)))


async def test_invite_menu_and_three_ways_to_choose(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)

    greeting = await resident.next_answer(room, 0, contains="What would you like to do?")
    bodies = [s.body for s in greeting]
    assert "not end-to-end encrypted" in bodies[0]
    assert any("welcome to Stadtlotse" in b for b in bodies)
    menu = greeting[-1]
    labels = options_of(menu)
    assert "Language / Sprache" in labels
    assert menu.content["format"] == "org.matrix.custom.html"
    assert "<ol>" in menu.content["formatted_body"]

    # a number picks from the menu
    count = len(resident.from_bot(room))
    await resident.send(room, str(labels.index("Language / Sprache") + 1))
    answer = await resident.next_answer(room, count, contains="Which language")
    assert options_of(answer[-1]) == ["Deutsch", "English"]

    # the label picks too
    count = len(resident.from_bot(room))
    await resident.send(room, "english")
    answer = await resident.next_answer(room, count, contains="speak English")

    # a keycap reaction on a small menu picks its option
    count = len(resident.from_bot(room))
    await resident.send(room, "!language")
    answer = await resident.next_answer(room, count, contains="Which language")
    count = len(resident.from_bot(room))
    await resident.react(room, answer[-1].event_id, "2️⃣")
    answer = await resident.next_answer(room, count, contains="speak English")
    assert answer[-1].body.startswith("I will speak English with you from now on.")


async def test_files_both_ways(bot: BotRunner, resident: Resident, tmp_path: Path) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")

    count = len(resident.from_bot(room))
    await resident.send(room, "!testqr")
    answer = await resident.next_answer(room, count, contains="Your code:")
    image = next(s for s in answer if s.content.get("msgtype") == "m.image")
    assert image.content["info"] == {
        "mimetype": "image/png",
        "size": len(png(5, 5)),
        "w": 5,
        "h": 5,
    }
    downloaded = await resident.client.download(mxc=image.content["url"])
    assert isinstance(downloaded, MemoryDownloadResponse)
    assert downloaded.body == png(5, 5)

    count = len(resident.from_bot(room))
    await resident.send(room, "!mydata")
    answer = await resident.next_answer(room, count, contains="everything we hold")
    document = next(s for s in answer if s.content.get("msgtype") == "m.file")
    downloaded = await resident.client.download(mxc=document.content["url"])
    assert isinstance(downloaded, MemoryDownloadResponse)
    exported = json.loads(downloaded.body)
    assert exported["city"] == "Ahaus"
    assert [r["room_id"] for r in exported["data"]["matrix_room"]] == [room]


async def test_encrypted_room(
    bot: BotRunner, synapse: SynapseServer, tmp_path: Path, unique: str
) -> None:
    await bot.start()
    resident = await Resident.create(synapse, tmp_path / "eres", f"erika{unique}", encrypted=True)
    try:
        room = await resident.open_dm(bot.user_id, encrypted=True)
        greeting = await resident.next_answer(room, 0, contains="What would you like to do?")
        assert greeting[0].encrypted
        assert "is end-to-end encrypted" in greeting[0].body
        assert all(s.event.decrypted for s in greeting)

        count = len(resident.from_bot(room))
        sent = await resident.send(room, "!room")
        answer = await resident.next_answer(room, count, contains="end-to-end encrypted")
        assert answer[-1].event.decrypted
        raw = synapse.request(
            "GET",
            f"/_matrix/client/v3/rooms/{room}/event/{answer[-1].event_id}",
            access_token=resident.client.access_token,
        )
        assert raw["type"] == "m.room.encrypted"
        assert "encrypted: only you" not in json.dumps(raw)
        assert sent

        # an image in an encrypted room is an encrypted attachment
        count = len(resident.from_bot(room))
        await resident.send(room, "!testqr")
        answer = await resident.next_answer(room, count, contains="Your code:")
        image = next(s for s in answer if s.content.get("msgtype") == "m.image")
        assert "url" not in image.content
        file = image.content["file"]
        downloaded = await resident.client.download(mxc=file["url"])
        assert isinstance(downloaded, MemoryDownloadResponse)
        assert downloaded.body != png(5, 5)
        plain = decrypt_attachment(
            downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
        )
        assert plain == png(5, 5)
        assert not resident.undecryptable

        # a keycap reaction sent encrypted (as Element does in encrypted rooms) picks too
        count = len(resident.from_bot(room))
        await resident.send(room, "!language")
        menu = await resident.next_answer(room, count, contains="Which language")
        message_type, content = resident.client.encrypt(
            room,
            "m.reaction",
            {
                "m.relates_to": {
                    "rel_type": "m.annotation",
                    "event_id": menu[-1].event_id,
                    "key": "2️⃣",
                }
            },
        )
        assert message_type == "m.room.encrypted"
        method, path, data = Api.room_send(
            resident.client.access_token, room, message_type, content, uuid4()
        )
        sent_reaction = await resident.client._send(RoomSendResponse, method, path, data, (room,))
        assert isinstance(sent_reaction, RoomSendResponse)
        await resident.next_answer(
            room, len(resident.from_bot(room)) - 1, contains="I will speak English"
        )

        async with bot.db.uow() as uow:
            account = (
                await uow.session.execute(
                    select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
                )
            ).scalar_one()
            assert account.encrypted
            assert account.chat_id == room
    finally:
        await resident.close()


async def test_restart_neither_repeats_nor_skips(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    device = bot.channel.client.device_id if bot.channel.client else None
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    count = len(resident.from_bot(room))
    await resident.send(room, "!help")
    await resident.next_answer(room, count, contains="Commands:")
    await bot.stop()

    # while the bot is away the resident writes twice
    before = len(resident.from_bot(room))
    await resident.send(room, "!language")
    await resident.send(room, "!cancel")
    await bot.start()
    assert bot.channel.client is not None and bot.channel.client.device_id == device
    answers = await resident.next_answer(room, before, contains="nothing to cancel")
    await resident.sync(1500)
    answers = resident.from_bot(room)[before:]
    bodies = [s.body for s in answers]
    assert sum("Which language" in b for b in bodies) == 1
    assert sum("nothing to cancel" in b for b in bodies) == 1
    assert not any("Commands:" in b for b in bodies), "an old message was answered again"
    assert not any("welcome to Stadtlotse" in b for b in bodies), "greeted twice"
    async with bot.db.uow() as uow:
        session = await uow.session.get(MatrixSession, bot.user_id)
        assert session is not None and session.device_id == device and session.sync_token


async def test_resident_leaves_and_bot_follows(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    await resident.client.room_leave(room)
    channel = bot.channel
    for _ in range(100):
        if room not in channel.rooms and channel.client and room not in channel.client.rooms:
            break
        await resident.sync(100)
    assert room not in channel.rooms
    async with bot.db.uow() as uow:
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
            )
        ).scalar_one()
        assert account.unreachable_at is not None


async def test_encryption_switched_on_later_is_announced(
    bot: BotRunner, synapse: SynapseServer, tmp_path: Path, unique: str
) -> None:
    await bot.start()
    resident = await Resident.create(synapse, tmp_path / "later", f"lars{unique}", encrypted=True)
    try:
        room = await resident.open_dm(bot.user_id)
        greeting = await resident.next_answer(room, 0, contains="What would you like to do?")
        assert "not end-to-end encrypted" in greeting[0].body
        await resident.client.room_put_state(
            room, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"}
        )
        await resident.until(lambda: resident.client.rooms[room].encrypted, "encryption on")
        count = len(resident.from_bot(room))
        await resident.send(room, "!help")
        answer = await resident.next_answer(room, count, contains="Commands:")
        assert answer[0].encrypted and answer[0].event.decrypted
        assert "is end-to-end encrypted" in answer[0].body
        async with bot.db.uow() as uow:
            account = (
                await uow.session.execute(
                    select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
                )
            ).scalar_one()
            assert account.encrypted
    finally:
        await resident.close()


async def test_restart_after_more_than_one_sync_carries(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    await bot.stop()
    before = len(resident.from_bot(room))
    for _ in range(7):
        await resident.send(room, "!language")
    channel = await bot.start(background=False)
    channel.sync_filter = {"room": {"timeline": {"limit": 3}}}  # a sync carries 3 of the 7
    await channel.sync_once(0)
    await resident.until(lambda: len(resident.from_bot(room)) >= before + 7, "seven answers")
    await resident.sync(1000)
    answers = [s.body.splitlines()[0] for s in resident.from_bot(room)[before:]]
    assert answers == ["Which language would you like?"] * 7
