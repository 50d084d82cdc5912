"""Identity: profile, /link across channels, roles, /mydata and /deleteme."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import String, Text, func, select
from sqlmodel import SQLModel

from flows.types import Inbound
from services import notify
from services.clock import FrozenClock
from services.identity import accounts as identity
from storage.db import Database
from storage.models.identity import ChannelAccount, Citizen, RoleGrant
from tests.support.chat import Transcript


async def fill_profile(chat: Transcript, user: str) -> None:
    await chat.send(user, "/profile")
    for number, value in [
        ("1", "Anna"),
        ("2", "Schulte"),
        ("3", "Marktstraße 7"),
        ("4", "48683"),
        ("5", "Ahaus"),
        ("6", "anna.schulte@example.org"),
        ("7", "02561 12345"),
    ]:
        await chat.send(user, number)
        answer = await chat.send(user, value)
        assert "Gespeichert" in answer, answer


async def telegram(chat: Transcript, line: str, user: str = "4711") -> str:
    if line.startswith("/"):
        command, _sep, args = line[1:].partition(" ")
        inbound = Inbound(
            channel="telegram",
            user_id=user,
            chat_id=user,
            kind="command",
            command=command,
            text=args,
            key=f"tg-{line}-{chat.clock.now()}",
        )
    else:
        inbound = Inbound(
            channel="telegram",
            user_id=user,
            chat_id=user,
            kind="text",
            text=line,
            key=f"tg-{line}-{chat.clock.now()}",
        )
    return await chat.handle(inbound)


def link_code(answer: str) -> str:
    found = re.search(r"/link ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z])", answer)
    assert found, answer
    return found.group(1)


async def test_profile_is_validated_and_saved(chat: Transcript, db: Database) -> None:
    await fill_profile(chat, "anna")
    async with db.uow() as uow:
        citizen = (await uow.session.execute(select(Citizen))).scalar_one()
        assert citizen.full_name == "Anna Schulte"
        assert citizen.postal_address == "Marktstraße 7, 48683 Ahaus"
    await chat.send("anna", "/profile")
    await chat.send("anna", "6")
    answer = await chat.send("anna", "not-an-address")
    assert "E-Mail-Adresse" in answer
    answer = await chat.press("anna", "entfernen")
    assert "Entfernt" in answer and "E-Mail: keine Angabe" in answer


async def test_link_joins_two_channels_to_one_resident(chat: Transcript, db: Database) -> None:
    await fill_profile(chat, "anna")
    code = link_code(await chat.send("anna", "/link"))
    await telegram(chat, "/start")
    answer = await telegram(chat, f"/link {code.lower()}")
    assert "gehört jetzt zu Ihrem Konto" in answer and "Console" in answer and "Telegram" in answer
    async with db.uow() as uow:
        accounts = (await uow.session.execute(select(ChannelAccount))).scalars().all()
        assert len({a.citizen_id for a in accounts}) == 1
        assert (
            await uow.session.execute(select(func.count()).select_from(Citizen))
        ).scalar_one() == 1
    assert "Vorname: Anna" in await telegram(chat, "/profile")
    # the code was single use
    await telegram(chat, "/start", user="999")
    assert "abgelaufen oder wurde schon benutzt" in await telegram(
        chat, f"/link {code}", user="999"
    )


async def test_link_code_expires_after_ten_minutes(chat: Transcript, clock: FrozenClock) -> None:
    code = link_code(await chat.send("anna", "/link"))
    clock.advance(timedelta(minutes=10, seconds=1))
    await telegram(chat, "/start")
    assert "abgelaufen" in await telegram(chat, f"/link {code}")


async def test_wrong_link_codes_are_limited(chat: Transcript, clock: FrozenClock) -> None:
    real = link_code(await chat.send("anna", "/link"))
    await telegram(chat, "/start")
    typo = real[:-1] + ("0" if real[-1] != "0" else "1")
    assert "Tippfehler" in await telegram(chat, f"/link {typo}")
    for attempt in range(4):
        clock.advance(timedelta(seconds=1))
        assert "kein Verknüpfungscode" in await telegram(chat, f"/link nonsense{attempt}xx")
    clock.advance(timedelta(seconds=1))
    answer = await telegram(chat, f"/link {real}")  # the 6th try, even with the right code
    assert "Zu viele falsche Codes" in answer
    clock.advance(timedelta(minutes=10, seconds=1))
    fresh = link_code(await chat.send("anna", "/link"))
    assert "gehört jetzt zu Ihrem Konto" in await telegram(chat, f"/link {fresh}")


async def test_roles_are_granted_with_scope(db: Database, clock: FrozenClock) -> None:
    async with db.uow() as uow:
        citizen, _ = await identity.contact(
            uow, channel="console", external_id="petra", chat_id="petra", now=clock.now()
        )
        assert citizen.id is not None
        await identity.grant_role(
            uow, citizen.id, "staff", "buergerbuero", now=clock.now(), by="test"
        )
        assert ("staff", "buergerbuero") in await identity.roles_of(uow, citizen.id)
        await uow.commit()
    async with db.uow() as uow:
        assert (
            await uow.session.execute(select(func.count()).select_from(RoleGrant))
        ).scalar_one() == 1


async def test_mydata_exports_everything_as_a_file(chat: Transcript, tmp_path: Path) -> None:
    await fill_profile(chat, "anna")
    answer = await chat.send("anna", "/mydata")
    assert "JSON-Datei" in answer
    media = next(r.media for r in chat.last["anna"] if r.media is not None)
    exported = json.loads(media.data)
    assert exported["data"]["citizen"]["email"] == "anna.schulte@example.org"
    assert exported["data"]["channel_account"][0]["channel"] == "console"
    assert "conversation" in exported["data"]


def _text_columns() -> list[tuple[str, str]]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text) or column.type.__class__.__name__ in (
                "JSON",
                "AutoString",
            ):
                found.append((table.name, column.name))
    return found


async def test_deleteme_leaves_no_personal_data_in_any_table(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    await fill_profile(chat, "anna")
    await chat.send("anna", "/link")
    await telegram(chat, "/start")
    async with db.uow() as uow:
        anna = (
            await uow.session.execute(select(Citizen).where(Citizen.first_name == "Anna"))
        ).scalar_one()
        assert anna.id is not None
        notify.notify_citizen(
            uow,
            anna.id,
            "Hello {name}, welcome to Stadtlotse, the digital city guide of {city}.",
            {"name": "Anna Schulte", "city": "anna.schulte@example.org"},
            now=clock.now(),
        )
        await uow.commit()
    await chat.send("anna", "/deleteme")
    answer = await chat.press("anna", "Ja, meine Daten löschen")
    assert "gelöscht" in answer
    needles = ["Anna", "Schulte", "anna.schulte@example.org", "Marktstraße", "12345"]
    async with db.uow() as uow:
        for table_name, column_name in _text_columns():
            table = SQLModel.metadata.tables[table_name]
            rows = (await uow.session.execute(select(table.c[column_name]))).scalars().all()
            for value in rows:
                text = (
                    json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                )
                for needle in needles:
                    assert needle not in (text or ""), (
                        f"{needle!r} left in {table_name}.{column_name}"
                    )
        citizen = (await uow.session.execute(select(Citizen))).scalars().all()
        assert all(c.deleted_at is not None for c in citizen if c.id == anna.id)
    # writing again starts as a new user
    assert "willkommen" in await chat.send("anna", "/start")
