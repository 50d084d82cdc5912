"""Forms that need a level of trust (configuration `[trust] forms`, by default the business
registration and the Sozialticket): an application without it is accepted and marked
"identity check pending" in its history, which staff see; checking the identity later at the
counter is enough."""

from __future__ import annotations

from datetime import datetime

from services.cases import records
from services.city import City
from services.trust import checks
from storage.models.cases import Case
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

PENDING = "identity"  # the case event's kind


def required_level(city: City, form: str) -> str:
    """The level a form needs ("" when none)."""
    return checks.rules(city).forms.get(form, "")


async def missing_level(uow: UnitOfWork, city: City, citizen: Citizen, form: str) -> str:
    """The level the form needs and the resident lacks now ("" when nothing is missing)."""
    required = required_level(city, form)
    if not required:
        return ""
    level = await checks.level_of(uow, citizen)
    return "" if checks.meets(level.level, required) else required


@records.on_submit
async def mark_pending(uow: UnitOfWork, city: City, case: Case, now: datetime) -> None:
    citizen = await uow.session.get(Citizen, case.citizen_id)
    if citizen is None:
        return
    missing = await missing_level(uow, city, citizen, case.form)
    if missing:
        records.add_event(uow, case, PENDING, now, text=missing)
