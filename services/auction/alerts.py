"""Deal alerts: a resident subscribes by category and/or keyword and a maximum price; when an
item's price falls to or below it, one alert per item goes out through the outbox.

Keyword matching is precomputed (auction_keyword_hit) when an item is listed or a new keyword
is subscribed, with the day each hit is next due (services/auction/due.py), so the daily step
only looks at the hits due. The step itself is in services/auction/daily.py.
Items that match when the alert is made are shown at once and recorded as alerted (run
"subscribe"), so the step does not send them again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, select
from sqlmodel import col

from services.auction.due import schedule_subscription
from services.auction.items import price_for_day, rules, today
from services.auction.keywords import clean_keyword, index_keyword
from services.city import City
from services.errors import Conflict, InvalidInput, LimitReached, NotFound
from storage.models.auction import (
    LISTED,
    AuctionAlert,
    AuctionItem,
    AuctionKeywordHit,
    AuctionSubscription,
)
from storage.uow import UnitOfWork

MAX_SUBSCRIPTIONS = 20
NEVER_ALERTED = 2**62  # alerted_price_cents of a new item: every limit is below it


def matching_items(sub: AuctionSubscription):  # type: ignore[no-untyped-def]
    """Items on offer that this subscription could want: their floor is within its limit
    (whether today's price is, the caller decides with the price function)."""
    i = AuctionItem
    query = select(i.id).where(i.status == LISTED, i.floor_cents <= sub.max_cents)
    if sub.category:
        query = query.where(i.category == sub.category)
    if sub.keyword:
        query = query.join(
            AuctionKeywordHit,
            and_(AuctionKeywordHit.item_id == i.id, AuctionKeywordHit.keyword == sub.keyword),
        )
    return query


async def subscribe(
    uow: UnitOfWork,
    city: City,
    citizen_id: int,
    *,
    category: str,
    keyword: str,
    max_cents: int,
    now: datetime,
) -> tuple[AuctionSubscription, list[AuctionItem]]:
    """Start an alert. Items that match already are returned (shown at once) and count as
    alerted, so the daily step does not send them again."""
    if category and rules(city).category(category) is None:
        raise InvalidInput("Please choose one of the categories.")
    keyword = clean_keyword(keyword) if keyword else ""
    if max_cents <= 0:
        raise InvalidInput("The amount must be more than 0 €.")
    s = AuctionSubscription
    mine = (
        (
            await uow.session.execute(
                select(s).where(s.citizen_id == citizen_id, s.active == True)  # noqa: E712
            )
        )
        .scalars()
        .all()
    )
    for existing in mine:
        if (existing.category, existing.keyword, existing.max_cents) == (
            category,
            keyword,
            max_cents,
        ):
            raise Conflict("You already have this alert.")
    if len(mine) >= MAX_SUBSCRIPTIONS:
        raise LimitReached(
            "You have {n} alerts, the most there can be. Please end one first.", n=len(mine)
        )
    sub = AuctionSubscription(
        citizen_id=citizen_id,
        category=category,
        keyword=keyword,
        max_cents=max_cents,
        created_at=now,
    )
    uow.session.add(sub)
    await uow.session.flush()
    if keyword:
        await index_keyword(uow, keyword)
        await schedule_subscription(uow, sub)
    # only items at or below the limit *today* are named (with the time machine, today can be
    # before the last nightly step)
    day = today(city, now)
    candidates = (
        (
            await uow.session.execute(
                select(AuctionItem).where(
                    col(AuctionItem.id).in_(select(matching_items(sub).subquery().c.id))
                )
            )
        )
        .scalars()
        .all()
    )
    cheap = sorted(
        (item for item in candidates if price_for_day(item, day) <= max_cents),
        key=lambda item: (price_for_day(item, day), item.id or 0),
    )
    if cheap:
        await uow.session.execute(
            insert(AuctionAlert),
            [
                {
                    "subscription_id": sub.id,
                    "item_id": item.id,
                    "citizen_id": citizen_id,
                    "run": "subscribe",
                    "price_cents": price_for_day(item, day),
                    "created_at": now,
                }
                for item in cheap
            ],
        )
    found = cheap[:5]
    return sub, list(found)


async def unsubscribe(uow: UnitOfWork, citizen_id: int, sub_id: int) -> AuctionSubscription:
    sub = await uow.session.get(AuctionSubscription, sub_id)
    if sub is None or sub.citizen_id != citizen_id:
        raise NotFound("This alert does not exist (any more).")
    if not sub.active:
        raise Conflict("This alert was already ended.")
    sub.active = False
    return sub


async def my_subscriptions(uow: UnitOfWork, citizen_id: int) -> list[AuctionSubscription]:
    s = AuctionSubscription
    rows = await uow.session.execute(
        select(s).where(s.citizen_id == citizen_id, s.active == True).order_by(s.id)  # noqa: E712
    )
    return list(rows.scalars())
