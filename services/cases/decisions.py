"""What an approval decides, so that the decision says it: the dog tax per year and the tag
number, the special-use permit (a PDF with area, period, conditions and fee), the daycare
staff chose from the resident's ranked list. `check` runs before the case changes status (a
wrong choice changes nothing); `decide` after, and returns the message for the resident."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services import city, i18n
from services.cases import dogtax, permits
from services.cases.records import next_number
from services.cases.rules import dangerous_breed, rules, space_fee
from services.errors import InvalidInput
from services.i18n import N_
from storage.models.cases import Case
from storage.models.identity import Citizen
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

MAX_RANKED = 10


class PermitRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # standard conditions printed on every special-use permit (German: the permit is German)
    conditions: list[str] = Field(default_factory=list)
    legal_basis: str = ""  # "§ 18 StrWG NRW i. V. m. der Sondernutzungssatzung der Stadt Ahaus"


city.register_section("permits", PermitRules)


@dataclass
class Decision:
    """The resident's message (msgid with params), what is stored with the case, a file."""

    message: str = N_("Good news: your application {ref} ({title}) was approved.")
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    file_id: int | None = None


def ranked_daycares(case: Case) -> list[str]:
    """The daycares the resident named, in their order of preference."""
    return [
        str(case.answers[f"daycare_{n}"])
        for n in range(1, MAX_RANKED + 1)
        if case.answers.get(f"daycare_{n}")
    ]


def check(case: Case, *, daycare: str | None) -> None:
    """Refuse an approval that lacks what the decision needs; nothing is changed then."""
    if case.form == "daycare":
        ranked = ranked_daycares(case)
        if daycare is None:
            raise InvalidInput("Please choose the daycare that offers the place.")
        if daycare not in ranked:
            raise InvalidInput("This daycare is not on the resident's list. Please choose again.")


async def decide(
    uow: UnitOfWork,
    town: city.City,
    case: Case,
    now: datetime,
    *,
    daycare: str | None = None,
    conditions: str = "",
) -> Decision:
    if case.form == "dogtax":
        return await _dog_tax(uow, town, case, now)
    if case.form == "daycare" and daycare is not None:
        return _daycare(town, case, daycare)
    if case.form == "space" and has_permit_terms(case.answers):
        return await _permit(uow, town, case, now, conditions)
    return Decision()


# ---------------------------------------------------------------- dog tax
def dog_tax_terms(town: city.City, answers: dict[str, Any], today: date) -> dict[str, Any]:
    """The assessment: dogs in the household, listed or not, exemption, yearly and this year's
    amount (pure: also shown to staff before they approve)."""
    tax = dogtax.rules(town)
    other = int(answers.get("other_dogs") or 0)
    listed = dangerous_breed(str(answers.get("breed", "")), rules(town).dangerous_breeds)
    exemption = str(answers.get("exemption") or "no")
    exempt = exemption in tax.exemptions
    yearly = 0 if exempt else dogtax.yearly_rate(tax, other + 1, listed is not None)
    since = date.fromisoformat(str(answers.get("since") or today.isoformat()))
    return {
        "dogs": other + 1,
        "listed": listed or "",
        "exempt": exempt,
        "yearly_cents": yearly,
        "year": today.year,
        "this_year_cents": dogtax.first_year_cents(yearly, since, today.year),
        "from_month": max(since, date(today.year, 1, 1)).strftime("%m/%Y"),
    }


