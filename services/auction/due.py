"""Due days of keyword alerts: the nightly step probes only the keyword hits due tonight.

A keyword hit (keyword, item) carries `due_dayno`, a day no later than the first day on which
the item's price falls to the limit of one of the keyword's active alerts that it has not yet
crossed. The nightly step (services/auction/daily.py) looks at the hits due through an index and
afterwards advances them: to the day the price reaches the highest matching limit below
tonight's price. The day is only a schedule: which alerts go out is still decided by the
prices (price on D <= limit < price on the last day run), so a day that is too early costs one
probe and never changes a result; it must never be too late. Kept that way by
- a new hit (item listed): due on its start day, checked the first night;
- a new alert: the hits of its keyword are due no later than the day its limit is reached;
- an ended alert: nothing (a due day that is too early is harmless);
- reserved and back on offer: nothing (crossings while reserved are not alerted anyway; the
  due day was advanced from a price no higher than the one on the day back on offer);
- sold, ended, withdrawn items (final) and items at their floor: never due again.

The first day on which a price is at most `c` (services/auction/price.py, reach_day) in SQL:
with f(d) the factor in ppb, the rounded price is at most c exactly when start × f(d) <= K,
K = (c + 1)·PPB − PPB/2 − 1 (half up), (c + 1)·PPB − 1 (down), c·PPB (up), that is when
f(d) <= K div start; for the linear rule f(d) = PPB − d·rate, so d = ceil((PPB − K div start)
/ rate). For the compound rule the linear day is a lower bound ((1 − r)^d >= 1 − d·r)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, or_, select, update
from sqlmodel import col

from services.auction.price import PPB
from storage.models.auction import (
    LISTED,
    RESERVED,
    AuctionItem,
    AuctionKeywordHit,
    AuctionSubscription,
)
from storage.uow import UnitOfWork

NEVER_DUE = 2**31 - 1  # the largest INTEGER: a hit that needs no more checks


def reach_sql(limit: Any, i: Any = AuctionItem) -> Any:
    """The first local day (ordinal) on which the price of item `i` is `limit` or less: exact
    for the linear rule, a lower bound for the compound one; NEVER_DUE if the limit is NULL or
    below the floor."""
    cents = cast(limit, BigInteger)
    start = cast(i.start_cents, BigInteger)
    bound = case(
        (i.rounding == "half_up", (cents + 1) * PPB - PPB // 2 - 1),
        (i.rounding == "up", cents * PPB),
        else_=(cents + 1) * PPB - 1,
    )
    per_day = cast(i.rate_bp, BigInteger) * (PPB // 10_000)
    days = (PPB - bound // start + per_day - 1) // per_day
    return case(
        (or_(limit.is_(None), cents < i.floor_cents), literal(NEVER_DUE, BigInteger)),
        (cents >= start, cast(i.start_dayno, BigInteger)),  # also a start price of 0
        else_=i.start_dayno + days,
    )


def _earlier(a: Any, b: Any) -> Any:
    return case((a < b, a), else_=b)


async def schedule_subscription(uow: UnitOfWork, sub: AuctionSubscription) -> None:
    """A new keyword alert: the hits of its keyword (in its category) on items on offer are
    due no later than the day the item's price reaches its limit."""
    if not sub.keyword:
        return
    h, i = AuctionKeywordHit, AuctionItem
    reach = (
        select(reach_sql(literal(sub.max_cents, BigInteger)))
        .where(i.id == h.item_id)
        .correlate(h)
        .scalar_subquery()
    )
    live = [col(i.status).in_((LISTED, RESERVED)), i.floor_cents <= sub.max_cents]
    if sub.category:
        live.append(i.category == sub.category)
    await uow.session.execute(
        update(h)
        .where(h.keyword == sub.keyword, col(h.item_id).in_(select(i.id).where(*live)))
        .values(due_dayno=_earlier(reach, h.due_dayno))
        .execution_options(synchronize_session=False)
    )


def next_due(dayno: int, price_today: Any) -> Any:
    """The day a hit due on `dayno` is due next, as an SQL expression of the hit and its item:
    when the item's price reaches the highest matching active limit below today's price
    (`price_today`: an SQL expression of AuctionItem, services.auction.daily.price_sql); never
    if there is none, the item is at its floor or no longer on offer."""
    h, i, s = AuctionKeywordHit, AuctionItem, AuctionSubscription

    # the highest limit below today's price, any category or the item's, in one backward probe
    # of ix_auction_sub_keyword_limit; the day is computed for that row only
    highest_below = (
        select(reach_sql(s.max_cents))
        .where(
            s.active == True,  # noqa: E712
            s.keyword != "",  # the index's condition
            s.keyword == h.keyword,
            col(s.category).in_(["", i.category]),
            s.max_cents < price_today,
        )
        .order_by(col(s.max_cents).desc())
        .limit(1)
        .correlate(h, i)
        .scalar_subquery()
    )
    moving = and_(col(i.status).in_((LISTED, RESERVED)), i.floor_dayno > dayno)
    return case(
        (moving, func.coalesce(highest_below, NEVER_DUE)),
        else_=literal(NEVER_DUE, BigInteger),
    )


async def advance(uow: UnitOfWork, dayno: int, price_today: Any) -> None:
    """After the step for `dayno`: every hit due is set to the day it is due next."""
    h, i = AuctionKeywordHit, AuctionItem
    following = (
        select(next_due(dayno, price_today)).where(i.id == h.item_id).correlate(h).scalar_subquery()
    )
    await uow.session.execute(
        update(h)
        .where(h.due_dayno <= dayno)
        .values(due_dayno=func.coalesce(following, NEVER_DUE))
        .execution_options(synchronize_session=False)
    )


def advanced(dayno: int, price_today: Any, *returning: Any) -> Any:
    """PostgreSQL: the hits due on `dayno` set to the day they are due next, as a CTE of the
    nightly statement (UPDATE ... FROM auction_item RETURNING `returning`, expressions of the
    hit and its item): the statement that finds tonight's alerts in them reads each hit and
    its item once."""
    h, i = AuctionKeywordHit, AuctionItem
    return (
        update(h)
        .where(h.item_id == i.id, h.due_dayno <= dayno)
        .values(due_dayno=next_due(dayno, price_today))
        .returning(*returning)
        .cte("due")
    )
