"""The daily auction step: a few set-based statements that only touch what is due today.

A price is a pure function of the day (services/auction/price.py), so nothing is repriced: the
step computes the prices it needs in SQL (the factors come from the price function). For local
day D (city time zone) and the last day the step ran, L, it
1. counts the items whose price fell since L (the report's "prices"),
2. awards the wish prices due today: a wish knows the day its price is reached (`due_dayno`,
   set when it was made), so they are found through an index (services.auction.wishes),
3. finds the deal alerts whose limit the fall since L crossed (price on D <= limit < price on
   L; items listed after L: any limit from today's price up) and records them once per
   subscription and item (auction_alert), in one INSERT ... SELECT,
4. writes one notification per resident for the night, in SQL: the alert itself when it is
   one, else a digest with a line per item,
5. ends items that sat at the floor unsold long enough,
6. records D as run.

Catch-up safe: after missed days one run compares today's prices with those of the last day
run, so every crossed limit is alerted once; running it twice for D finds nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from services.auction.items import today
from services.auction.price import PPB, factor_ppb
from services.auction.reservations import chunks
from services.auction.wishes import award_wishes
from services.city import City
from services.i18n import N_
from services.notify import json_list, json_object, notify_many, notify_rows
from storage.models.auction import (
    ACTIVE,
    CLOSED,
    ENDED,
    LISTED,
    RESERVED,
    AuctionAlert,
    AuctionDayRun,
    AuctionItem,
    AuctionKeywordHit,
    AuctionSubscription,
    AuctionWish,
)
from storage.uow import UnitOfWork

NEVER_ALERTED = 2**62  # the upper bound of an item listed since the last run: any limit
PLANNER_SETTINGS = (
    "enable_hashjoin = off",
    "enable_mergejoin = off",
    "jit = off",
    "work_mem = '64MB'",
)
DIGEST_BUTTONS = 5  # items of a digest that get a button
ALERT = N_("Deal alert: {title} now costs {price} (your limit: {limit}).")
DIGEST = N_("Deal alerts: {count} items now cost no more than your limit.\n{items}")
DIGEST_LINE = N_("{title}: {price} (your limit: {limit})")


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


# ---------------------------------------------------------------- prices in SQL
def _rounded(product: Any, rounding: str) -> Any:
    if rounding == "half_up":
        return (product + PPB // 2) // PPB
    if rounding == "up":
        return (product + PPB - 1) // PPB
    return product // PPB


async def price_rules(uow: UnitOfWork, *where: Any) -> dict[tuple[str, int, str], list[int]]:
    """The price rules and start days in use among the items `where` selects."""
    i = AuctionItem
    rows = await uow.session.execute(
        select(i.variant, i.rate_bp, i.rounding, i.start_dayno).where(*where).distinct()
    )
    found: dict[tuple[str, int, str], list[int]] = {}
    for variant, rate_bp, rounding, start in rows.tuples():
        found.setdefault((variant, rate_bp, rounding), []).append(start)
    return found


def price_sql(dayno: int, rules: dict[tuple[str, int, str], list[int]]) -> Any:
    """The items' price on `dayno` as an SQL expression: the price function's factors for each
    start day in use, the rule's rounding and the floor (services/auction/price.py, price_on)."""
    i = AuctionItem
    prices = []
    for (variant, rate_bp, rounding), starts in rules.items():
        factor = case(
            {start: factor_ppb(variant, rate_bp, dayno - start) for start in starts},
            value=i.start_dayno,
            else_=PPB,
        )
        raw = _rounded(cast(i.start_cents, BigInteger) * cast(factor, BigInteger), rounding)
        rule = and_(i.variant == variant, i.rate_bp == rate_bp, i.rounding == rounding)
        prices.append((rule, case((raw < i.floor_cents, i.floor_cents), else_=raw)))
    if not prices:
        return literal(0, BigInteger)
    if len(prices) == 1:
        return prices[0][1]
    return case(*prices, else_=i.start_cents)


# ---------------------------------------------------------------- the step
async def last_run(uow: UnitOfWork, dayno: int) -> int | None:
    r = AuctionDayRun
    found = await uow.session.execute(select(func.max(r.dayno)).where(r.dayno <= dayno))
    value = found.scalar_one_or_none()
    return int(value) if value is not None else None


