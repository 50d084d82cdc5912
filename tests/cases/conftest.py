"""Helpers for the forms, cases, staff room and helper tests."""

from __future__ import annotations

import pytest

from services.identity import accounts as identity
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
            await identity.grant_role(
                uow, account.citizen_id, role, scope, now=chat.clock.now(), by="test"
            )
        await uow.commit()
        return account.citizen_id


@pytest.fixture
async def people(chat: Transcript) -> dict[str, int]:
    return {
        "anna": await make_person(chat, "anna", "Anna", "Schulte"),
        "ben": await make_person(chat, "ben", "Ben", "Terhaar"),
        "petra": await make_person(
            chat, "petra", "Petra", "Wessels", role="staff", scope="buergerbuero"
        ),
        "stefan": await make_person(
            chat, "stefan", "Stefan", "Kock", role="staff", scope="steuern"
        ),
        "olga": await make_person(chat, "olga", "Olga", "Brinkhaus", role="staff", scope="ordnung"),
        "kira": await make_person(chat, "kira", "Kira", "Elskamp", role="staff", scope="kita"),
        "lotte": await make_person(chat, "lotte", "Lotte", "Niehues", role="staff", scope="lotsen"),
    }


class Press(str):
    """A step that presses a button (by part of its label) instead of typing."""


class Upload:
    def __init__(self, filename: str, mime: str, data: bytes) -> None:
        self.filename, self.mime, self.data = filename, mime, data


async def walk(chat: Transcript, user: str, *steps: object) -> str:
    """Send each step in turn; return the last answer."""
    answer = ""
    for step in steps:
        if isinstance(step, Press):
            answer = await chat.press(user, step)
        elif isinstance(step, Upload):
            answer = await chat.upload(user, step.filename, step.mime, step.data)
        else:
            answer = await chat.send(user, str(step))
    return answer


def media_of(chat: Transcript, chat_id: str) -> list[tuple[str, bytes]]:
    return [(r.media.filename, r.media.data) for r in chat.last.get(chat_id, []) if r.media]


async def submit_case(
    chat: Transcript, citizen: int, form: str = "dogtax", department: str = "steuern", **answers
) -> str:
    """A case as if the form had been sent (for staff-side tests); returns its reference."""
    from services.cases import records as cases

    values = {"dog_name": "Bello", "breed": "Labrador", "chip": "276100000000001"}
    values.update(answers)
    async with chat.db.uow() as uow:
        case = await cases.submit(
            uow,
            chat.city,
            citizen_id=citizen,
            form=form,
            department=department,
            answers=values,
            summary="Bello (Labrador)",
            now=chat.clock.now(),
        )
        await uow.commit()
        return case.reference


async def case_state(chat: Transcript, reference: str) -> tuple[object, ...]:
    """Everything a staff action could change: status, assignee, events, resident messages."""
    from sqlalchemy import func, select

    from storage.models.cases import Case, CaseEvent
    from storage.models.outbox import AuditEntry, Notification

    async with chat.db.uow() as uow:
        case = (
            await uow.session.execute(select(Case).where(Case.reference == reference))
        ).scalar_one()
        events = (
            await uow.session.execute(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)
            )
        ).scalar_one()
        to_resident = (
            await uow.session.execute(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.citizen_id == case.citizen_id,
                    Notification.department.is_(None),
                )
            )
        ).scalar_one()
        audit = (
            await uow.session.execute(select(func.count()).select_from(AuditEntry))
        ).scalar_one()
        return (case.status, case.assignee_id, case.updated_at, events, to_resident, audit)
