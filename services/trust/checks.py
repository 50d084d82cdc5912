"""Identity checked in person: a resident shows a one-time code at the Bürgerbüro counter, staff
compare name, date of birth and address with the identity card, correct typos and confirm.

Levels: `basic` (known only through chat) and `verified` (checked in person). A verification
holds while the resident's name and address stay as confirmed: changing either ends it (the
resident is checked again at the next visit). Staff can revoke it with a reason. The document
number is never asked for nor stored. Every step is in the audit log with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlmodel import col

from services import codes
from services.audit import log_action
from services.city import City, register_section
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.identity import accounts, profile
from storage.models.identity import Citizen
from storage.models.trust import IdentityCheck, IdentityCode
from storage.uow import UnitOfWork, rows_changed

BASIC = "basic"
VERIFIED = "verified"
LEVELS = (BASIC, VERIFIED)
CODE_LENGTH = 8  # 40 bits and a check character: single use, 15 minutes, staff only
CODE_TTL = timedelta(minutes=15)
DEPARTMENT = "buergerbuero"
CHECKED_FIELDS = ("first_name", "last_name", "birth_date", "street", "postal_code", "town")


class TrustRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = DEPARTMENT  # whose staff check identities at the counter
    # forms that need a level: without it the application is accepted, marked as pending
    forms: dict[str, str] = Field(
        default_factory=lambda: {"business": VERIFIED, "transit": VERIFIED}
    )
    postal_codes: list[str] = Field(default_factory=lambda: ["48683"])  # the town's own
    card_days: int = Field(default=365, gt=0)  # how long a resident card is valid


register_section("trust", TrustRules)


def rules(city: City) -> TrustRules:
    return city.section("trust", TrustRules)


@dataclass(frozen=True)
class Level:
    level: str  # BASIC or VERIFIED
    check: IdentityCheck | None  # the verification in force
    lapsed: IdentityCheck | None = None  # the last one, when it ended (why: end_reason)


def _matches(check: IdentityCheck, citizen: Citizen) -> bool:
    return all(
        (getattr(check, name) or None) == (getattr(citizen, name) or None)
        for name in CHECKED_FIELDS
    )


async def _latest(uow: UnitOfWork, citizen_id: int) -> IdentityCheck | None:
    return (
        await uow.session.execute(
            select(IdentityCheck)
            .where(IdentityCheck.citizen_id == citizen_id)
            .order_by(col(IdentityCheck.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def level_of(uow: UnitOfWork, citizen: Citizen) -> Level:
    """The resident's level now: verified while the confirmed details are unchanged."""
    assert citizen.id is not None
    latest = await _latest(uow, citizen.id)
    if latest is None:
        return Level(BASIC, None)
    if latest.ended_at is None and _matches(latest, citizen):
        return Level(VERIFIED, latest)
    return Level(BASIC, None, latest)


