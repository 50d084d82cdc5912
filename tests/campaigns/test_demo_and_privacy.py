"""Demo data (Winterzauber by mara, anna and ben signed up) and what deletion does to consent."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.bootstrap import build_app
from bot.demo import fill_demo_data
from bot.settings import Settings
from services.campaigns import sending as campaigns
from services.city import City
from services.clock import FrozenClock
from services.identity import accounts as identity
from storage.db import Database
from storage.models.campaigns import Campaign, CampaignClaim, NewsConsent
from storage.models.outbox import Notification
from tests.campaigns.conftest import count, make_person, sent_campaign
from tests.support.chat import Transcript


async def test_demo_campaign(db: Database, city: City, clock: FrozenClock) -> None:
    settings = Settings(stripe_secret_key=None, _env_file=None)  # type: ignore[call-arg]
    app = build_app(settings, clock=clock, db=db, city=city)
    report = await fill_demo_data(app)
    assert "voucher campaign Winterzauber by mara" in report
    async with db.uow() as uow:
        [campaign] = list((await uow.session.execute(select(Campaign))).scalars())
        # only for residents: anna was checked at the counter, ben only typed his postal code
        assert campaign.status == "sent" and campaign.recipients == 1
        names = {}
        for user in ("anna", "ben", "mara"):
            account = await identity.find_account(uow, "console", user)
            assert account is not None
            names[account.citizen_id] = user
        targets = (
            await uow.session.execute(
                select(Notification.citizen_id).where(Notification.ref == f"campaign:{campaign.id}")
            )
        ).scalars()
        assert sorted(names[t] for t in targets if t is not None) == ["anna"]
        assert campaign.created_by is not None and names[campaign.created_by] == "mara"


async def test_deletion_removes_consent_and_keeps_the_claim_anonymous(
    chat: Transcript, city: City
) -> None:
    mara = await make_person(chat, "mara", role="marketing", language="en")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara)
    await chat.notifications("anna")
    await chat.press("anna", "Claim voucher")
    await chat.send("anna", "/mydata")
    [export] = [r.media for r in chat.last["anna"] if r.media is not None]
    data = json.loads(export.data)["data"]
    assert data["news_consent"][0]["opted_in"] is True
    assert data["campaign_claim"][0]["campaign_id"] == campaign_id
    asked = await chat.send("anna", "/deleteme")
    assert "you still hold €10.00" in asked  # the claimed voucher is named first
    await chat.press("anna", "Delete anyway and give up €10.00")
    assert await count(chat.db, NewsConsent, NewsConsent.citizen_id == anna) == 0
    assert await count(chat.db, CampaignClaim, CampaignClaim.campaign_id == campaign_id) == 1
    async with chat.db.uow() as uow:
        assert await campaigns.count_recipients(uow, city, False) == 0
    shown = await chat.send("mara", "/campaigns")
    assert "Claimed: 1 of 10 vouchers" in shown