async def record_run(uow: UnitOfWork, dayno: int, now: datetime) -> None:
    dialect_insert = postgresql.insert if uow.dialect == "postgresql" else sqlite.insert
    await uow.session.execute(
        dialect_insert(AuctionDayRun)
        .values(dayno=dayno, ran_at=now)
        .on_conflict_do_nothing(index_elements=["dayno"])
    )


async def count_repriced(uow: UnitOfWork, dayno: int, last: int | None) -> int:
    """Items on offer whose price on `dayno` is below the one on the last day run (prices fall
    every day until the floor)."""
    if last is not None and last >= dayno:
        return 0
    i = AuctionItem
    where = [col(i.status).in_((LISTED, RESERVED)), i.start_dayno < dayno]
    if last is not None:
        where.append(i.floor_dayno > last)
    found = await uow.session.execute(select(func.count()).select_from(i).where(*where))
    return int(found.scalar_one())


async def kinds_without_keyword(uow: UnitOfWork) -> set[str]:
    """Which kinds of active alerts without a keyword exist: "category", "any" (each one
    index lookup), so the step leaves out the joins that cannot find anything."""
    s = AuctionSubscription
    found = set()
    for kind, category in (("category", s.category != ""), ("any", s.category == "")):
        query = select(s.id).where(s.active == True, s.keyword == "", category).limit(1)  # noqa: E712
        if (await uow.session.execute(query)).first() is not None:
            found.add(kind)
    return found


def crossed_limits(
    dayno: int, last: int | None, rules: Any, first_day_start: datetime, kinds: set[str]
) -> Any:
    """(subscription, item, resident, price) for every active alert whose limit the item's
    price fell to since the last day run: price on D <= limit < price on L (an item listed
    since L: any limit from today's price up). Items matching when the alert was made were
    shown then (auction_alert rows, run "subscribe"): alerts made since L leave them out."""
    i, s, a, h = AuctionItem, AuctionSubscription, AuctionAlert, AuctionKeywordHit
    moving = [i.status == LISTED, i.start_dayno <= dayno]
    if last is not None:
        moving.append(i.floor_dayno > last)  # at the floor before L: its price did not move
    low = price_sql(dayno, rules)
    if last is None:
        high: Any = literal(NEVER_ALERTED, BigInteger)
    else:
        high = case(
            (i.start_dayno > last, literal(NEVER_ALERTED, BigInteger)),
            else_=price_sql(last, rules),
        )
    band = (
        select(i.id, i.title, i.category, low.label("low"), high.label("high"))
        .where(*moving)
        .cte("band")
        .prefix_with("MATERIALIZED")
    )
    b = band.c
    columns = (s.id.label("sub_id"), b.id.label("item_id"), s.citizen_id, b.low, b.title,
               s.max_cents)  # fmt: skip
    shown_when_made = or_(
        s.created_at < first_day_start,
        ~exists().where(a.subscription_id == s.id, a.item_id == b.id),
    )
    no_text = func.substr(b.category, 1, 0)

    def matching(keyword: Any, category: Any) -> Any:
        # probes ix_auction_sub_match (active, keyword, category, max_cents) with both price
        # bounds; the join keys are expressions of the item side (`|| ''`, `substr(.., 1, 0)`
        # = '') so that no planner turns it round into "for every subscription, scan the items"
        return and_(
            s.active == True,  # noqa: E712
            s.keyword == keyword,
            category,
            s.max_cents >= b.low,
            s.max_cents < b.high,
        )

    by_keyword = matching(h.keyword + "", col(s.category).in_([no_text, b.category + ""]))
    branches = [
        select(*columns)
        .select_from(band)
        .join(h, h.item_id == b.id)
        .join(s, by_keyword)
        .where(b.low < b.high, shown_when_made),
    ]
    if "category" in kinds:
        branches.append(
            select(*columns)
            .select_from(band)
            .join(s, matching(no_text, s.category == b.category + ""))
            .where(b.low < b.high, shown_when_made)
        )
    if "any" in kinds:
        branches.append(
            select(*columns)
            .select_from(band)
            .join(s, matching(no_text, s.category == no_text))
            .where(b.low < b.high, shown_when_made)
        )
    return union_all(*branches).subquery("crossed")