async def _dog_tax(uow: UnitOfWork, town: city.City, case: Case, now: datetime) -> Decision:
    tax = dogtax.rules(town)
    today = now.astimezone(town.tz).date()
    terms = dog_tax_terms(town, case.answers, today)
    tag = dogtax.tag_number(tax.tag_prefix, await next_number(uow, tax.tag_series, 0))
    data = {**terms, "tag": tag}
    params = {
        "tag": tag,
        "dog": str(case.answers.get("dog_name") or ""),
        "yearly": i18n.money(terms["yearly_cents"]),
        "dogs": terms["dogs"],
        "year": terms["year"],
        "this_year": i18n.money(terms["this_year_cents"]),
        "from_month": terms["from_month"],
    }
    if terms["exempt"]:
        message = N_(
            "Good news: your dog tax registration {ref} was approved. {dog} is exempt from the "
            "dog tax. Tag number: {tag} (the tag comes by post)."
        )
    elif terms["listed"]:
        message = N_(
            "Good news: your dog tax registration {ref} was approved.\n"
            "Tag number for {dog}: {tag} (the tag comes by post).\n"
            "Dog tax: {yearly} a year (rate for listed dogs); for {year} from {from_month}: "
            "{this_year}. The tax notice with the due dates follows."
        )
    else:
        message = N_(
            "Good news: your dog tax registration {ref} was approved.\n"
            "Tag number for {dog}: {tag} (the tag comes by post).\n"
            "Dog tax: {yearly} a year (rate per dog for {dogs} dog(s) in the household); for "
            "{year} from {from_month}: {this_year}. The tax notice with the due dates follows."
        )
    return Decision(message, params, data)


# ---------------------------------------------------------------- daycare
def _daycare(town: city.City, case: Case, key: str) -> Decision:
    found = rules(town).daycare(key)
    name = found.name if found else key
    rank = ranked_daycares(case).index(key) + 1
    start = str(case.answers.get("start") or "")
    params = {
        "daycare": name,
        "rank": rank,
        "child": str(case.answers.get("child_first") or ""),
        "start": i18n.day(date.fromisoformat(start)) if start else "–",
    }
    message = N_(
        "Good news: {child} has a daycare place at {daycare} (your choice no. {rank}) from "
        "{start}. The daycare will contact you about the contract. Reference: {ref}."
    )
    return Decision(message, params, {"daycare": key, "daycare_name": name, "rank": rank})


# ---------------------------------------------------------------- special use
def has_permit_terms(answers: dict[str, Any]) -> bool:
    """A special-use application with its period (older or partial ones may lack it)."""
    try:
        date.fromisoformat(str(answers.get("first_day")))
        date.fromisoformat(str(answers.get("last_day")))
    except ValueError:
        return False
    return True


def space_terms(town: city.City, answers: dict[str, Any]) -> dict[str, Any]:
    first = date.fromisoformat(str(answers["first_day"]))
    last = date.fromisoformat(str(answers["last_day"]))
    area = float(answers.get("area") or 0)
    purpose = str(answers.get("purpose") or "other")
    return {
        "purpose": purpose,
        "place": str(answers.get("place") or ""),
        "area": area,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "days": (last - first).days + 1,
        "fee_cents": space_fee(rules(town), purpose, area, first, last),
        "rate_cents": rules(town).space_fees.get(purpose, rules(town).space_fees.get("other", 0)),
    }


async def _permit(
    uow: UnitOfWork, town: city.City, case: Case, now: datetime, extra: str
) -> Decision:
    terms = space_terms(town, case.answers)
    permit_rules = town.section("permits", PermitRules)
    conditions = [*permit_rules.conditions]
    if extra.strip():
        conditions += [line.strip() for line in extra.splitlines() if line.strip()]
    data = {**terms, "conditions": conditions}
    issued = now.astimezone(town.tz).date()
    holder = await uow.session.get(Citizen, case.citizen_id)
    name = (holder.full_name if holder else "") or ""
    pdf = permits.permit_pdf(town, case, data, issued, permit_rules.legal_basis, name)
    stored = StoredFile(
        citizen_id=case.citizen_id,
        purpose=f"permit:{case.reference}"[:50],
        filename=f"Sondernutzungserlaubnis-{case.reference}.pdf",
        mime="application/pdf",
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        data=pdf,
        created_at=now,
    )
    uow.session.add(stored)
    await uow.session.flush()
    params = {
        "area": i18n.number(terms["area"]),
        "first": i18n.day(date.fromisoformat(terms["first_day"])),
        "last": i18n.day(date.fromisoformat(terms["last_day"])),
        "fee": i18n.money(terms["fee_cents"]),
    }
    message = N_(
        "Good news: your special-use permit {ref} was granted for {area} m² from {first} to "
        "{last}. Fee: {fee}. The permit with its conditions is attached; please keep it at "
        "hand on site."
    )
    return Decision(message, params, data, stored.id)
