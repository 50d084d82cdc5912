"""People, places and helpers for the defect report tests."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from services.defects.places import EARTH_RADIUS_M
from storage.models.defects import DefectReport
from tests.cases.conftest import make_person
from tests.support.chat import Transcript

WALLSTRASSE = (52.07718, 7.00618)  # the configured point of the street
MARKT = (52.07632, 7.00802)
MUENSTER = (51.9607, 7.6261)  # 40 km away: outside the town


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + math.degrees(metres / EARTH_RADIUS_M), point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    dlon = math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(point[0]))))
    return point[0], point[1] + dlon


def located(point: tuple[float, float]) -> str:
    return f"@location {point[0]:.7f},{point[1]:.7f}"


@pytest.fixture
async def people(chat: Transcript) -> dict[str, int]:
    people = {
        "anna": await make_person(chat, "anna", "Anna", "Schulte"),
        "ben": await make_person(chat, "ben", "Ben", "Terhaar"),
        "carla": await make_person(chat, "carla", "Carla", "Bünker"),
        "bodo": await make_person(chat, "bodo", "Bodo", "Lammers", role="staff", scope="bauhof"),
        "olga": await make_person(chat, "olga", "Olga", "Brinkhaus", role="staff", scope="ordnung"),
    }
    await chat.send("ben", "/language en")
    return people


async def all_reports(chat: Transcript) -> list[DefectReport]:
    async with chat.db.uow() as uow:
        result = await uow.session.execute(select(DefectReport).order_by(DefectReport.id))
        found = list(result.scalars())
        uow.session.expunge_all()  # keep them readable after the unit of work ends
        return found


async def report_anna(chat: Transcript, where: tuple[float, float] = WALLSTRASSE) -> int:
    """Anna reports a broken street light (German, three messages plus a location)."""
    await chat.send("anna", "Laterne kaputt")
    await chat.send("anna", located(where))
    await chat.send("anna", "Leuchtet seit drei Tagen nicht, Mast Nr. 0412")
    done = await chat.send("anna", "ja")
    assert "Danke! Ihre Meldung Nr." in done
    return (await all_reports(chat))[-1].id or 0
