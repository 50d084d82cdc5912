"""A resident checked in person at the counter, for tests of what builds on it (campaigns,
resident prices) without going through the counter conversation."""

from __future__ import annotations

from datetime import date, datetime

from services.city import City
from services.trust import checks
from storage.models.identity import Citizen
from storage.uow import UnitOfWork


async def verify(uow: UnitOfWork, city: City, citizen_id: int, now: datetime) -> None:
    """Fill what a check needs into the profile, then confirm it as Bürgerbüro staff would."""
    citizen = await uow.session.get(Citizen, citizen_id)
    assert citizen is not None
    citizen.first_name = citizen.first_name or "Test"
    citizen.last_name = citizen.last_name or "Person"
    citizen.street = citizen.street or "Marktstraße 1"
    citizen.postal_code = citizen.postal_code or "48683"
    citizen.town = citizen.town or "Ahaus"
    citizen.birth_date = citizen.birth_date or date(1980, 1, 1)
    code = await checks.new_code(uow, citizen, now)
    staff = {("staff", checks.rules(city).department)}
    await checks.confirm(uow, city, staff, citizen_id, code.code, now)
