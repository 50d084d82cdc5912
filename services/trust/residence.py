"""Who counts as a resident of the town: someone whose address in the town was checked in person
at the Bürgerbüro (services/trust/checks.py), not whatever postal code a profile says.

Used by residents-only campaigns (a query condition for 36,000 residents at once) and resident
prices (one resident at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists
from sqlmodel import col

from services.city import City
from services.trust import checks
from storage.models.identity import Citizen
from storage.models.trust import IdentityCheck
from storage.uow import UnitOfWork


def verified_resident(city: City) -> Any:
    """A condition on `Citizen`: a check in force, with the same address, in the town."""
    return exists().where(
        IdentityCheck.citizen_id == Citizen.id,
        col(IdentityCheck.ended_at).is_(None),
        col(IdentityCheck.postal_code).in_(checks.rules(city).postal_codes),
        IdentityCheck.postal_code == Citizen.postal_code,
        IdentityCheck.street == Citizen.street,
        IdentityCheck.last_name == Citizen.last_name,
    )


async def is_verified_resident(uow: UnitOfWork, city: City, citizen_id: int) -> bool:
    citizen = await uow.session.get(Citizen, citizen_id)
    if citizen is None or citizen.deleted_at is not None:
        return False
    level = await checks.level_of(uow, citizen)
    return level.check is not None and checks.lives_in_town(city, level.check)