async def notify_alerts(
    uow: UnitOfWork, city: City, dayno: int, last: int | None, day: str, now: datetime
) -> int:
    """One notification per resident for tonight's alerts, built by the database in one
    INSERT ... SELECT: the alert itself when there is one, else a digest (a line per item,
    cheapest first; buttons for the first items). Returns how many alerts it covers."""
    i = AuctionItem
    if last is not None and last >= dayno:
        return 0
    later = await uow.session.execute(select(func.max(AuctionDayRun.dayno)))
    latest = later.scalar_one_or_none()
    if latest is not None and latest > dayno:
        return 0  # the time machine went back: what fell until then was alerted already
    moving = [i.status == LISTED, i.start_dayno <= dayno]
    if last is not None:
        moving.append(i.floor_dayno > last)
    rules = await price_rules(uow, *moving)
    if not rules:
        return 0
    # alerts made before the day last run cannot have shown an item that fell since then
    first_day_start = (
        datetime.combine(date.fromordinal(last), time(0), tzinfo=city.tz)
        if last is not None
        else datetime(1970, 1, 1, tzinfo=UTC)
    )
    found = crossed_limits(dayno, last, rules, first_day_start, await kinds_without_keyword(uow))
    f = found.c
    rank = func.row_number().over(partition_by=f.citizen_id, order_by=(f.low, f.item_id, f.sub_id))
    alerts = (
        select(found, rank.label("rank"))
        .order_by(f.citizen_id, f.low, f.item_id, f.sub_id)
        .subquery("alerts")
    )
    x = alerts.c
    d = uow.dialect

    def money(cents: Any) -> Any:
        return json_object(d, "$money", cents)

    def as_text(value: Any) -> Any:
        return cast(value, String)

    def button(label: Any, action: str, arg: Any) -> Any:
        return json_object(d, "label", label, "action", action, "arg", as_text(arg))

    one = func.count() == 1
    item, sub = func.min(x.item_id), func.min(x.sub_id)
    single_params = json_object(
        d, "title", func.min(x.title), "price", money(func.min(x.low)),
        "limit", money(func.min(x.max_cents)),
    )  # fmt: skip
    line_params = json_object(
        d, "title", x.title, "price", money(x.low), "limit", money(x.max_cents)
    )  # fmt: skip
    line = json_object(d, "key", DIGEST_LINE, "params", line_params)
    digest_params = json_object(
        d, "count", func.count(), "items",
        json_object(d, "$lines", json_list(d, line, x.low, x.item_id, x.sub_id)),
    )  # fmt: skip
    array = func.json_build_array if d == "postgresql" else func.json_array
    single_buttons = array(
        button(N_("Buy at today's price"), "auction.buy", item),
        button(N_("Show item"), "auction.item", item),
        button(N_("Stop this alert"), "auction.unsubscribe", sub),
    )
    digest_buttons = json_list(
        d,
        button(func.substr(x.title, 1, 40), "auction.item", x.item_id),
        x.low,
        x.item_id,
        x.sub_id,
        where=x.rank <= DIGEST_BUTTONS,
    )
    rows = select(
        x.citizen_id,
        case((one, literal(ALERT, String)), else_=literal(DIGEST, String)),
        case((one, single_params), else_=digest_params),
        case((one, single_buttons), else_=digest_buttons),
        case((one, literal("auction_item:", String) + as_text(item)), else_=None),
        case(
            (one, literal("alert:", String) + as_text(sub) + ":" + as_text(item)),
            else_=literal(f"auction.alerts:{day}:", String) + as_text(x.citizen_id),
        ),
    ).group_by(x.citizen_id)
    postgres = d == "postgresql"
    if postgres:
        # index probes per item, never a hash or merge join over millions of pairs; the
        # planner's cost estimate for that is high enough to trigger JIT compilation, which
        # costs seconds and saves nothing here; the digests are sorted in memory
        for setting in PLANNER_SETTINGS:
            await uow.session.execute(text(f"SET LOCAL {setting}"))
    counts = await notify_rows(
        uow,
        rows,
        now=now,
        stands_for=lambda note: case(
            (note.c.key == ALERT, 1), else_=note.c.params["count"].as_integer()
        ),
    )
    if postgres:
        for setting in PLANNER_SETTINGS:
            await uow.session.execute(text(f"SET LOCAL {setting.split(' = ')[0]} TO DEFAULT"))
    return counts


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
    last = await last_run(uow, dayno)
    report.repriced = await count_repriced(uow, dayno, last)
    report.awarded = await award_wishes(uow, city, now)
    report.alerts = await notify_alerts(uow, city, dayno, last, report.day, now)
    report.ended = await end_items(uow, dayno, now)
    await record_run(uow, dayno, now)
    return report
