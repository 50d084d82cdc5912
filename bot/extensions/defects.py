"""Defect reports: the configuration check at start and the demo reports around the market
square (and the Baubetriebshof's demo staff member Bodo)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.bootstrap import App
from services.cases.records import Actor
from services.city import CityConfigError
from services.defects import actions, reports
from services.defects.config import check_departments
from services.defects.places import Place
from services.identity import accounts as identity
from storage.uow import UnitOfWork


def setup(app: App) -> None:
    try:
        check_departments(app.city)
    except ValueError as error:
        raise CityConfigError(f"city configuration: {error}") from error


async def _person(uow: UnitOfWork, user: str, first: str, last: str, now: datetime) -> int:
    citizen, _account = await identity.contact(
        uow, channel="console", external_id=user, chat_id=user, now=now, display_name=first
    )
    if not citizen.first_name:
        citizen.first_name, citizen.last_name = first, last
        citizen.town, citizen.postal_code = "Ahaus", "48683"
        citizen.email = f"{user}@example.org"
    assert citizen.id is not None
    return citizen.id


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    city = app.city
    if city.department("bauhof") is None:
        return "no defect reports (the city has no department bauhof)"
    bodo = await _person(uow, "bodo", "Bodo", "Lammers", now)
    await identity.grant_role(uow, bodo, "staff", "bauhof", now=now, by="demo-data")
    anna = await _person(uow, "anna", "Anna", "Schulte", now)
    ben = await _person(uow, "ben", "Ben", "Terhaar", now)
    staff = Actor(bodo, "Bodo", frozenset({("staff", "bauhof")}))

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    lamp = await reports.file_report(
        uow,
        city,
        category="lighting",
        place=Place(52.07641, 7.00786, "Marktstraße 4"),
        now=ago(3),
        description="Die Laterne flackert seit Tagen, Mast Nr. 0412",
        citizen_id=anna,
        wants_updates=True,
        attributes={"lamp_number": "0412"},
    )
    await reports.follow(uow, lamp.id or 0, ben, ago(2))
    hole = await reports.file_report(
        uow,
        city,
        category="roads",
        place=Place(52.07601, 7.00716, "Kirchstraße 2"),
        now=ago(5),
        description="Tiefes Schlagloch vor der Kirche, Radfahrer weichen aus",
        citizen_id=ben,
        wants_updates=True,
    )
    await actions.take(uow, city, staff, str(hole.id), ago(4))
    await reports.file_report(
        uow,
        city,
        category="waste",
        place=Place(52.07575, 7.00935, "Sümmermannplatz"),
        now=ago(1),
        description="Papierkorb am Brunnen quillt über",
        source="api",
        client="demo-app",
        contact={"email": "melder@example.org"},
    )
    bench = await reports.file_report(
        uow,
        city,
        category="green",
        place=Place(52.07678, 7.00668, "Oldenkottplatz"),
        now=ago(8),
        description="Sitzbank: zwei Latten gebrochen",
        citizen_id=anna,
        wants_updates=True,
    )
    await actions.take(uow, city, staff, str(bench.id), ago(7))
    await actions.close(
        uow, city, staff, str(bench.id), "Latten ersetzt und neu gestrichen.", ago(2)
    )
    sign = await reports.file_report(
        uow,
        city,
        category="signs",
        place=Place(52.07708, 7.00899, "Rathausplatz"),
        now=ago(6),
        description="Schild Einbahnstraße verdreht",
        citizen_id=ben,
        wants_updates=False,
    )
    await actions.not_ours(
        uow,
        city,
        staff,
        str(sign.id),
        "Wegweiser der Kreisverwaltung; dorthin gemeldet.",
        ago(5),
    )
    return (
        "5 defect reports around the market square (console staff room: --user bodo --room bauhof)"
    )
