"""Marketing creates a campaign in chat, sees how many residents would get it, confirms, and
follows sent, delivered, claimed and redeemed; residents and merchants cannot do any of it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import menus
from services.campaigns import sending as campaigns
from services.city import City
from services.errors import Conflict
from services.identity import accounts as identity
from services.wallet import redemption
from storage.models.campaigns import DRAFT, SENT, STOPPED, Campaign
from storage.models.outbox import AuditEntry, Notification
from tests.campaigns.conftest import count, make_person, sent_campaign, vouchers_of
from tests.support.chat import Transcript


async def _campaigns(chat: Transcript) -> list[Campaign]:
    async with chat.db.uow() as uow:
        found = list((await uow.session.execute(select(Campaign).order_by(Campaign.id))).scalars())
        for campaign in found:
            uow.session.expunge(campaign)
        return found


async def _fill_form(
    chat: Transcript, *, english: str | None = "Merry Christmas from Ahaus!"
) -> str:
    await chat.send("mara", "/campaigns")
    shown = await chat.press("mara", "New campaign")
    assert "(1/7)" in shown
    await chat.send("mara", "Winterzauber")
    await chat.send("mara", "Frohe Weihnachten aus Ahaus!")
    if english is None:
        await chat.press("mara", "Skip")
    else:
        await chat.send("mara", english)
    await chat.send("mara", "10 €")
    await chat.send("mara", "100")
    await chat.send("mara", "31.12.2026")
    return await chat.press("mara", "Only residents of the town")


async def test_marketing_creates_confirms_and_sends_a_campaign(
    chat: Transcript, city: City
) -> None:
    await make_person(chat, "mara", role="marketing", language="en")
    anna = await make_person(chat, "anna", opted_in=True)  # German
    ben = await make_person(chat, "ben", language="en", opted_in=True)
    await make_person(chat, "carl", opted_in=False)  # never asked for offers
    await make_person(chat, "dora", postal_code="48149", opted_in=True)  # lives in Münster

    shown = await _fill_form(chat)
    assert "• Value of a voucher: €10.00" in shown
    assert "Budget: €1,000.00 (100 vouchers of €10.00)." in shown
    shown = await chat.press("mara", "Send")
    assert "Campaign Winterzauber: 100 vouchers of €10.00, claims until 31 Dec 2026." in shown
    assert "2 residents who signed up would receive it now." in shown  # not carl, not dora
    [campaign] = await _campaigns(chat)
    assert campaign.status == DRAFT
    assert await count(chat.db, Notification) == 0  # nothing before the confirmation

    shown = await chat.press("mara", "Yes, send now")
    assert "Sent: 2 messages are on their way; delivering them all takes about 1 min." in shown
    [campaign] = await _campaigns(chat)
    assert campaign.status == SENT and campaign.recipients == 2

    german = await chat.notifications("anna")
    assert "Frohe Weihnachten aus Ahaus!" in german
    assert "Für Sie: ein Stadtgutschein im Wert von 10,00\xa0€" in german
    assert "abzuholen bis 31.12.2026" in german
    assert "▸ Gutschein abholen" in german and "▸ Abbestellen" in german
    assert "[1]" not in german  # a notification's options go by label, not by a bare number
    english = await chat.notifications("ben")
    assert "Merry Christmas from Ahaus!" in english and "Frohe" not in english
    assert "▸ Claim voucher" in english
    assert await chat.notifications("carl") == ""
    assert await chat.notifications("dora") == ""

    await chat.press("ben", "Claim voucher")
    [voucher] = await vouchers_of(chat.db, ben)
    async with chat.db.uow() as uow:
        await redemption.redeem(
            uow,
            city,
            merchant_key="cafe-am-schloss",
            actor_citizen_id=None,
            voucher_id=voucher.id or 0,
            amount_cents=350,
            idempotency_key="test-1",
            now=chat.clock.now(),
        )
        await uow.commit()

    shown = await chat.send("mara", "/campaigns")
    assert "Winterzauber – sent" in shown
    assert "Sent: 2 · delivered: 2 · not deliverable: 0" in shown
    assert "Claimed: 1 of 100 vouchers (€10.00) · redeemed: €3.50" in shown
    assert "Budget: €1,000.00 · remaining: €990.00 · claims until 31 Dec 2026" in shown
    assert anna  # anna has not claimed: her voucher is still in the remaining budget
    async with chat.db.uow() as uow:
        actions = list(
            (
                await uow.session.execute(
                    select(AuditEntry.action).where(AuditEntry.subject == f"campaign:{campaign.id}")
                )
            ).scalars()
        )
    assert actions == ["campaign.create", "campaign.send", "campaign.claim"]


async def test_german_text_when_there_is_no_english_one(chat: Transcript, city: City) -> None:
    await make_person(chat, "mara", role="marketing", language="en")
    await make_person(chat, "ben", language="en", opted_in=True)
    await _fill_form(chat, english=None)
    await chat.press("mara", "Send")
    await chat.press("mara", "Yes, send now")
    shown = await chat.notifications("ben")
    assert "Frohe Weihnachten aus Ahaus!" in shown
    assert "For you: a city voucher worth €10.00" in shown  # the frame is in his language


async def test_bad_answers_are_asked_again(chat: Transcript) -> None:
    await make_person(chat, "mara", role="marketing", language="en")
    await chat.send("mara", "/campaigns")
    await chat.press("mara", "New campaign")
    await chat.send("mara", "Frühlingserwachen")
    await chat.send("mara", "Der Frühling ist da!")
    await chat.press("mara", "Skip")
    shown = await chat.send("mara", "500")
    assert "A campaign voucher can be worth at most €50.00." in shown
    shown = await chat.send("mara", "zehn")
    assert "(4/7)" in shown
    await chat.send("mara", "50")
    shown = await chat.send("mara", "0")
    assert "Please enter a number from 1 to 50000." in shown
    await chat.send("mara", "5000")
    shown = await chat.send("mara", "24.11.2026")
    assert "This day has passed." in shown
    shown = await chat.send("mara", "31.02.2027")
    assert "does not exist" in shown
    shown = await chat.send("mara", "01.01.2030")
    assert "at most 365 days ahead" in shown
    await chat.send("mara", "31.03.2027")
    shown = await chat.press("mara", "Everyone who signed up")
    # 5,000 × 50 € = 250,000 € is more than a campaign may have: the number is asked again
    assert "The budget (€250,000.00) is more than a campaign may have (€50,000.00)." in shown
    assert "How many vouchers are there?" in shown
    shown = await chat.send("mara", "200")
    assert "Budget: €10,000.00 (200 vouchers of €50.00)." in shown
    assert await count(chat.db, Campaign) == 0


async def test_a_double_confirmation_sends_once(chat: Transcript, city: City) -> None:
    await make_person(chat, "mara", role="marketing", language="en")
    await make_person(chat, "anna", opted_in=True)
    await _fill_form(chat)
    await chat.press("mara", "Send")
    [confirmation] = chat.last["mara"]
    token = menus.pack(confirmation.menu, 0)
    await chat.choose("mara", token)
    shown = await chat.choose("mara", token)  # the same button again (a double tap)
    assert "This menu is outdated" in shown
    assert await count(chat.db, Notification) == 1


async def test_residents_and_merchants_cannot_run_campaigns(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing", language="en")
    await make_person(chat, "anna", language="en", opted_in=True)
    await make_person(chat, "carla", role="merchant", scope="cafe-am-schloss", language="en")
    for user in ("anna", "carla"):
        shown = await chat.send(user, "/campaigns")
        assert "only authorised staff can do this. Nothing was changed." in shown
        shown = await chat.send(user, "/start")
        assert "Voucher campaigns" not in shown

    # mara prepares a campaign, then loses the role: her open confirmation does nothing
    await _fill_form(chat)
    await chat.press("mara", "Send")
    async with chat.db.uow() as uow:
        await identity.revoke_role(uow, mara, "marketing", "", now=chat.clock.now(), by="test")
        await uow.commit()
    shown = await chat.press("mara", "Yes, send now")
    assert "only authorised staff can do this. Nothing was changed." in shown
    [campaign] = await _campaigns(chat)
    assert campaign.status == DRAFT
    assert await count(chat.db, Notification) == 0
    assert await count(chat.db, AuditEntry, AuditEntry.action == "campaign.send") == 0


async def test_stopping_ends_the_claims(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing", language="en")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    await sent_campaign(chat, city, mara)
    await chat.notifications("anna")
    await chat.send("mara", "/campaigns")
    await chat.press("mara", "Winterzauber")
    await chat.press("mara", "Stop the campaign")
    shown = await chat.press("mara", "Yes, stop it")
    assert "The campaign Winterzauber is stopped." in shown
    shown = await chat.press("anna", "Claim voucher")
    assert "This campaign has ended. Thank you for your interest!" in shown
    assert await vouchers_of(chat.db, anna) == []
    [campaign] = await _campaigns(chat)
    assert campaign.status == STOPPED and campaign.claimed == 0
    shown = await chat.send("mara", "/campaigns")
    assert "Winterzauber – stopped" in shown


async def test_offers_not_yet_delivered_are_withdrawn(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing", language="en")
    await make_person(chat, "anna", language="en", opted_in=True)
    await make_person(chat, "ben", language="en", opted_in=True)
    await sent_campaign(chat, city, mara)
    # anna unsubscribes before her offer was delivered: it is not sent any more
    await chat.send("anna", "/news off")
    assert await chat.notifications("anna") == ""
    await chat.notifications("ben")
    shown = await chat.send("mara", "/campaigns")
    assert "Sent: 2 · delivered: 1 · not deliverable: 0" in shown
    assert "Not sent (stopped or unsubscribed before delivery): 1" in shown

    # a stopped campaign is not delivered to those still waiting
    await make_person(chat, "carl", language="en", opted_in=True)
    second = await sent_campaign(chat, city, mara)
    async with chat.db.uow() as uow:
        await campaigns.stop(uow, second, mara, now=chat.clock.now())
        await uow.commit()
    assert await chat.notifications("carl") == ""
    assert await count(chat.db, Notification, Notification.status == "cancelled") == 3


async def test_nobody_signed_up_nothing_is_sent(chat: Transcript, city: City) -> None:
    await make_person(chat, "mara", role="marketing", language="en")
    await make_person(chat, "anna", language="en")  # has not signed up
    await _fill_form(chat)
    shown = await chat.press("mara", "Send")
    assert "0 residents who signed up would receive it now." in shown
    assert "Yes, send now" not in shown
    [campaign] = await _campaigns(chat)
    async with chat.db.uow() as uow:
        with pytest.raises(Conflict):
            await campaigns.send(
                uow, city, campaign.id or 0, campaign.created_by or 0, now=chat.clock.now()
            )
    [campaign] = await _campaigns(chat)
    assert campaign.status == DRAFT
