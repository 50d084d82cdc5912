"""Digital key tests: residents, a fake payment provider, and helpers that book through the
service directly (the chat transcripts are in test_flow.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.city import City
from services.clock import FrozenClock
from services.env import Env
from services.keys import booking as svc
from services.keys import records
from services.keys.config import rules as key_rules
from services.keys.records import KeyBooking
from storage.db import Database
from tests.cases.conftest import make_person
from tests.events.conftest import FakeProvider
from tests.support.chat import Transcript

BOXES = "fahrradbox-bahnhof"
ROOM = "gemeinschaftsraum-wuellen"


@pytest.fixture
async def people(chat: Transcript) -> dict[str, int]:
    people = {
        "anna": await make_person(chat, "anna", "Anna", "Schulte"),
        "ben": await make_person(chat, "ben", "Ben", "Terhaar"),
        "carla": await make_person(chat, "carla", "Carla", "Bünker"),
    }
    await chat.send("ben", "/language en")
    return people


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def pay_chat(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path, provider: FakeProvider
) -> Transcript:
    return Transcript(db, city, clock, media_dir=tmp_path / "media", payments=provider)


def slot_start(env: Env, facility: str, day_offset: int = 0, number: int = 0) -> datetime:
    """The start of slot `number` on today + `day_offset` (in the city's time zone)."""
    from datetime import timedelta

    from services.keys.config import slots_on

    rules = key_rules(env.city)
    found = rules.facility(facility)
    assert found is not None
    day = env.now().astimezone(env.city.tz).date() + timedelta(days=day_offset)
    return slots_on(found, day, env.city.tz)[number].starts_at.astimezone(UTC)


async def book(
    db: Database,
    env: Env,
    citizen_id: int,
    facility: str = BOXES,
    *,
    day_offset: int = 0,
    number: int = 0,
) -> KeyBooking:
    async with db.uow() as uow:
        result = await svc.book(
            uow,
            env,
            citizen_id=citizen_id,
            facility_key=facility,
            starts_at=slot_start(env, facility, day_offset, number),
            now=env.now(),
        )
        await uow.commit()
        uow.session.expunge(result.booking)
        return result.booking


async def fresh(db: Database, booking_id: int) -> KeyBooking:
    async with db.uow() as uow:
        found = await records.get_booking(uow, booking_id)
        uow.session.expunge(found)
        return found
