"""The resident card ("Ahaus-Karte"): a signed credential of a resident whose identity and
address in the town were checked in person.

It carries only first name, initial of the last name, the resident-since date and the town; the
token's own `nbf`/`exp` are its validity. Its QR code is the check page's URL
`{PUBLIC_URL}/v/{token}`; anyone can check it there, offline with the published keys, or with
`stadtlotse credential verify TOKEN`. Moving out of the town, a changed name, staff revoking
the verification and /deleteme revoke it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import col

from services.city import City
from services.trust import checks, tokens
from storage.models.identity import Citizen
from storage.models.trust import IdentityCheck, ResidentCard
from storage.uow import UnitOfWork

KIND = "card"
CHECK_PATH = "/v/"


@dataclass(frozen=True)
class CardView:
    """What a check of a card may show: the verdict, and the card's own lines when valid."""

    valid: bool
    reason: str
    first_name: str = ""
    last_initial: str = ""
    town: str = ""
    resident_since: date | None = None
    valid_until: date | None = None


def check_path(token: str) -> str:
    return CHECK_PATH + token


async def current(uow: UnitOfWork, citizen_id: int, now: datetime) -> ResidentCard | None:
    return (
        await uow.session.execute(
            select(ResidentCard)
            .where(
                ResidentCard.citizen_id == citizen_id,
                col(ResidentCard.revoked_at).is_(None),
                ResidentCard.expires_at > now,
            )
            .order_by(col(ResidentCard.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def entitled(uow: UnitOfWork, city: City, citizen: Citizen) -> IdentityCheck | None:
    """The verification that entitles to a card: in force, with an address in the town."""
    level = await checks.level_of(uow, citizen)
    if level.check is None or not checks.lives_in_town(city, level.check):
        return None
    return level.check


async def ensure(
    uow: UnitOfWork, city: City, citizen: Citizen, now: datetime
) -> ResidentCard | None:
    """The resident's valid card, issued now if they are entitled and hold none. None: not
    entitled (any card they still hold is revoked)."""
    assert citizen.id is not None
    check = await entitled(uow, city, citizen)
    if check is None:
        await revoke_all(uow, citizen.id, "no longer entitled", now)
        return None
    claims = {
        "first_name": check.first_name,
        "last_initial": check.last_name[:1].upper(),
        "town": city.name,
        "resident_since": (check.resident_since or now.date()).isoformat(),
    }
    found = await current(uow, citizen.id, now)
    if found is not None:
        if tokens.claims_of(found.token) == claims:
            return found
        await revoke_all(uow, citizen.id, "details corrected", now)  # a corrected name
    expires = now + timedelta(days=checks.rules(city).card_days)
    token, token_id = await tokens.issue(
        uow, KIND, claims, not_before=now, expires=expires, now=now
    )
    card = ResidentCard(
        citizen_id=citizen.id, token_id=token_id, token=token, issued_at=now, expires_at=expires
    )
    uow.session.add(card)
    await uow.session.flush()
    return card


async def revoke_all(uow: UnitOfWork, citizen_id: int, reason: str, now: datetime) -> int:
    """Revoke every card the resident holds (their tokens join the revocation list)."""
    held = (
        (
            await uow.session.execute(
                select(ResidentCard.token_id).where(
                    ResidentCard.citizen_id == citizen_id,
                    col(ResidentCard.revoked_at).is_(None),
                    ResidentCard.expires_at > now,
                )
            )
        )
        .scalars()
        .all()
    )
    for token_id in held:
        await tokens.revoke(uow, token_id, reason, now)
    await uow.session.execute(
        update(ResidentCard)
        .where(ResidentCard.citizen_id == citizen_id, col(ResidentCard.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return len(held)


def view(verdict: tokens.Verdict, token: str, city: City) -> CardView:
    """The page's answer: the card's lines only when valid; nothing of the card otherwise."""
    if not verdict.valid:
        shown = verdict.reason if verdict.reason in ("expired", "revoked") else "invalid"
        return CardView(False, shown)
    claims = verdict.claims
    span = tokens.validity(token)
    until = (span[1] - timedelta(seconds=1)).astimezone(city.tz).date() if span else None
    since = claims.get("resident_since")
    return CardView(
        True,
        "ok",
        first_name=str(claims.get("first_name", "")),
        last_initial=str(claims.get("last_initial", "")),
        town=str(claims.get("town", "")),
        resident_since=date.fromisoformat(since) if isinstance(since, str) else None,
        valid_until=until,
    )


async def check(uow: UnitOfWork, city: City, token: str, now: datetime) -> CardView:
    verdict = await tokens.check_online(uow, token, kind=KIND, now=now)
    return view(verdict, token, city)
