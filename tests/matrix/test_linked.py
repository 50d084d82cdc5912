"""One resident on two channels: /link joins the Matrix account to the console account; the
resident chooses Matrix for news and gets a notification there."""

from __future__ import annotations

import re

from flows.types import Inbound
from services import notify
from services.clock import FrozenClock
from storage.models.identity import Citizen
from tests.matrix.support import BotRunner, Resident, options_of


async def console(bot: BotRunner, line: str, key: str) -> str:
    assert bot.app is not None
    command, _sep, args = line[1:].partition(" ")
    replies = await bot.app.dispatcher.handle(
        Inbound(
            channel="console",
            user_id="anna",
            chat_id="anna",
            kind="command",
            command=command,
            text=args,
            key=key,
        )
    )
    return "\n".join(r.text for r in replies)


async def test_link_and_choose_matrix_for_news(
    bot: BotRunner, resident: Resident, clock: FrozenClock
) -> None:
    await bot.start()
    profile = await console(bot, "/profile", "c1")
    console_id = re.search(r"resident ID (\d+)", profile)
    assert console_id is not None
    answer = await console(bot, "/link", "c2")
    code = re.search(r"send: /link (\S+)", answer)
    assert code is not None

    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    count = len(resident.from_bot(room))
    await resident.send(room, f"!link {code.group(1)}")
    linked = await resident.next_answer(room, count, contains="Done")
    assert "Console, Matrix" in linked[0].body

    count = len(resident.from_bot(room))
    await resident.send(room, "!profile")
    shown = await resident.next_answer(room, count, contains="resident ID")
    assert f"resident ID {console_id.group(1)}" in shown[0].body

    count = len(resident.from_bot(room))
    await resident.send(room, "!notifications")
    menu = await resident.next_answer(room, count, contains="Where should I send news")
    assert options_of(menu[-1])[:2] == ["Console", "Matrix"]
    count = len(resident.from_bot(room))
    await resident.send(room, "Matrix")
    await resident.next_answer(room, count, contains="From now on I send your news to Matrix")

    async with bot.db.uow() as uow:
        citizen = await uow.session.get(Citizen, int(console_id.group(1)))
        assert citizen is not None and citizen.notify_channel == "matrix"
        notify.notify_citizen(
            uow,
            int(console_id.group(1)),
            "Test news about {ref}",
            {"ref": "AH-7"},
            now=clock.now(),
        )
        await uow.commit()
    await bot.drain()
    news = await resident.next_answer(room, len(resident.from_bot(room)), contains="AH-7")
    assert "AH-7" in news[-1].body
