"""API keys: made once and shown once, kept only as SHA-256, bound to a purpose, revocable,
and rate-limited per key for writes.

A key is 256 random bits (URL-safe text), so a plain SHA-256 is enough to keep it safe at rest
and lets a request find its key by hash in one indexed lookup. `purpose` says what a key may be
used for ("open311", or another capability's, e.g. "locks"); a key of one purpose is refused
by the others. Capabilities declare their purpose and default write limit with
`register_purpose`."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlmodel import col

from services.errors import Conflict, InvalidInput, NotFound
from storage.models.apikeys import ApiKey
from storage.uow import UnitOfWork, rows_changed

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")


@dataclass(frozen=True)
class Purpose:
    name: str
    description: str
    writes_per_window: int  # default for new keys
    window: timedelta


PURPOSES: dict[str, Purpose] = {}


def register_purpose(purpose: Purpose) -> None:
    PURPOSES[purpose.name] = purpose


def digest(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()


async def add(
    uow: UnitOfWork, name: str, purpose: str, now: datetime, *, rate_limit: int = 0
) -> tuple[ApiKey, str]:
    """A new key: (the stored row, the secret). The secret is never stored or shown again."""
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "A key name has 1-60 letters, digits, dots, dashes or underscores: {name}", name=name
        )
    if purpose not in PURPOSES:
        raise InvalidInput(
            "Unknown purpose {purpose}; known: {known}.",
            purpose=purpose,
            known=", ".join(sorted(PURPOSES)),
        )
    if rate_limit < 0:
        raise InvalidInput("The rate limit cannot be negative.")
    existing = (
        await uow.session.execute(select(ApiKey).where(ApiKey.name == name))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict("There is already a key named {name}.", name=name)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        purpose=purpose,
        key_hash=digest(secret),
        prefix=secret[:6],
        rate_limit=rate_limit,
        created_at=now,
    )
    uow.session.add(key)
    await uow.session.flush()
    return key, secret


async def list_keys(uow: UnitOfWork, purpose: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.name)
    if purpose:
        query = query.where(ApiKey.purpose == purpose)
    return list((await uow.session.execute(query)).scalars())


async def revoke(uow: UnitOfWork, name: str, now: datetime) -> ApiKey:
    key: ApiKey | None = (
        await uow.session.execute(select(ApiKey).where(ApiKey.name == name))
    ).scalar_one_or_none()
    if key is None:
        raise NotFound("There is no key named {name}.", name=name)
    if key.revoked_at is None:
        key.revoked_at = now
    return key


async def verify(uow: UnitOfWork, secret: str, purpose: str, now: datetime) -> ApiKey | None:
    """The live key for `purpose` with this secret, or None (unknown, revoked, other purpose)."""
    if not secret or len(secret) > 200:
        return None
    key: ApiKey | None = (
        await uow.session.execute(select(ApiKey).where(ApiKey.key_hash == digest(secret)))
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None or key.purpose != purpose:
        return None
    await uow.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(uses=ApiKey.uses + 1, last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return key


def limit_of(key: ApiKey) -> tuple[int, timedelta]:
    purpose = PURPOSES.get(key.purpose)
    default = purpose.writes_per_window if purpose else 60
    window = purpose.window if purpose else timedelta(hours=1)
    return key.rate_limit or default, window


async def take_write(
    uow: UnitOfWork, key: ApiKey, now: datetime, *, limit: int = 0, window: timedelta | None = None
) -> bool:
    """Count one write against the key's window; False when the limit is reached. Two
    conditional updates, so concurrent requests on several replicas count correctly."""
    default_limit, default_window = limit_of(key)
    limit, window = limit or default_limit, window or default_window
    fresh = await uow.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(col(ApiKey.window_start).is_(None), col(ApiKey.window_start) <= now - window),
        )
        .values(window_start=now, window_count=1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(fresh) == 1:
        return True
    counted = await uow.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, ApiKey.window_count < limit)
        .values(window_count=ApiKey.window_count + 1)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(counted) == 1


async def retry_after(uow: UnitOfWork, key: ApiKey, now: datetime) -> int:
    """Seconds until the key's window opens again."""
    await uow.session.refresh(key)
    _limit, window = limit_of(key)
    if key.window_start is None:
        return 0
    return max(1, int((key.window_start + window - now).total_seconds()))
