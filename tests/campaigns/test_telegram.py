"""End to end on Telegram (fake Bot API over HTTP, real python-telegram-bot): a resident signs up
for news and offers, the rate-limited outbox sender delivers the campaign, the resident claims
with the button under it."""

from __future__ import annotations

import pytest

from services.campaigns import claims as campaign_claims
from services.campaigns import sending as campaigns
from services.city import City
from services.identity import accounts as identity
from tests.campaigns.conftest import make_person, sent_campaign, vouchers_of
from tests.support.chat import Transcript
from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import ANNA, Bot, bot, fake  # noqa: F401  (fixtures)
from tests.telegram.test_transcripts import press, say

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


async def test_sign_up_receive_and_claim_on_telegram(
    bot: Bot,  # noqa: F811
    fake: FakeTelegram,  # noqa: F811
    chat: Transcript,
    city: City,
) -> None:
    [menu] = await say(fake, ANNA, "/news", 1)
    assert "Derzeit: ausgeschaltet." in menu.text
    [done] = await press(fake, ANNA, menu, "Ja, Neuigkeiten und Angebote erhalten", 1)
    assert "Sie erhalten jetzt Neuigkeiten und Angebote aus Ahaus" in done.text

    mara = await make_person(chat, "mara", role="marketing")
    campaign_id = await sent_campaign(chat, city, mara, value=1000)
    stats = await bot.outbox()
    assert stats.sent == 1
    offer = fake.last_sent(ANNA)
    assert "Frohe Weihnachten aus Ahaus!" in offer.text
    assert [b["text"] for b in offer.buttons] == ["Gutschein abholen", "Abbestellen"]

    [claimed] = await press(fake, ANNA, offer, "Gutschein abholen", 1)
    assert "Ein Stadtgutschein im Wert von 10,00\xa0€ ist in Ihrer Wallet" in claimed.text
    again, *_menu = await press(fake, ANNA, offer, "Gutschein abholen", 1)  # the same again
    assert "Sie haben den Gutschein dieser Aktion schon" in again.text

    async with chat.db.uow() as uow:
        account = await identity.find_account(uow, "telegram", str(ANNA))
        assert account is not None
        anna = account.citizen_id
        [item] = await campaign_claims.stats(uow, [await campaigns.get(uow, campaign_id)])
    assert len(await vouchers_of(chat.db, anna)) == 1
    assert (item.sent, item.delivered, item.claimed) == (1, 1, 1)
