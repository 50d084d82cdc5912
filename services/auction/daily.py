"""The daily auction step, set-based: a handful of SQL statements for all items at once.

For local day D (city time zone) it
1. sets every item's price to the rule's price for D (one UPDATE per price rule in use, with
   the day factors as a CASE over the start days),
2. awards wish prices the new prices reached (services.auction.buying.award_wishes),
3. finds deal alerts whose limit the fall crossed and queues one notification each,
4. ends items that sat at the floor unsold long enough.

Catch-up safe: the price for D depends only on D, so after missed days one run jumps straight
to today's price; alerts compare with the price they were last looked at, and wishes award
once, so nothing is sent once per missed day. Running it twice for D changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, case, cast, select, update
from sqlmodel import col

from services.auction.alerts import find_new_alerts
from services.auction.items import today
from services.auction.price import PPB, factor_ppb
from services.auction.reservations import chunks
from services.auction.wishes import award_wishes
from services.city import City
from services.i18n import N_, money
from services.notify import button, notify_many
from storage.models.auction import (
    ACTIVE,
    CLOSED,
    ENDED,
    LISTED,
    RESERVED,
    AuctionAlert,
    AuctionItem,
    AuctionSubscription,
    AuctionWish,
)
from storage.uow import UnitOfWork, rows_changed


@dataclass
class DayReport:
    day: str
    repriced: int = 0
    awarded: int = 0
    alerts: int = 0
    ended: int = 0

    def __str__(self) -> str:
        return (
            f"day {self.day}: {self.repriced} prices, {self.awarded} wish awards, "
            f"{self.alerts} alerts, {self.ended} ended"
        )


def _rounded(product: object, rounding: str) -> object:
    if rounding == "half_up":
        return (product + PPB // 2) // PPB  # type: ignore[operator]
    if rounding == "up":
        return (product + PPB - 1) // PPB  # type: ignore[operator]
    return product // PPB  # type: ignore[operator]


async def reprice(uow: UnitOfWork, dayno: int) -> int:
    i = AuctionItem
    active = (col(i.status).in_((LISTED, RESERVED)), i.price_dayno < dayno)
    rules = (
        await uow.session.execute(
            select(i.variant, i.rate_bp, i.rounding).where(*active).distinct()
        )
    ).all()
    changed = 0
    for variant, rate_bp, rounding in rules:
        same_rule = (*active, i.variant == variant, i.rate_bp == rate_bp, i.rounding == rounding)
        starts = (
            (await uow.session.execute(select(i.start_dayno).where(*same_rule).distinct()))
            .scalars()
            .all()
        )
        factor = case(
            {start: factor_ppb(variant, rate_bp, dayno - start) for start in starts},
            value=i.start_dayno,
            else_=PPB,
        )
        raw = _rounded(cast(i.start_cents, BigInteger) * cast(factor, BigInteger), rounding)
        price = case((raw < i.floor_cents, i.floor_cents), else_=raw)  # type: ignore[operator]
        result = await uow.session.execute(
            update(i)
            .where(*same_rule)
            .values(price_cents=price, price_dayno=dayno)
            .execution_options(synchronize_session=False)
        )
        changed += rows_changed(result)
    return changed


async def queue_alerts(uow: UnitOfWork, run: str, now: datetime) -> int:
    first_new = await find_new_alerts(uow, run, now)
    a, i, s = AuctionAlert, AuctionItem, AuctionSubscription
    rows = (
        await uow.session.execute(
            select(a.subscription_id, a.item_id, a.citizen_id, i.title, i.price_cents, s.max_cents)
            .join(i, i.id == a.item_id)
            .join(s, s.id == a.subscription_id)
            .where(col(a.id) > first_new, a.run == run)
        )
    ).all()
    await notify_many(
        uow,
        [
            {
                "citizen_id": row.citizen_id,
                "key": N_("Deal alert: {title} now costs {price} (your limit: {limit})."),
                "params": {
                    "title": row.title,
                    "price": money(row.price_cents),
                    "limit": money(row.max_cents),
                },
                "buttons": [
                    button(N_("Buy at today's price"), "auction.buy", str(row.item_id)),
                    button(N_("Show item"), "auction.item", str(row.item_id)),
                    button(N_("Stop this alert"), "auction.unsubscribe", str(row.subscription_id)),
                ],
                "ref": f"auction_item:{row.item_id}",
                "dedupe_key": f"alert:{row.subscription_id}:{row.item_id}",
            }
            for row in rows
        ],
        now=now,
    )
    return len(rows)


async def end_items(uow: UnitOfWork, dayno: int, now: datetime) -> int:
    i, w = AuctionItem, AuctionWish
    ended = (
        await uow.session.execute(
            update(i)
            .where(i.status == LISTED, i.ends_dayno <= dayno)
            .values(status=ENDED, closed_at=now)
            .returning(i.id, i.title)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not ended:
        return 0
    titles = {row.id: row.title for row in ended}
    wishers: list[Any] = []
    for chunk in chunks(list(titles)):
        wishers += (
            await uow.session.execute(
                update(w)
                .where(col(w.item_id).in_(chunk), w.status == ACTIVE)
                .values(status=CLOSED)
                .returning(w.id, w.item_id, w.citizen_id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    await notify_many(
        uow,
        [
            {
                "citizen_id": row.citizen_id,
                "key": N_(
                    "The auction of {title} has ended without a sale; your wish price is void."
                ),
                "params": {"title": titles[row.item_id]},
                "ref": f"auction_item:{row.item_id}",
                "dedupe_key": f"auction.ended:{row.id}",
            }
            for row in wishers
        ],
        now=now,
    )
    return len(ended)


async def daily_step(uow: UnitOfWork, city: City, now: datetime) -> DayReport:
    dayno = today(city, now)
    report = DayReport(day=now.astimezone(city.tz).date().isoformat())
    report.repriced = await reprice(uow, dayno)
    report.awarded = await award_wishes(uow, city, now)
    report.alerts = await queue_alerts(uow, f"day {report.day}", now)
    report.ended = await end_items(uow, dayno, now)
    return report