def meets(level: str, required: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(required) if required in LEVELS else True


def lives_in_town(city: City, check: IdentityCheck) -> bool:
    """A confirmed address in the town: one of its postal codes (Ahaus and its villages)."""
    return bool(check.street) and check.postal_code in rules(city).postal_codes


# ---------------------------------------------------------------- the resident's code
async def new_code(uow: UnitOfWork, citizen: Citizen, now: datetime) -> IdentityCode:
    """A fresh one-time code for the counter (15 minutes); earlier unused ones stop working."""
    assert citizen.id is not None
    missing = [name for name in ("first_name", "last_name") if not getattr(citizen, name)]
    if missing:
        raise InvalidInput("Please enter your first and last name in your profile first.")
    await uow.session.execute(
        update(IdentityCode)
        .where(IdentityCode.citizen_id == citizen.id, col(IdentityCode.used_at).is_(None))
        .values(used_at=now)
    )
    code = IdentityCode(
        code=codes.new_code(CODE_LENGTH),
        citizen_id=citizen.id,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    uow.session.add(code)
    await uow.session.flush()
    log_action(uow, now, "identity.code", f"citizen:{citizen.id}", actor_citizen_id=citizen.id)
    return code


# ---------------------------------------------------------------- at the counter
def _require_staff(city: City, roles: set[tuple[str, str]]) -> None:
    if ("staff", rules(city).department) not in roles:
        raise NotAllowed("Only staff of the Bürgerbüro can check identities.")


async def open_code(
    uow: UnitOfWork, city: City, roles: set[tuple[str, str]], text: str, now: datetime
) -> tuple[IdentityCode, Citizen]:
    """Staff open a resident's code: still valid, not used. Does not use it up yet."""
    _require_staff(city, roles)
    try:
        value = codes.parse_code(text, CODE_LENGTH)
    except codes.CodeTypo as error:
        raise InvalidInput("This code has a typo. Please check it.") from error
    except ValueError as error:
        raise InvalidInput("This is not a verification code.") from error
    found = (
        await uow.session.execute(select(IdentityCode).where(IdentityCode.code == value))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("This verification code is unknown.")
    if found.used_at is not None:
        raise Conflict("This verification code was already used. Please ask for a new one.")
    if found.expires_at <= now:
        raise Conflict("This verification code has expired. Please ask for a new one.")
    citizen = await uow.session.get(Citizen, found.citizen_id)
    if citizen is None or citizen.deleted_at is not None:
        raise NotFound("This verification code is unknown.")
    return found, citizen


def correct(citizen: Citizen, field: str, text: str, today: date) -> None:
    """Staff fix a typo in what the resident entered, before confirming."""
    if field == "birth_date":
        citizen.birth_date = profile.parse_date(text, today, past=True, example="14.03.1985")
        return
    if field not in CHECKED_FIELDS:
        raise InvalidInput("This detail cannot be corrected here.")
    accounts.update_profile(citizen, field, text)


async def confirm(
    uow: UnitOfWork,
    city: City,
    roles: set[tuple[str, str]],
    staff_id: int,
    code_text: str,
    now: datetime,
) -> IdentityCheck:
    """Staff confirm: the code is used up (once, also when two press at the same time) and
    the resident is verified with exactly the details now on file."""
    code, citizen = await open_code(uow, city, roles, code_text, now)
    missing = [name for name in CHECKED_FIELDS if not getattr(citizen, name)]
    if missing:
        raise InvalidInput(
            "Name, date of birth and full address are needed before confirming. Please "
            "correct what is missing."
        )
    used = await uow.session.execute(
        update(IdentityCode)
        .where(IdentityCode.id == code.id, col(IdentityCode.used_at).is_(None))
        .values(used_at=now)
    )
    if not rows_changed(used):
        raise Conflict("This verification code was already used. Please ask for a new one.")
    assert citizen.id is not None
    previous = await _latest(uow, citizen.id)
    await _end(uow, citizen.id, now, "checked again")
    same_home = previous is not None and all(
        getattr(previous, name) == getattr(citizen, name)
        for name in ("street", "postal_code", "town")
    )
    local_today = now.astimezone(city.tz).date()
    check = IdentityCheck(
        citizen_id=citizen.id,
        level=VERIFIED,
        first_name=citizen.first_name or "",
        last_name=citizen.last_name or "",
        birth_date=citizen.birth_date,
        street=citizen.street or "",
        postal_code=citizen.postal_code or "",
        town=citizen.town or "",
        resident_since=(previous.resident_since if same_home and previous else None) or local_today,
        verified_at=now,
        verified_by=staff_id,
    )
    uow.session.add(check)
    await uow.session.flush()
    log_action(
        uow,
        now,
        "identity.verify",
        f"citizen:{citizen.id}",
        actor_citizen_id=staff_id,
        level=VERIFIED,
    )
    return check


async def _end(uow: UnitOfWork, citizen_id: int, now: datetime, reason: str) -> int:
    result = await uow.session.execute(
        update(IdentityCheck)
        .where(IdentityCheck.citizen_id == citizen_id, col(IdentityCheck.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason[:200])
    )
    return rows_changed(result)


async def revoke(
    uow: UnitOfWork,
    city: City,
    roles: set[tuple[str, str]],
    staff_id: int,
    citizen_id: int,
    reason: str,
    now: datetime,
) -> bool:
    """Staff take a verification back, with a reason. False: there was none in force."""
    _require_staff(city, roles)
    reason = profile.clean_text(reason, 200)
    if not reason:
        raise InvalidInput("Please give a reason.")
    ended = await _end(uow, citizen_id, now, reason)
    if ended:
        log_action(
            uow,
            now,
            "identity.revoke",
            f"citizen:{citizen_id}",
            actor_citizen_id=staff_id,
            reason=reason,
        )
    return bool(ended)


async def details_changed(uow: UnitOfWork, citizen: Citizen, now: datetime) -> bool:
    """After the resident edited their profile: a changed name or address ends the level.
    True when it ended now."""
    assert citizen.id is not None
    latest = await _latest(uow, citizen.id)
    if latest is None or latest.ended_at is not None or _matches(latest, citizen):
        return False
    await _end(uow, citizen.id, now, "name or address changed")
    log_action(uow, now, "identity.lapse", f"citizen:{citizen.id}", actor_citizen_id=citizen.id)
    return True
