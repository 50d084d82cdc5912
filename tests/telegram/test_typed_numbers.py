"""The typed-number rule on Telegram (fake Bot API, real python-telegram-bot): in a department's
group, /queue then a new application's notification, then "2" answering the list opens the
second case of the list; the notification's "Bewilligen" is a button and asks once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.cases import records as cases
from services.identity import accounts as identity
from storage.models.cases import Case
from tests.support.fake_telegram import FakeTelegram, SentMessage

from .conftest import GROUP, Bot
from .test_transcripts import labels, press, say

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
OLGA = 4720


async def _case(bot: Bot, citizen: int) -> str:
    async with bot.db.uow() as uow:
        case = await cases.submit(
            uow,
            bot.city,
            citizen_id=citizen,
            form="space",
            department="ordnung",
            answers={"purpose": "removal"},
            summary="Umzug",
            now=bot.clock.now(),
        )
        await uow.commit()
        return case.reference


async def _status(bot: Bot, ref: str) -> str:
    async with bot.db.uow() as uow:
        found = await uow.session.execute(select(Case).where(Case.reference == ref))
        return found.scalar_one().status


async def test_a_number_in_the_staff_group_picks_the_queue(
    polling_bot: Bot, fake: FakeTelegram
) -> None:
    bot = polling_bot
    ordnung = bot.city.department("ordnung")
    assert ordnung is not None
    ordnung.rooms.telegram = str(GROUP)
    await say(fake, OLGA, "/start", 2, first_name="Olga")
    async with bot.db.uow() as uow:
        account = await identity.find_account(uow, "telegram", str(OLGA))
        assert account is not None
        resident = account.citizen_id
        await identity.grant_role(uow, resident, "staff", "ordnung", now=bot.clock.now(), by="test")
        await uow.commit()
    first, second = await _case(bot, resident), await _case(bot, resident)
    await bot.outbox()
    [queue] = await say(fake, OLGA, "/queue@stadtlotse_bot", 1, chat_id=GROUP, first_name="Olga")
    assert labels(queue) == [first, second]
    third = await _case(bot, resident)
    await bot.outbox()
    posted: SentMessage = fake.last_sent(GROUP)
    assert third in posted.text and "Bewilligen" in labels(posted)
    assert "[2]" not in posted.text and "zum Beispiel" not in posted.text  # buttons say it all
    # "2" as an answer to the list (in a group the bot reads replies to its messages)
    answer = await say(
        fake, OLGA, "2", 2, chat_id=GROUP, first_name="Olga", reply_to=queue.message_id
    )
    assert any(second in m.text for m in answer) and not any(third in m.text for m in answer)
    assert await _status(bot, third) == "submitted"
    # the notification's button: one confirmation naming the case, then approved
    [sure] = await press(fake, OLGA, posted, "Bewilligen", 1)
    assert third in sure.text and "bewilligen?" in sure.text
    assert await _status(bot, third) == "submitted"
    [done] = await press(fake, OLGA, sure, "Ja", 1)
    assert f"{third} bewilligt" in done.text
    assert await _status(bot, third) == "approved"
