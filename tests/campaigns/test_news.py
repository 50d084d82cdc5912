"""Residents choose whether they want news and offers: off by default, on and off by command,
keyword, profile and the Unsubscribe button under every campaign message; each change is kept
with its time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.campaigns import news
from services.city import City
from storage.models.campaigns import NewsConsent
from storage.models.outbox import AuditEntry, Notification
from tests.campaigns.conftest import count, make_person, sent_campaign
from tests.support.chat import Transcript


async def _consent(chat: Transcript, cid: int) -> NewsConsent | None:
    async with chat.db.uow() as uow:
        found = await news.consent(uow, cid)
        if found is not None:
            uow.session.expunge(found)  # keep its values after the session ends
        return found


async def test_news_are_off_until_the_resident_switches_them_on(chat: Transcript) -> None:
    anna = await make_person(chat, "anna", language="en", verified=False)
    shown = await chat.send("anna", "/news")
    assert "Currently: off." in shown
    assert await _consent(chat, anna) is None

    shown = await chat.press("anna", "Yes, send me news and offers")
    assert "You will now get news and offers from Ahaus" in shown
    consent = await _consent(chat, anna)
    assert consent is not None and consent.opted_in and consent.via == "menu"
    assert consent.changed_at == chat.clock.now()

    chat.clock.advance(timedelta(days=3))
    shown = await chat.send("anna", "/news off")
    assert "you get no more news and offers" in shown
    consent = await _consent(chat, anna)
    assert consent is not None and not consent.opted_in
    assert consent.changed_at == chat.clock.now() and consent.via == "command"

    async with chat.db.uow() as uow:
        trail = (
            await uow.session.execute(
                select(AuditEntry.action, AuditEntry.at, AuditEntry.details)
                .where(AuditEntry.subject == f"citizen:{anna}")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(a, d["via"]) for a, _at, d in trail] == [
        ("news.opt_in", "menu"),
        ("news.opt_out", "command"),
    ]
    assert trail[1][1] - trail[0][1] == timedelta(days=3)


async def test_keyword_and_profile_entry_in_german(chat: Transcript) -> None:
    anna = await make_person(chat, "anna")
    shown = await chat.send("anna", "Angebote")
    assert "Derzeit: ausgeschaltet." in shown
    shown = await chat.send("anna", "/profil")
    assert "Neuigkeiten und Angebote: aus" in shown
    shown = await chat.press("anna", "Neuigkeiten und Angebote")
    shown = await chat.press("anna", "Ja, Neuigkeiten und Angebote erhalten")
    assert "Sie erhalten jetzt Neuigkeiten und Angebote aus Ahaus" in shown
    shown = await chat.press("anna", "Mein Profil")
    assert "Neuigkeiten und Angebote: ein" in shown
    shown = await chat.send("anna", "newsletter")
    assert "Derzeit: eingeschaltet." in shown
    shown = await chat.press("anna", "Ausschalten")
    assert "keine Neuigkeiten und Angebote aus Ahaus mehr" in shown
    assert (await _consent(chat, anna)) is not None
    assert not (await _consent(chat, anna)).opted_in  # type: ignore[union-attr]


async def test_switching_on_twice_records_one_change(chat: Transcript) -> None:
    anna = await make_person(chat, "anna", language="en", verified=False)
    await chat.send("anna", "/news on")
    await chat.send("anna", "/news on")
    assert await count(chat.db, AuditEntry, AuditEntry.subject == f"citizen:{anna}") == 1


async def test_unsubscribe_button_under_the_campaign_message(chat: Transcript, city: City) -> None:
    mara = await make_person(chat, "mara", role="marketing")
    anna = await make_person(chat, "anna", language="en", opted_in=True)
    await make_person(chat, "ben", language="en", opted_in=True)
    await sent_campaign(chat, city, mara)
    shown = await chat.notifications("anna")
    assert "You get this message because you signed up for news and offers" in shown
    shown = await chat.press("anna", "Unsubscribe")
    assert "you get no more news and offers from Ahaus" in shown
    consent = await _consent(chat, anna)
    assert consent is not None and not consent.opted_in and consent.via == "button"

    second = await sent_campaign(chat, city, mara)
    assert await count(chat.db, Notification, Notification.ref == f"campaign:{second}") == 1
    assert await count(chat.db, Notification, Notification.citizen_id == anna) == 1
