"""The daily auction step: a few set-based statements that only touch what is due today.

A price is a pure function of the day (services/auction/price.py), so nothing is repriced: the
step computes the prices it needs in SQL (the factors come from the price function). For local
day D (city time zone) and the last day the step ran, L, it
1. counts the items whose price fell since L (the report's "prices"),
2. awards the wish prices due today: a wish knows the day its price is reached (`due_dayno`,
   set when it was made), so they are found through an index (services.auction.wishes),
3. finds the deal alerts whose limit the fall since L crossed (price on D <= limit < price on
   L; items listed after L: any limit from today's price up): alerts with a keyword only in
   the keyword hits due tonight (services/auction/due.py: a hit knows the day its item's
   price next reaches a limit of its keyword), which are then advanced to their next day;
   alerts without a keyword only for items whose price band meets their limits,
4. writes one notification per resident for the night, in SQL, in the same INSERT ... SELECT:
   the alert itself when it is one, else a digest with a line per item,
5. ends items that sat at the floor unsold long enough,
6. records D as run.

Catch-up safe: after missed days one run compares today's prices with those of the last day
run, so every crossed limit is alerted once; running it twice for D finds nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col

from services.auction import due
from services.auction.items import today
from services.auction.price import PPB, factor_ppb
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
from storage.uow import UnitOfWork, rows_changed

NEVER_ALERTED = 2**62  # the upper bound of an item listed since the last run: any limit
PLANNER_SETTINGS = (
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
    ("jit", "off"),
    ("work_mem", "64MB"),
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
    for variant, rate_bp, rounding, start in rows:
        found.setdefault((variant, rate_bp, rounding), []).append(start)
    return found


def price_sql(dayno: int, rules: dict[tuple[str, int, str], list[int]]) -> Any:
    """The items' price on `dayno` as an SQL expression: the price function's factors for each
    start day in use, the rule's rounding and the floor (services/auction/price.py, price_on)."""
    i = AuctionItem
    prices = []
    for (variant, rate_bp, rounding), starts in rules.items():
        if variant == "linear":  # factor_ppb's formula: no table of days needed
            days = literal(dayno, BigInteger) - i.start_dayno
            per_day = rate_bp * (PPB // 10_000)
            factor: Any = case(
                (days <= 0, PPB), (days * per_day >= PPB, 0), else_=PPB - days * per_day
            )
        else:
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


async def moving_items(
    uow: UnitOfWork, dayno: int, last: int | None
) -> tuple[int, dict[tuple[str, int, str], list[int]]]:
    """Items on offer (listed or reserved) whose price on `dayno` is below the one on the last
    day run (prices fall every day until the floor), counted, and the price rules and start
    days among them and the items listed today (one scan)."""
    if last is not None and last >= dayno:
        return 0, {}
    i = AuctionItem
    where = [col(i.status).in_((LISTED, RESERVED)), i.start_dayno <= dayno]
    if last is not None:
        where.append(i.floor_dayno > last)
    rows = await uow.session.execute(
        select(
            i.variant,
            i.rate_bp,
            i.rounding,
            i.start_dayno,
            func.count().filter(i.start_dayno < dayno),
        )
        .where(*where)
        .group_by(i.variant, i.rate_bp, i.rounding, i.start_dayno)
    )
    repriced, rules = 0, dict[tuple[str, int, str], list[int]]()
    for variant, rate_bp, rounding, start, moved in rows:
        rules.setdefault((variant, rate_bp, rounding), []).append(start)
        repriced += int(moved)
    return repriced, rules


@dataclass
class WithoutKeyword:
    """Active alerts without a keyword: whether there are "category" and "any" ones (else the
    step leaves out their joins) and the range of their limits (items whose price band is
    outside it are not probed)."""

    kinds: set[str]
    lowest: int = 0
    highest: int = -1


async def without_keyword(uow: UnitOfWork) -> WithoutKeyword:
    s = AuctionSubscription
    rows = await uow.session.execute(
        select(s.category, func.min(s.max_cents), func.max(s.max_cents))
        .where(s.active == True, s.keyword == "")  # noqa: E712
        .group_by(s.category)
    )
    found = WithoutKeyword(set())
    for category, lowest, highest in rows:
        found.kinds.add("category" if category else "any")
        found.lowest = lowest if found.highest < 0 else min(found.lowest, lowest)
        found.highest = max(found.highest, highest)
    return found


def crossed_limits(
    dayno: int,
    last: int | None,
    rules: Any,
    first_day_start: datetime,
    plain: WithoutKeyword,
    dialect: str,
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
        .where(*moving, low <= plain.highest, high > plain.lowest)
        .cte("band")
        .prefix_with("MATERIALIZED")
    )
    # the keyword hits due tonight (services/auction/due.py), with the same prices; on
    # PostgreSQL they are advanced to their next day in the same statement
    hit_columns = (h.keyword, i.id, i.title, i.category, low.label("low"), high.label("high"))
    if dialect == "postgresql":
        due_hits = due.advanced(dayno, low, *hit_columns, and_(*moving).label("moving"))
        due_moving: list[Any] = [due_hits.c.moving]
    else:
        due_hits = (
            select(*hit_columns)
            .select_from(h)
            .join(i, i.id == h.item_id)
            .where(h.due_dayno <= dayno, *moving)
            .cte("due")
            .prefix_with("MATERIALIZED")
        )
        due_moving = []

    def columns(b: Any) -> tuple[Any, ...]:
        return (s.id.label("sub_id"), b.id.label("item_id"), s.citizen_id, b.low, b.title,
                s.max_cents)  # fmt: skip

    def shown_when_made(b: Any) -> Any:
        return or_(
            s.created_at < first_day_start,
            ~exists().where(a.subscription_id == s.id, a.item_id == b.id),
        )

    b, k = band.c, due_hits.c
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

    def matching_due(keyword: Any, category: Any) -> Any:
        return and_(
            s.active == True,  # noqa: E712
            s.keyword == keyword,
            category,
            s.max_cents >= k.low,
            s.max_cents < k.high,
        )

    by_keyword = matching_due(
        k.keyword + "", col(s.category).in_([func.substr(k.category, 1, 0), k.category + ""])
    )
    branches = [
        select(*columns(k))
        .select_from(due_hits)
        .join(s, by_keyword)
        .where(*due_moving, k.low < k.high, shown_when_made(k)),
    ]
    if "category" in plain.kinds:
        branches.append(
            select(*columns(b))
            .select_from(band)
            .join(s, matching(no_text, s.category == b.category + ""))
            .where(b.low < b.high, shown_when_made(b))
        )
    if "any" in plain.kinds:
        branches.append(
            select(*columns(b))
            .select_from(band)
            .join(s, matching(no_text, s.category == no_text))
            .where(b.low < b.high, shown_when_made(b))
        )
    return union_all(*branches).subquery("crossed")


LINE_JSON = '{"key":%s,"params":{"title":%s,"price":{"$money":%s},"limit":{"$money":%s}}}'


def digest_lines_postgresql(x: Any) -> Any:
    """The JSON list of a digest's lines, cheapest first, as json_list(json_object(...)) would
    build it, from one format() per line: json_build_object looks up the types of its
    arguments on every call, and four calls per line were a fifth of the nightly statement
    (81,375 lines in bench/auction_day.py). Strings are quoted by to_json, numbers are
    integers."""
    line = func.format(
        LINE_JSON,
        func.to_json(literal(DIGEST_LINE, Text)),
        func.to_json(cast(x.title, Text)),
        x.low,
        x.max_cents,
    )
    joined = func.string_agg(line, aggregate_order_by(literal(","), x.low, x.item_id, x.sub_id))
    return cast(literal("[") + joined + literal("]"), JSON)


async def notify_alerts(
    uow: UnitOfWork,
    city: City,
    dayno: int,
    last: int | None,
    rules: dict[tuple[str, int, str], list[int]],
    day: str,
    now: datetime,
) -> int:
    """One notification per resident for tonight's alerts, built by the database in one
    INSERT ... SELECT: the alert itself when there is one, else a digest (a line per item,
    cheapest first; buttons for the first items). Returns how many alerts it covers."""
    if last is not None and last >= dayno:
        return 0
    later = await uow.session.execute(select(func.max(AuctionDayRun.dayno)))
    latest = later.scalar_one_or_none()
    if latest is not None and latest > dayno:
        return 0  # the time machine went back: what fell until then was alerted already
    if not rules:  # no item on offer moved since L
        await due.advance(uow, dayno, price_sql(dayno, rules))
        return 0
    # alerts made before the day last run cannot have shown an item that fell since then
    first_day_start = (
        datetime.combine(date.fromordinal(last), time(0), tzinfo=city.tz)
        if last is not None
        else datetime(1970, 1, 1, tzinfo=UTC)
    )
    found = crossed_limits(
        dayno, last, rules, first_day_start, await without_keyword(uow), uow.dialect
    )
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
    if d == "postgresql":
        lines = digest_lines_postgresql(x)
    else:
        line_params = json_object(
            d, "title", x.title, "price", money(x.low), "limit", money(x.max_cents)
        )  # fmt: skip
        line = json_object(d, "key", DIGEST_LINE, "params", line_params)
        lines = json_list(d, line, x.low, x.item_id, x.sub_id)
    digest_params = json_object(
        d, "count", func.count(), "items", json_object(d, "$lines", lines)
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
        await uow.session.execute(
            select(*(func.set_config(name, value, True) for name, value in PLANNER_SETTINGS))
        )
    counts = await notify_rows(
        uow,
        rows,
        now=now,
        stands_for=lambda note: case(
            (note.c.key == ALERT, 1), else_=note.c.params["count"].as_integer()
        ),
    )
    if not postgres:  # PostgreSQL advanced them in the statement above
        await due.advance(uow, dayno, price_sql(dayno, rules))
    if postgres:
        settings = table("pg_settings", column("name"), column("reset_val"))
        await uow.session.execute(
            select(func.set_config(settings.c.name, settings.c.reset_val, True)).where(
                settings.c.name.in_([name for name, _value in PLANNER_SETTINGS])
            )
        )
    return counts


async def end_items(uow: UnitOfWork, dayno: int, now: datetime) -> int:
    """Items that sat at the floor unsold long enough end; their wishes are void (told)."""
    i, w = AuctionItem, AuctionWish
    ended = rows_changed(
        await uow.session.execute(
            update(i)
            .where(i.status == LISTED, i.ends_dayno <= dayno)
            .values(status=ENDED, closed_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not ended:
        return 0
    just_ended = select(i.id).where(i.status == ENDED, i.closed_at == now)
    title = select(i.title).where(i.id == w.item_id).scalar_subquery()
    wishers = (
        await uow.session.execute(
            update(w)
            .where(col(w.item_id).in_(just_ended), w.status == ACTIVE)
            .values(status=CLOSED)
            .returning(w.id, w.item_id, w.citizen_id, title)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await notify_many(
        uow,
        [
            {
                "citizen_id": citizen_id,
                "key": N_(
                    "The auction of {title} has ended without a sale; your wish price is void."
                ),
                "params": {"title": item_title},
                "ref": f"auction_item:{item_id}",
                "dedupe_key": f"auction.ended:{wish_id}",
            }
            for wish_id, item_id, citizen_id, item_title in wishers
        ],
        now=now,
    )
    return ended


async def daily_step(uow: UnitOfWork, city: City, now: datetime) -> DayReport:
    dayno = today(city, now)
    report = DayReport(day=now.astimezone(city.tz).date().isoformat())
    last = await last_run(uow, dayno)
    report.repriced, rules = await moving_items(uow, dayno, last)
    report.awarded = await award_wishes(uow, city, now)  # listed -> reserved: same rules
    report.alerts = await notify_alerts(uow, city, dayno, last, rules, report.day, now)
    report.ended = await end_items(uow, dayno, now)
    await record_run(uow, dayno, now)
    return report
