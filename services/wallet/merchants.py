"""Acceptance points: those in the city configuration plus those an admin added."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from services import audit
from services.city import City, Merchant
from services.errors import Conflict, InvalidInput
from storage.models.vouchers import MerchantPoint
from storage.uow import UnitOfWork

_KEY = re.compile(r"[a-z0-9][a-z0-9-]{1,98}[a-z0-9]")


async def all_merchants(uow: UnitOfWork, city: City) -> list[Merchant]:
    found = {m.key: m for m in city.merchants}
    rows = await uow.session.execute(select(MerchantPoint).where(MerchantPoint.active))
    for row in rows.scalars():
        found.setdefault(
            row.key,
            Merchant(key=row.key, name=row.name, address=row.address, category=row.category),
        )
    return sorted(found.values(), key=lambda m: m.name.casefold())


async def find(uow: UnitOfWork, city: City, key: str) -> Merchant | None:
    configured = city.merchant(key)
    if configured is not None:
        return configured
    row = (
        await uow.session.execute(
            select(MerchantPoint).where(MerchantPoint.key == key, MerchantPoint.active)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return Merchant(key=row.key, name=row.name, address=row.address, category=row.category)


async def name_of(uow: UnitOfWork, city: City, key: str) -> str:
    found = await find(uow, city, key)
    return found.name if found is not None else key


async def add(
    uow: UnitOfWork,
    city: City,
    *,
    key: str,
    name: str,
    address: str = "",
    category: str = "",
    now: datetime,
    by: str,
) -> MerchantPoint:
    key = key.strip().lower()
    if not _KEY.fullmatch(key):
        raise InvalidInput(
            "A merchant key has 3 to 100 lower-case letters, digits and dashes, "
            "for example cafe-am-markt."
        )
    if not name.strip():
        raise InvalidInput("The merchant needs a name.")
    if await find(uow, city, key) is not None:
        raise Conflict("The merchant {key} exists already.", key=key)
    point = MerchantPoint(
        key=key,
        name=name.strip()[:200],
        address=address.strip()[:300],
        category=category.strip()[:50],
        created_at=now,
    )
    uow.session.add(point)
    await uow.session.flush()
    audit.log_action(uow, now, "merchant.add", f"merchant:{key}", actor=by, name=point.name)
    return point
