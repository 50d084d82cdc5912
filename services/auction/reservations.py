"""Reservations of lost-and-found items: how long a resident has to pay, which reservation holds
an item, and letting reservations lapse, set-based, for all items at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from services.auction.items import rules
from services.city import City
from services.errors import Conflict, NotFound
from services.i18n import N_
from services.notify import notify_many
from storage.models.auction import (
    COLLECTED,
    LAPSED,
    LISTED,
    PAID,
    PENDING,
    RESERVED,
    SOLD,
    AuctionItem,
    AuctionReservation,
    AuctionWish,
)
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


CHUNK = 5000


def pay_deadline(city: City, now: datetime, *, wish: bool) -> datetime:
    """Buying now: 30 minutes (configured) to pay. A won wish price (usually won at night by
    the daily step): until `wish_pay_until` (20:00) of the `wish_pay_days`-th day after, in the
    city's time, and never less than the buy-now window."""
    config = rules(city)
    window = now + timedelta(minutes=config.reservation_minutes)
    if not wish:
        return window
    local = now.astimezone(city.tz)
    day = local.date() + timedelta(days=config.wish_pay_days)
    until = datetime.combine(day, time.fromisoformat(config.wish_pay_until or "20:00"), city.tz)
    return max(until, window)


def wish_reminder_at(city: City, deadline: datetime) -> datetime | None:
    hours = rules(city).wish_remind_hours
    return deadline - timedelta(hours=hours) if hours else None


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def holding_reservation(uow: UnitOfWork, item_id: int) -> AuctionReservation | None:
    r = AuctionReservation
    rows = await uow.session.execute(
        select(r).where(r.item_id == item_id, col(r.status).in_((PENDING, PAID, COLLECTED)))
    )
    return rows.scalars().first()


async def my_reservation(
    uow: UnitOfWork, citizen_id: int, reservation_id: int
) -> AuctionReservation:
    found = await uow.session.get(AuctionReservation, reservation_id)
    if found is None or found.citizen_id != citizen_id:
        raise NotFound("This reservation is unknown.")
    return found


async def lapse(uow: UnitOfWork, where: list[Any], now: datetime) -> list[Any]:
    r = AuctionReservation
    lapsed = (
        await uow.session.execute(
            update(r)
            .where(*where)
            .values(status=LAPSED)
            .returning(r.id, r.item_id, r.citizen_id, r.wish_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not lapsed:
        return []
    items = [row.item_id for row in lapsed]
    wishes = [row.wish_id for row in lapsed if row.wish_id is not None]
    for chunk in chunks(items):
        await uow.session.execute(
            update(AuctionItem)
            .where(col(AuctionItem.id).in_(chunk), AuctionItem.status == RESERVED)
            .values(status=LISTED)
            .execution_options(synchronize_session=False)
        )
    for chunk in chunks(wishes):
        await uow.session.execute(
            update(AuctionWish)
            .where(col(AuctionWish.id).in_(chunk))
            .values(status=LAPSED)
            .execution_options(synchronize_session=False)
        )
    found = await uow.session.execute(
        select(AuctionItem.id, AuctionItem.title).where(col(AuctionItem.id).in_(items[:CHUNK]))
    )
    titles: dict[int, str] = {item_id: title for item_id, title in found}
    await notify_many(
        uow,
        [
            {
                "citizen_id": row.citizen_id,
                "key": N_(
                    "Your reservation of {title} has lapsed because it was not paid in time. "
                    "Nothing was charged."
                ),
                "params": {"title": titles.get(row.item_id, "")},
                "ref": f"auction_reservation:{row.id}",
                "dedupe_key": f"auction.lapsed:{row.id}",
            }
            for row in lapsed
        ],
        now=now,
    )
    return list(lapsed)


def not_available(item: AuctionItem, city: City) -> Conflict:
    if item.status == RESERVED:
        return Conflict(
            "Someone else is paying for this item right now. If they do not pay within "
            "{minutes} minutes, it is offered again.",
            minutes=rules(city).reservation_minutes,
        )
    if item.status == SOLD:
        return Conflict("Sorry, this item has already been sold.")
    return Conflict("Sorry, this item is no longer in the auction.")
