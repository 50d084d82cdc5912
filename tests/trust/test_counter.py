"""Identity checked in person at the Bürgerbüro counter, as console transcripts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from services.trust import card as cards
from services.trust import checks, tokens
from storage.models.identity import Citizen
from storage.models.outbox import AuditEntry
from storage.models.trust import IdentityCheck
from tests.support.chat import Transcript


async def ask_code(chat: Transcript, user: str = "anna", birth: str = "14.03.1985") -> str:
    answer = await chat.send(user, "/ausweis")
    assert "Geburtsdatum" in answer
    answer = await chat.send(user, birth)
    assert "Ihr Prüfcode ist" in answer
    assert "Ausweises wird nicht gespeichert" in answer
    assert any(r.media and r.media.filename == "ausweis.png" for r in chat.last[user])
    found = re.search(r"Prüfcode ist (\S+)\.", answer)
    assert found is not None
    return found[1]


async def test_counter_check_with_a_typo_corrected(
    chat: Transcript, people: dict[str, int]
) -> None:
    code = await ask_code(chat)
    shown = await chat.send("petra", f"/verify {code}", room="buergerbuero")
    assert "Identitätsprüfung für Bürger-ID" in shown
    assert "Anna" in shown and "Schulte" in shown and "14.03.1985" in shown
    assert "Marktstraße 5" in shown
    await chat.press("petra", "Korrigieren: Straße", room="buergerbuero")
    shown = await chat.send("petra", "Marktstraße 4", room="buergerbuero")
    assert "Marktstraße 4" in shown
    done = await chat.press("petra", "Bestätigen", room="buergerbuero")
    assert "✅ Bestätigt: Anna Schulte ist persönlich geprüft." in done
    assert "Einwohnerkarte liegt jetzt" in done
    told = await chat.notifications("anna")
    assert "Ihre Identität wurde im Bürgerbüro persönlich geprüft" in told
    assert "Ahaus-Karte" in told

    async with chat.db.uow() as uow:
        check = (await uow.session.execute(select(IdentityCheck))).scalar_one()
        assert (check.level, check.verified_by, check.street) == (
            "verified",
            people["petra"],
            "Marktstraße 4",
        )
        audit = (
            await uow.session.execute(
                select(AuditEntry).where(AuditEntry.action == "identity.verify")
            )
        ).scalar_one()
        assert audit.actor_citizen_id == people["petra"]
        assert audit.subject == f"citizen:{people['anna']}"
        citizen = await uow.session.get(Citizen, people["anna"])
        assert citizen is not None
        assert (await checks.level_of(uow, citizen)).level == "verified"

    # used once: the second time is refused
    again = await chat.send("petra", f"/verify {code}", room="buergerbuero")
    assert "schon verwendet" in again
    profile = await chat.send("anna", "/profile")
    assert "Identität: persönlich geprüft am" in profile


async def test_other_departments_and_late_codes_are_refused(
    chat: Transcript, people: dict[str, int]
) -> None:
    code = await ask_code(chat)
    refused = await chat.send("stefan", f"/verify {code}", room="steuern")
    assert "Nur Mitarbeitende des Bürgerbüros" in refused
    resident = await chat.send("ben", f"/verify {code}")
    assert "Bürger-ID" not in resident  # a resident is not even shown the command
    broken = code[:-1] + ("A" if code[-1] != "A" else "B")
    typo = await chat.send("petra", f"/verify {broken}", room="buergerbuero")
    assert "Tippfehler" in typo or "unbekannt" in typo
    chat.clock.advance(timedelta(minutes=15))
    late = await chat.send("petra", f"/verify {code}", room="buergerbuero")
    assert "abgelaufen" in late
    async with chat.db.uow() as uow:
        assert (await uow.session.execute(select(IdentityCheck))).first() is None


async def test_a_changed_address_ends_the_check_and_revokes_the_card(
    chat: Transcript, people: dict[str, int]
) -> None:
    code = await ask_code(chat)
    await chat.send("petra", f"/verify {code}", room="buergerbuero")
    await chat.press("petra", "Bestätigen", room="buergerbuero")
    async with chat.db.uow() as uow:
        card = await cards.current(uow, people["anna"], chat.clock.now())
        assert card is not None
        token = card.token
    await chat.send("anna", "/profile")
    await chat.press("anna", "Postleitzahl")
    moved = await chat.send("anna", "48599")
    assert "gilt die Prüfung Ihrer Identität nicht mehr" in moved
    assert "Ihre Einwohnerkarte ist nicht mehr gültig" in moved
    async with chat.db.uow() as uow:
        verdict = await tokens.check_online(uow, token, kind="card", now=chat.clock.now())
        assert verdict.reason == "revoked"
        citizen = await uow.session.get(Citizen, people["anna"])
        assert citizen is not None
        assert (await checks.level_of(uow, citizen)).level == "basic"
    wallet = await chat.send("anna", "/wallet")
    assert "Ahaus-Karte" not in wallet


async def test_staff_take_a_check_back_with_a_reason(
    chat: Transcript, people: dict[str, int]
) -> None:
    code = await ask_code(chat)
    await chat.send("petra", f"/verify {code}", room="buergerbuero")
    await chat.press("petra", "Bestätigen", room="buergerbuero")
    await chat.notifications("anna")
    anna = people["anna"]
    refused = await chat.send("stefan", f"/unverify {anna} wrong", room="steuern")
    assert "Nur Mitarbeitende des Bürgerbüros" in refused
    asked = await chat.send("petra", f"/unverify {anna}", room="buergerbuero")
    assert "Warum" in asked
    done = await chat.send("petra", "Ausweis als gestohlen gemeldet", room="buergerbuero")
    assert f"Die Identitätsprüfung von Bürger-ID {anna} wurde zurückgenommen" in done
    told = await chat.notifications("anna")
    assert "Ausweis als gestohlen gemeldet" in told
    async with chat.db.uow() as uow:
        check = (await uow.session.execute(select(IdentityCheck))).scalar_one()
        assert check.end_reason == "Ausweis als gestohlen gemeldet"
        assert await cards.current(uow, anna, chat.clock.now()) is None
        assert len(await tokens.revoked_ids(uow)) == 1
        actions = (await uow.session.execute(select(AuditEntry.action))).scalars().all()
        assert "identity.revoke" in actions
    again = await chat.send("petra", f"/unverify {anna} nochmal", room="buergerbuero")
    assert "gilt keine Identitätsprüfung" in again


async def test_english_wording(chat: Transcript, people: dict[str, int]) -> None:
    async with chat.db.uow() as uow:
        citizen = await uow.session.get(Citizen, people["ben"])
        assert citizen is not None
        citizen.language = "en"
        await uow.commit()
    asked = await chat.send("ben", "verify identity")
    assert "date of birth" in asked
    given = await chat.send("ben", "1.2.1990")
    assert "Your verification code is" in given


async def test_a_check_again_with_a_corrected_name_renews_the_card(
    chat: Transcript, people: dict[str, int]
) -> None:
    code = await ask_code(chat)
    await chat.send("petra", f"/verify {code}", room="buergerbuero")
    await chat.press("petra", "Bestätigen", room="buergerbuero")
    async with chat.db.uow() as uow:
        first = await cards.current(uow, people["anna"], chat.clock.now())
        assert first is not None
        old_token = first.token
    again = await chat.send("anna", "/ausweis")
    assert "persönlich geprüft" in again
    answer = await chat.press("anna", "Erneut prüfen lassen")
    found = re.search(r"Prüfcode ist (\S+)\.", answer)
    assert found is not None
    await chat.send("petra", f"/verify {found[1]}", room="buergerbuero")
    await chat.press("petra", "Korrigieren: Vorname", room="buergerbuero")
    await chat.send("petra", "Anne", room="buergerbuero")
    await chat.press("petra", "Bestätigen", room="buergerbuero")
    async with chat.db.uow() as uow:
        card = await cards.current(uow, people["anna"], chat.clock.now())
        assert card is not None and card.token != old_token
        assert tokens.claims_of(card.token)["first_name"] == "Anne"
        old = await tokens.check_online(uow, old_token, kind="card", now=chat.clock.now())
        assert old.reason == "revoked"
        checks_made = (await uow.session.execute(select(IdentityCheck))).scalars().all()
        assert [c.ended_at is None for c in checks_made] == [False, True]


async def test_a_form_needing_a_check_says_so_before_sending(
    chat: Transcript, people: dict[str, int]
) -> None:
    from flows.forms import SUMMARY_NOTES

    assert SUMMARY_NOTES  # trust's note is registered
    from flows.trust import form_note

    async with chat.db.uow() as uow:
        from flows.context import Ctx

        citizen = await uow.session.get(Citizen, people["ben"])
        assert citizen is not None
        ctx = Ctx(
            uow=uow,
            now=chat.clock.now(),
            env=chat.env,
            citizen=citizen,
            account=None,  # type: ignore[arg-type]
            inbound=None,  # type: ignore[arg-type]
            roles=set(),
        )
        assert "Bürgerbüro persönlich geprüft" in " ".join(await form_note(ctx, "business"))
        assert await form_note(ctx, "dogtax") == []
