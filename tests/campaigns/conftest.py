"""Helpers for the campaign tests: people with profiles and roles, a marketing campaign."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from services.campaigns import news
from services.campaigns import sending as campaigns
from services.city import City
from services.identity import accounts as identity
from storage.db import Database
from storage.models.identity import Citizen
from storage.models.vouchers import Voucher
from tests.support import trust
from tests.support.chat import Transcript


async def citizen_id(db: Database, user: str) -> int:
    async with db.uow() as uow:
        account = await identity.find_account(uow, "console", user)
        assert account is not None
        return account.citizen_id


async def make_person(
    chat: Transcript,
    user: str,
    *,
    role: str = "",
    scope: str = "",
    postal_code: str = "48683",
    language: str = "",
    opted_in: bool = False,
    verified: bool = True,
) -> int:
    """A console user who said hello, with a postal code, a role and consent as asked, and
    (`verified`, by default) their identity and address checked in person at the Bürgerbüro:
    "residents only" campaigns go by the checked address, not by the typed postal code."""
    await chat.send(user, "/start")
    async with chat.db.uow() as uow:
        account = await identity.find_account(uow, "console", user)
        assert account is not None
        citizen = await uow.session.get(Citizen, account.citizen_id)
        assert citizen is not None
        citizen.first_name, citizen.postal_code = user.capitalize(), postal_code
        if language:
            citizen.language = language
        if role:
            await identity.grant_role(
                uow, account.citizen_id, role, scope, now=chat.clock.now(), by="test"
            )
        if opted_in:
            await news.set_consent(uow, account.citizen_id, True, now=chat.clock.now(), via="test")
        if verified:
            await trust.verify(uow, chat.city, account.citizen_id, chat.clock.now())
        await uow.commit()
        return account.citizen_id


async def sent_campaign(
    chat: Transcript,
    city: City,
    marketing_id: int,
    *,
    total: int = 10,
    value: int = 1000,
    days: int = 7,
    residents_only: bool = False,
    text_en: str = "",
) -> int:
    """A campaign created and sent through the services (for tests about claiming)."""
    now = chat.clock.now()
    async with chat.db.uow() as uow:
        campaign = await campaigns.create(
            uow,
            city,
            marketing_id,
            campaigns.CampaignDraft(
                name="Winterzauber",
                text_de="Frohe Weihnachten aus Ahaus!",
                text_en=text_en,
                value_cents=value,
                total=total,
                last_day=now.astimezone(city.tz).date() + timedelta(days=days),
                residents_only=residents_only,
            ),
            now=now,
        )
        assert campaign.id is not None
        await campaigns.send(uow, city, campaign.id, marketing_id, now=now)
        await uow.commit()
        return campaign.id


async def vouchers_of(db: Database, cid: int) -> list[Voucher]:
    async with db.uow() as uow:
        found = await uow.session.execute(
            select(Voucher).where(Voucher.citizen_id == cid).order_by(Voucher.id)
        )
        result = list(found.scalars())
        for voucher in result:
            uow.session.expunge(voucher)  # keep its values after the session ends
        return result


async def count(db: Database, model: type, *where: object) -> int:
    async with db.uow() as uow:
        found = await uow.session.execute(select(func.count()).select_from(model).where(*where))  # type: ignore[arg-type]
        return int(found.scalar_one())


def day(value: date) -> str:
    return value.isoformat()
