"""Voucher campaigns: demo data for `stadtlotse demo-data` (marketing is the console user "mara";
anna and ben signed up for news and offers)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.bootstrap import App
from services.campaigns import news
from services.campaigns import sending as campaigns
from services.identity import accounts as identity
from storage.uow import UnitOfWork


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    people = {}
    for user in ("anna", "ben", "mara"):
        account = await identity.find_account(uow, "console", user)
        if account is not None:
            people[user] = account.citizen_id
    if len(people) < 3:
        return "no demo campaign (demo people missing)"
    for user in ("anna", "ben"):
        await news.set_consent(uow, people[user], True, now=now, via="demo")
    today = now.astimezone(app.city.tz).date()
    campaign = await campaigns.create(
        uow,
        app.city,
        people["mara"],
        campaigns.CampaignDraft(
            name="Winterzauber",
            text_de=(
                "Der Ahauser Winterzauber ist eröffnet: Eisbahn am Schloss, Lichterglanz in der "
                "Innenstadt und lange Einkaufsabende. Wir schenken Ihnen einen Stadtgutschein – "
                "einlösbar in über 100 Ahauser Geschäften."
            ),
            text_en=(
                "Ahaus Winter Magic has begun: ice rink at the castle, lights all over the town "
                "centre and late-night shopping. Here is a city voucher for you – accepted in "
                "more than 100 shops in Ahaus."
            ),
            value_cents=1000,
            total=200,
            last_day=today + timedelta(days=31),
            residents_only=True,
        ),
        now=now,
    )
    assert campaign.id is not None
    sent = await campaigns.send(uow, app.city, campaign.id, people["mara"], now=now)
    return (
        f"voucher campaign Winterzauber by mara (200 × 10 €, only for residents: sent to {sent} "
        "who opted in and were checked in person: anna; ben opted in but was not checked)"
    )
