"""Claiming a campaign voucher: one per resident, never more than the campaign has (also when
many claim at once), nothing after the deadline; the voucher lands in the wallet and is never
refundable."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers import menus
from services.campaigns import claims as campaign_claims
from services.campaigns import news
from services.campaigns import sending as campaigns
from services.city import City
from services.clock import FrozenClock
from services.errors import Conflict, DomainError, LimitReached, NotAllowed
from services.identity import accounts as identity
from services.wallet import refunds, vouchers
from storage.db import Database
from storage.models.campaigns import Campaign, CampaignClaim
from storage.models.outbox import Notification
from storage.models.vouchers import Voucher
from tests.campaigns.conftest import count, make_person, sent_campaign, vouchers_of
from tests.support.chat import Transcript


async def _campaign(db: Database, campaign_id: int) -> Campaign:
    async with db.uow() as uow:
        found = await uow.session.get(Campaign, campaign_id)
        assert found is not None
        uow.session.expunge(found)
        return found


async def test_claim_lands_in_the_wallet_once(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara, value=1500)
    await chat.notifications("anna")
    shown = await chat.press("anna", "Claim voucher")
    assert "Here you go: a city voucher worth €15.00 is in your wallet" in shown
    assert "valid until 31 Dec 2029" in shown
    [voucher] = await vouchers_of(chat.db, anna)
    assert voucher.origin == "campaign" and voucher.price_cents == 0
    assert voucher.balance_cents == voucher.value_cents == 1500
    # a campaign voucher was not paid for: it can never be refunded
    assert refunds.refundable_until(voucher, vouchers.rules_of(city)) is None
    assert not refunds.can_refund(voucher, anna, vouchers.rules_of(city), chat.clock.now())

    shown = await chat.press("anna", "Wallet")
    assert "15.00" in shown

    # the notification's button again (stale, pressed twice): still one voucher
    await chat.notifications("anna")  # nothing new; the old message's menu stays valid
    async with chat.db.uow() as uow:
        with pytest.raises(Conflict):
            await campaign_claims.claim(uow, city, campaign_id, anna, now=chat.clock.now())
    assert len(await vouchers_of(chat.db, anna)) == 1
    assert (await _campaign(chat.db, campaign_id)).claimed == 1


async def test_pressing_claim_twice_books_once(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara)
    await chat.notifications("anna")
    [message] = chat.last["anna"]
    token = menus.pack(message.menu, 0)
    await chat.choose("anna", token)
    shown = await chat.choose("anna", token)
    assert "You already have the voucher of this campaign: it is in your wallet." in shown
    assert len(await vouchers_of(chat.db, anna)) == 1
    assert (await _campaign(chat.db, campaign_id)).claimed == 1
    assert await count(chat.db, CampaignClaim) == 1


async def test_after_the_deadline_a_friendly_answer(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    await sent_campaign(chat, city, mara, days=2)  # claims until 27 Nov 2026, end of day
    await chat.notifications("anna")
    chat.clock.advance(timedelta(days=2, hours=13))  # 27 Nov, 23:00 Berlin: still open
    await chat.notifications("anna")
    chat.clock.advance(timedelta(hours=1, minutes=1))  # 28 Nov, 00:01
    shown = await chat.press("anna", "Claim voucher")
    assert "Sorry, this offer could be claimed until 27 Nov 2026. Thank you" in shown
    assert await vouchers_of(chat.db, anna) == []


async def test_when_all_are_gone(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    ben = await make_person(chat, "ben", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara, total=1)
    await chat.notifications("anna")
    await chat.notifications("ben")
    await chat.press("anna", "Claim voucher")
    shown = await chat.press("ben", "Gutschein abholen")
    assert "Schade – alle Gutscheine dieser Aktion sind vergeben." in shown
    assert len(await vouchers_of(chat.db, anna)) == 1
    assert await vouchers_of(chat.db, ben) == []
    assert (await _campaign(chat.db, campaign_id)).claimed == 1


async def test_only_recipients_can_claim(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    await make_person(chat, "anna", opted_in=True)
    carl = await make_person(chat, "carl")  # not signed up: got no message
    dora = await make_person(chat, "dora", postal_code="10115", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara, residents_only=True)
    for who in (carl, dora):
        async with chat.db.uow() as uow:
            with pytest.raises(NotAllowed):
                await campaign_claims.claim(uow, city, campaign_id, who, now=chat.clock.now())
    async with chat.db.uow() as uow:
        with pytest.raises(DomainError):
            await campaign_claims.claim(uow, city, 999, carl, now=chat.clock.now())
    assert await count(chat.db, Voucher) == 0


async def test_sending_twice_is_refused(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    await make_person(chat, "anna", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara)
    async with chat.db.uow() as uow:
        with pytest.raises(Conflict):
            await campaigns.send(uow, city, campaign_id, mara, now=chat.clock.now())
    assert (await _campaign(chat.db, campaign_id)).recipients == 1


# ---------------------------------------------------------------- concurrency
async def _residents(db: Database, clock: FrozenClock, count_: int) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for number in range(count_):
            citizen, _ = await identity.contact(
                uow,
                channel="console",
                external_id=f"r{number}",
                chat_id=f"r{number}",
                now=clock.now(),
            )
            assert citizen.id is not None
            await news.set_consent(uow, citizen.id, True, now=clock.now(), via="test")
            ids.append(citizen.id)
        await uow.commit()
    return ids


async def _try_claim(db: Database, city: City, campaign_id: int, who: int, now: object) -> int:
    try:
        async with db.uow() as uow:
            await campaign_claims.claim(uow, city, campaign_id, who, now=now)  # type: ignore[arg-type]
            await uow.commit()
            return 1
    except (Conflict, LimitReached):
        return 0


async def _claim_campaign(db: Database, city: City, clock: FrozenClock, total: int) -> int:
    async with db.uow() as uow:
        marketing, _ = await identity.contact(
            uow, channel="console", external_id="mara", chat_id="mara", now=clock.now()
        )
        assert marketing.id is not None
        campaign = await campaigns.create(
            uow,
            city,
            marketing.id,
            campaigns.CampaignDraft(
                name="Sommerfest",
                text_de="Sommerfest!",
                value_cents=500,
                total=total,
                last_day=clock.now().date() + timedelta(days=3),
            ),
            now=clock.now(),
        )
        assert campaign.id is not None
        await uow.commit()
        return campaign.id


async def test_parallel_claims_never_issue_more_than_the_campaign_has(
    db: Database, city: City, clock: FrozenClock
) -> None:
    campaign_id = await _claim_campaign(db, city, clock, total=12)
    residents = await _residents(db, clock, 40)
    async with db.uow() as uow:
        assert await campaigns.send(uow, city, campaign_id, residents[0], now=clock.now()) == 40
        await uow.commit()
    # every resident twice at once: the race on the counter and on "one each"
    claimed = await asyncio.gather(
        *(_try_claim(db, city, campaign_id, who, clock.now()) for who in residents * 2)
    )
    assert sum(claimed) == 12
    async with db.uow() as uow:
        issued = list(
            (
                await uow.session.execute(
                    select(Voucher.citizen_id).where(Voucher.origin == "campaign")
                )
            ).scalars()
        )
    assert len(issued) == 12 and len(set(issued)) == 12
    assert (await _campaign(db, campaign_id)).claimed == 12
    assert await count(db, CampaignClaim) == 12


async def test_one_resident_claiming_at_once_from_several_chats_gets_one(
    db: Database, city: City, clock: FrozenClock
) -> None:
    campaign_id = await _claim_campaign(db, city, clock, total=100)
    [anna] = await _residents(db, clock, 1)
    async with db.uow() as uow:
        await campaigns.send(uow, city, campaign_id, anna, now=clock.now())
        await uow.commit()
    claimed = await asyncio.gather(
        *(_try_claim(db, city, campaign_id, anna, clock.now()) for _ in range(8))
    )
    assert sum(claimed) == 1
    assert await count(db, Voucher) == 1
    assert (await _campaign(db, campaign_id)).claimed == 1


async def test_campaign_messages_fall_due_a_minute_at_a_time(
    db: Database, city: City, clock: FrozenClock
) -> None:
    """Payment and case messages written meanwhile are not queued behind the whole campaign."""
    paced = City.model_validate({**city.model_dump(), "campaigns": {"send_per_minute": 2}})
    campaign_id = await _claim_campaign(db, paced, clock, total=5)
    residents = await _residents(db, clock, 5)
    async with db.uow() as uow:
        assert await campaigns.send(uow, paced, campaign_id, residents[0], now=clock.now()) == 5
        await uow.commit()
        due = (
            await uow.session.execute(
                select(Notification.next_attempt_at)
                .where(Notification.ref == f"campaign:{campaign_id}")
                .order_by(Notification.id)
            )
        ).scalars()
        offsets = [(moment - clock.now()).total_seconds() for moment in due]
    assert offsets == [0, 0, 60, 60, 120]
    assert campaigns.sending_minutes(5, paced) == 3


async def test_sold_out_while_claims_are_open_says_sold_out_not_ended(
    chat: Transcript, city: City
) -> None:
    mara = await make_person(chat, "mara", role="marketing")  # German, as marketing reads it
    await make_person(chat, "anna", language="en", opted_in=True)
    campaign_id = await sent_campaign(chat, city, mara, total=1, days=3)
    await chat.notifications("anna")
    await chat.press("anna", "Claim voucher")
    listing = await chat.send("mara", "/campaigns")
    assert "Winterzauber – vergriffen" in listing and "abgelaufen" not in listing
    campaign = await _campaign(chat.db, campaign_id)
    assert campaign_claims.state(campaign, chat.clock.now()) == campaign_claims.SOLD_OUT
    chat.clock.advance(timedelta(days=4))  # the claim period is over: now it has ended
    assert campaign_claims.state(campaign, chat.clock.now()) == campaign_claims.EXPIRED
    assert "Winterzauber – abgelaufen" in await chat.send("mara", "/campaigns")


async def test_each_open_campaign_received_can_be_claimed_not_only_the_newest(
    chat: Transcript, city: City
) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    first = await sent_campaign(chat, city, mara, value=1000)
    await chat.notifications("anna")
    chat.clock.advance(timedelta(hours=2))
    second = await sent_campaign(chat, city, mara, value=500)
    await chat.notifications("anna")
    # typing the label picks the newest message's button; the older offer is offered next
    shown = await chat.press("anna", "Claim voucher")
    assert "worth €5.00" in shown
    assert "You can still claim from these offers as well" in shown
    shown = await chat.press("anna", "Claim: Winterzauber (€10.00)")
    assert "worth €10.00" in shown
    assert sorted(v.value_cents for v in await vouchers_of(chat.db, anna)) == [500, 1000]
    # pressing the newest message's button again: already claimed, nothing else is open
    shown = await chat.press("anna", "Wallet")
    shown = await chat.send("anna", "/offers")
    assert "There is no voucher offer for you to claim right now." in shown
    async with chat.db.uow() as uow:
        claimed = (
            await uow.session.execute(
                select(CampaignClaim.campaign_id).where(CampaignClaim.citizen_id == anna)
            )
        ).scalars()
        assert sorted(claimed) == sorted([first, second])


async def test_offers_lists_what_is_still_open(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    await make_person(chat, "anna", language="en", opted_in=True)
    await sent_campaign(chat, city, mara, value=1000)
    await sent_campaign(chat, city, mara, value=700, total=1)
    await chat.notifications("anna")
    shown = await chat.send("anna", "/offers")
    assert "Winterzauber: €10.00" in shown and "Winterzauber: €7.00" in shown
    shown = await chat.press("anna", "Claim: Winterzauber (€7.00)")
    assert "worth €7.00" in shown
