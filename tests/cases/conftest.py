"""Helpers for the forms, cases, staff room and helper tests."""

from __future__ import annotations

import pytest

from services import identity
from storage.db import Database
from tests.support.chat import Transcript

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def citizen_id(db: Database, user: str) -> int:
    async with db.uow() as uow:
        account = await identity.find_account(uow, "console", user)
        assert account is not None
        return account.citizen_id


async def make_person(
    chat: Transcript, user: str, first: str, last: str, *, role: str = "", scope: str = ""
) -> int:
    """A console user with a profile (and optionally a staff role)."""
    await chat.send(user, "/start")
    async with chat.db.uow() as uow:
        account = await identity.find_account(uow, "console", user)
        assert account is not None
        from storage.models.identity import Citizen

        citizen = await uow.session.get(Citizen, account.citizen_id)
        assert citizen is not None
        citizen.first_name, citizen.last_name = first, last
        citizen.street, citizen.postal_code, citizen.town = "Marktstraße 5", "48683", "Ahaus"
        citizen.email, citizen.phone = f"{user}@example.org", "02561 12345"
        if role:
            await identity.grant_role(uow, account.citizen_id, role, scope, now=chat.clock.now(),
                                      by="test")
        await uow.commit()
        return account.citizen_id


@pytest.fixture
async def people(chat: Transcript) -> dict[str, int]:
    return {
        "anna": await make_person(chat, "anna", "Anna", "Schulte"),
        "ben": await make_person(chat, "ben", "Ben", "Terhaar"),
        "petra": await make_person(chat, "petra", "Petra", "Wessels", role="staff",
                                   scope="buergerbuero"),
        "stefan": await make_person(chat, "stefan", "Stefan", "Kock", role="staff",
                                    scope="steuern"),
        "olga": await make_person(chat, "olga", "Olga", "Brinkhaus", role="staff",
                                  scope="ordnung"),
        "kira": await make_person(chat, "kira", "Kira", "Elskamp", role="staff", scope="kita"),
        "lotte": await make_person(chat, "lotte", "Lotte", "Niehues", role="staff",
                                   scope="lotsen"),
    }
