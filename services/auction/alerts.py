"""Deal alerts: a resident subscribes by category and/or keyword and a maximum price; when an
item's price falls to or below it, one alert per item goes out through the outbox.

Keyword matching is precomputed (auction_keyword_hit) when an item is listed or a new keyword
is subscribed, so the daily step only joins. The step itself is in services/auction/daily.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, select, text, update
from sqlmodel import col

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
from storage.types import UTCDateTime
from storage.uow import UnitOfWork

MAX_SUBSCRIPTIONS = 20
NEVER_ALERTED = 2**62  # alerted_price_cents of a new item: every limit is below it


def matching_items(sub: AuctionSubscription):  # type: ignore[no-untyped-def]
    """Items on offer that this subscription wants at their current price."""
    i = AuctionItem
    query = select(i.id).where(i.status == LISTED, i.price_cents <= sub.max_cents)
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
    # the stored price is the last daily step's; with the time machine (or before tonight's
    # step) today's price can differ: only items at or below the limit *today* are named
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
    ids = [item.id for item in cheap if item.id is not None]
    if ids:
        await uow.session.execute(
            insert(AuctionAlert),
            [
                {
                    "subscription_id": sub.id,
                    "item_id": item_id,
                    "citizen_id": citizen_id,
                    "run": "subscribe",
                    "created_at": now,
                }
                for item_id in ids
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


# ---------------------------------------------------------------- the daily part
async def find_new_alerts(uow: UnitOfWork, run: str, now: datetime) -> int:
    """Insert one alert row per (subscription, item) whose price fell to or below the
    subscription's maximum since alerts were last looked at (`alerted_price_cents`), in three
    set-based statements (keyword, category only, anything). Returns the new rows' first id."""
    i, s, a, h = AuctionItem, AuctionSubscription, AuctionAlert, AuctionKeywordHit
    first_new = (await uow.session.execute(select(func.coalesce(func.max(a.id), 0)))).scalar_one()
    crossed = and_(
        i.status == LISTED,
        i.price_cents <= s.max_cents,
        col(s.max_cents) < func.coalesce(i.alerted_price_cents, NEVER_ALERTED),
        ~exists().where(a.subscription_id == s.id, a.item_id == i.id),
    )
    columns = (s.id, i.id, s.citizen_id, literal(run), literal(now, UTCDateTime()))

    def matching(keyword: Any, category: Any) -> Any:
        return and_(s.active == True, s.keyword == keyword, s.category == category)  # noqa: E712

    # Each probes the index (active, keyword, category, max_cents) with both price bounds for
    # every item (or keyword hit). The join keys are written as expressions of the item side
    # (`|| ''`, `substr(.., 1, 0)` = '') so that no planner (SQLite has no statistics) turns
    # it round into "for every subscription, scan the items".
    no_text = func.substr(i.category, 1, 0)
    queries = [
        select(*columns)
        .select_from(h)
        .join(i, i.id == h.item_id)
        .join(s, matching(h.keyword + "", no_text))
        .where(crossed),
        select(*columns)
        .select_from(h)
        .join(i, i.id == h.item_id)
        .join(s, matching(h.keyword + "", i.category + ""))
        .where(crossed),
        select(*columns).select_from(i).join(s, matching(no_text, i.category + "")).where(crossed),
        select(*columns).select_from(i).join(s, matching(no_text, no_text)).where(crossed),
    ]
    names = ["subscription_id", "item_id", "citizen_id", "run", "created_at"]
    postgres = uow.dialect == "postgresql"
    for number, query in enumerate(queries):
        band_join = postgres and number >= 2
        if band_join:  # PostgreSQL would merge-join on category and filter millions of pairs
            await uow.session.execute(text("SET LOCAL enable_hashjoin = off"))
            await uow.session.execute(text("SET LOCAL enable_mergejoin = off"))
        await uow.session.execute(insert(AuctionAlert).from_select(names, query))
        if band_join:
            await uow.session.execute(text("SET LOCAL enable_hashjoin = on"))
            await uow.session.execute(text("SET LOCAL enable_mergejoin = on"))
    await uow.session.execute(
        update(AuctionItem)
        .where(AuctionItem.status == LISTED)
        .values(alerted_price_cents=AuctionItem.price_cents)
        .execution_options(synchronize_session=False)
    )
    return int(first_new)
