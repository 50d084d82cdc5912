"""Identity checked at the counter on Telegram: the resident's QR code carries the bot's deep
link; staff of the Bürgerbüro open it (as scanning it with their phone does) and confirm."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.identity import accounts as identity
from services.trust import card as cards
from storage.models.identity import Citizen
from tests.support.fake_telegram import FakeTelegram

from .conftest import ANNA, BERND, Bot
from .test_transcripts import data_of, say

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


async def test_the_qr_deep_link_opens_the_check_for_staff(
    bot: Bot, fake: FakeTelegram, clock: object
) -> None:
    assert bot.app is not None
    await say(fake, ANNA, "/start", 1)
    await say(fake, BERND, "/start", 1)
    async with bot.app.db.uow() as uow:
        anna = await identity.find_account(uow, "telegram", str(ANNA))
        bernd = await identity.find_account(uow, "telegram", str(BERND))
        assert anna is not None and bernd is not None
        citizen = await uow.session.get(Citizen, anna.citizen_id)
        assert citizen is not None
        citizen.first_name, citizen.last_name = "Anna", "Schulte"
        citizen.street, citizen.postal_code, citizen.town = "Marktstraße 4", "48683", "Ahaus"
        citizen.birth_date = date(1985, 3, 14)
        citizen.language = "de"
        await identity.grant_role(
            uow,
            bernd.citizen_id,
            "staff",
            "buergerbuero",
            now=clock.now(),
            by="test",  # type: ignore[attr-defined]
        )
        await uow.commit()

    [code_message] = await say(fake, ANNA, "/ausweis", 1)
    assert code_message.kind == "photo" and code_message.data  # the QR code
    found = re.search(r"Prüfcode ist (\S+)\.", code_message.text)
    assert found is not None
    code = found[1].replace("-", "")
    link = bot.channel.deep_link(f"verify-{code}")
    assert link == f"https://t.me/stadtlotse_bot?start=verify-{code}"

    # staff scan the QR code: Telegram opens the bot with /start verify-<code>
    [check] = await say(fake, BERND, f"/start verify-{code}", 1)
    assert "Identitätsprüfung für Bürger-ID" in check.text
    assert "Schulte" in check.text and "14.03.1985" in check.text
    before = len(fake.sent(BERND))
    pushed = await fake.press_button(
        BERND, check.message_id, data_of(check, "Bestätigen"), chat_id=BERND
    )
    assert pushed.status in (None, 200)
    [done] = (await fake.wait_for_sent(before + 1, chat_id=BERND))[before:]
    assert "Bestätigt: Anna Schulte" in done.text

    await bot.outbox()
    told = fake.sent(ANNA)[-1]
    assert "persönlich geprüft" in told.text
    async with bot.app.db.uow() as uow:
        card = await cards.current(uow, anna.citizen_id, clock.now())  # type: ignore[attr-defined]
        assert card is not None

    # the same link again: used
    before = len(fake.sent(BERND))
    await fake.send_text(BERND, f"/start verify-{code}")
    await fake.wait_until(
        lambda: any("schon verwendet" in m.text for m in fake.sent(BERND)[before:])
    )
