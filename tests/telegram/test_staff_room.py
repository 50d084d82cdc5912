"""A department's room on Telegram is a group (issue 12): it reads the reference, the type and
the actions; the resident's name, address or chip number go only to the private chat of the
staff member who asks for them, in that staff member's language."""

from __future__ import annotations

import pytest

from services.cases import records as cases
from services.identity import accounts as identity
from tests.support.fake_telegram import FakeTelegram

from .conftest import GROUP, Bot
from .test_transcripts import labels, press, say

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
STEFAN = 4730


async def test_the_group_reads_no_personal_data_details_go_private(
    polling_bot: Bot, fake: FakeTelegram
) -> None:
    bot = polling_bot
    steuern = bot.city.department("steuern")
    assert steuern is not None and not steuern.room_is_private("telegram")
    steuern.rooms.telegram = str(GROUP)
    await say(fake, STEFAN, "/start", 2, first_name="Stefan")
    await say(fake, STEFAN, "/language en", 1, first_name="Stefan")
    async with bot.db.uow() as uow:
        account = await identity.find_account(uow, "telegram", str(STEFAN))
        assert account is not None
        staff = account.citizen_id
        await identity.grant_role(uow, staff, "staff", "steuern", now=bot.clock.now(), by="test")
        citizen = await identity.citizen(uow, staff)
        assert citizen is not None
        case = await cases.submit(
            uow,
            bot.city,
            citizen_id=staff,
            form="dogtax",
            department="steuern",
            answers={"holder_name": "Anna Schulte", "dog_name": "Bello", "breed": "Labrador",
                     "chip": "276100000000001"},
            summary="Rasse: Labrador",
            details="• Halterin oder Halter: Anna Schulte\n• Chipnummer: 276100000000001",
            now=bot.clock.now(),
        )  # fmt: skip
        await uow.commit()
    await bot.outbox()
    posted = fake.last_sent(GROUP)
    assert case.reference in posted.text and "Hundesteuer" in posted.text
    assert "Anna" not in posted.text and "276100000000001" not in posted.text
    assert "Bewilligen" in labels(posted) and "Details" in labels(posted)
    before = len(fake.sent(STEFAN))
    answer = await press(fake, STEFAN, posted, "Details", 1)
    assert not any("Anna Schulte" in m.text for m in answer)  # nothing personal in the group
    assert any("private chat" in m.text for m in answer)  # in Stefan's language
    private = fake.sent(STEFAN)[before:]
    assert any("Anna Schulte" in m.text and "Dog tax registration" in m.text for m in private)
