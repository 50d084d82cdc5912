"""Due days of keyword alerts (services/auction/due.py) on SQLite and PostgreSQL: the day in SQL
is the price function's, and listing, subscribing, ending an alert, a reservation and missed
nights keep every hit due no later than the night its next limit is crossed."""

from __future__ import annotations

import contextlib
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import BigInteger, func, literal, select, text

from services import i18n
from services.auction import alerts as auction_alerts
from services.auction import reservations
from services.auction import wishes as auction_wishes
from services.auction.daily import daily_step
from services.auction.due import NEVER_DUE, reach_sql
from services.auction.items import price_for_day, today
from services.auction.price import Rule, reach_day
from services.city import City
from services.errors import Conflict
from storage.db import Database
from storage.migrate import upgrade
from storage.models.auction import (
    AuctionAlert,
    AuctionItem,
    AuctionKeywordHit,
    AuctionSubscription,
)
from storage.models.outbox import Notification
from tests.auction.support import item, list_item, person
from tests.conftest import BERLIN

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)


def night(days: int) -> datetime:
    """00:06 on the `days`-th day after MONDAY (the step's time)."""
    return MONDAY + timedelta(days=days, hours=-9.9)


async def run_day(db: Database, city: City, when: datetime) -> str:
    async with db.uow() as uow:
        report = await daily_step(uow, city, when)
        await uow.commit()
    return str(report)


async def due_days(db: Database, item_id: int) -> dict[str, int]:
    async with db.uow() as uow:
        h = AuctionKeywordHit
        rows = await uow.session.execute(select(h.keyword, h.due_dayno).where(h.item_id == item_id))
        return {keyword: due for keyword, due in rows}


async def alerts(db: Database, citizen_id: int) -> list[tuple[str, list[int]]]:
    """(day of the alert, [limits]) for every alert notification, in order."""
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Notification)
            .where(Notification.citizen_id == citizen_id)
            .order_by(Notification.id)
        )
        found = []
        for note in rows.scalars():
            day = note.created_at.astimezone(BERLIN).date().isoformat()  # the night's day
            if note.key.startswith("Deal alert:"):
                found.append((day, [note.params["limit"]["$money"]]))
            elif note.key.startswith("Deal alerts:"):
                limits = [
                    line["params"]["limit"]["$money"] for line in note.params["items"]["$lines"]
                ]
                found.append((day, limits))
        return found


async def subscribe(
    db: Database,
    city: City,
    citizen: int,
    keyword: str,
    limit: int,
    when: datetime,
    category: str = "",
) -> int:
    async with db.uow() as uow:
        sub, _shown = await auction_alerts.subscribe(
            uow, city, citizen, category=category, keyword=keyword, max_cents=limit, now=when
        )
        await uow.commit()
        assert sub.id is not None
        return sub.id


async def test_the_day_in_sql_is_the_price_function(db: Database, city: City) -> None:
    """reach_sql is reach_day for the linear rule (every rounding rule) and never later than it
    for the compound rule."""
    rng = random.Random(14)
    cases = []
    async with db.uow() as uow:
        for n in range(240):
            rule = Rule(
                rng.choice(("linear", "compound")),
                rng.choice((1, 37, 100, 250, 999)),
                rng.choice(("half_up", "down", "up")),
            )
            start = rng.randint(1, 200_000)
            floor = rng.randint(0, start)
            limit = rng.choice((floor - 1, floor, start, start + 1, rng.randint(floor, start)))
            start_day = date(2026, 11, 23).toordinal() - rng.randint(0, 50)
            row = AuctionItem(
                title=f"item {n}",
                category="fahrrad",
                found_on=date(2026, 1, 1),
                notice_on=date(2026, 1, 1),
                start_cents=start,
                floor_cents=floor,
                variant=rule.variant,
                rate_bp=rule.rate_bp,
                rounding=rule.rounding,
                start_dayno=start_day,
                floor_dayno=start_day,
                ends_dayno=start_day,
                created_at=MONDAY,
            )
            uow.session.add(row)
            cases.append((row, rule, limit))
        await uow.session.flush()
        for row, rule, limit in cases:
            found = await uow.session.execute(
                select(reach_sql(literal(limit, BigInteger))).where(AuctionItem.id == row.id)
            )
            in_sql = int(found.scalar_one())
            if limit < row.floor_cents:
                assert in_sql == NEVER_DUE
                continue
            exact = row.start_dayno + reach_day(row.start_cents, row.floor_cents, rule, limit)
            if rule.variant == "linear":
                assert in_sql == exact, (row.start_cents, row.floor_cents, rule, limit)
            else:
                assert row.start_dayno <= in_sql <= exact, (row.start_cents, rule, limit)


async def test_due_days_follow_listing_subscribing_ending_and_the_nights(
    db: Database, city: City
) -> None:
    staff = await person(db, "frank", MONDAY, "staff", "fundbuero")
    anna, ben, cem, dora = [await person(db, u, MONDAY) for u in ("anna", "ben", "cem", "dora")]
    bike = await list_item(db, city, staff, MONDAY, start=10_000, floor=4_000)  # -1 € a day
    s = (await item(db, bike)).start_dayno
    assert await due_days(db, bike) == {}  # no alert with a keyword of its text yet
    await subscribe(db, city, anna, "gazelle", 9_550, MONDAY)  # 95 € on day 5
    assert await due_days(db, bike) == {"gazelle": s + 5}
    await subscribe(db, city, ben, "gazelle", 9_750, MONDAY, "fahrrad")  # 97 € on day 3
    assert await due_days(db, bike) == {"gazelle": s + 3}
    await subscribe(db, city, cem, "gazelle", 9_900, MONDAY, "schmuck")  # another category
    await subscribe(db, city, cem, "damenfahrrad", 3_000, MONDAY)  # below the floor: never
    dora_sub = await subscribe(db, city, dora, "gazelle", 9_650, MONDAY)  # 96 € on day 4
    assert await due_days(db, bike) == {"gazelle": s + 3, "damenfahrrad": NEVER_DUE}
    # an item listed later: its hits are checked on its first night; 98 € less 0,98 € a day
    frame = await list_item(
        db, city, staff, MONDAY + timedelta(days=1), title="Gazelle Rahmen", start=9_800
    )
    assert await due_days(db, frame) == {"gazelle": s + 1}

    await run_day(db, city, night(1))  # the first night: nothing costs a limit yet
    assert await due_days(db, frame) == {"gazelle": s + 2}  # 97,02 € <= ben's 97,50 €
    assert await due_days(db, bike) == {"gazelle": s + 3, "damenfahrrad": NEVER_DUE}
    await run_day(db, city, night(2))
    assert await alerts(db, ben) == [("2026-11-25", [9_750])]  # the frame
    assert await due_days(db, frame) == {"gazelle": s + 3}  # 96,04 € <= dora's 96,50 €
    await run_day(db, city, night(3))
    assert await alerts(db, ben) == [("2026-11-25", [9_750]), ("2026-11-26", [9_750])]
    assert await alerts(db, dora) == [("2026-11-26", [9_650])]  # the frame
    assert await due_days(db, bike) == {"gazelle": s + 4, "damenfahrrad": NEVER_DUE}
    assert await due_days(db, frame) == {"gazelle": s + 4}  # 95,06 € <= anna's 95,50 €
    async with db.uow() as uow:  # dora ends her alert: the day stays, nothing is sent for it
        await auction_alerts.unsubscribe(uow, dora, dora_sub)
        await uow.commit()
    await run_day(db, city, night(4))
    assert await alerts(db, dora) == [("2026-11-26", [9_650])]
    assert await alerts(db, anna) == [("2026-11-27", [9_550])]  # the frame
    assert await due_days(db, bike) == {"gazelle": s + 5, "damenfahrrad": NEVER_DUE}
    assert await due_days(db, frame) == {"gazelle": NEVER_DUE}  # no limit below 95,06 €
    await run_day(db, city, night(5))
    assert await alerts(db, anna) == [("2026-11-27", [9_550]), ("2026-11-28", [9_550])]
    assert await due_days(db, bike) == {"gazelle": NEVER_DUE, "damenfahrrad": NEVER_DUE}
    await run_day(db, city, night(6))
    assert [len(await alerts(db, who)) for who in (anna, ben, cem, dora)] == [2, 2, 0, 1]


async def test_a_reserved_item_is_due_again_when_back_on_offer(db: Database, city: City) -> None:
    staff = await person(db, "frank", MONDAY, "staff", "fundbuero")
    anna, ben, dora = [await person(db, u, MONDAY) for u in ("anna", "ben", "dora")]
    bike = await list_item(db, city, staff, MONDAY, start=10_000, floor=4_000)
    s = (await item(db, bike)).start_dayno
    await subscribe(db, city, anna, "gazelle", 9_750, MONDAY)  # day 3
    await subscribe(db, city, ben, "gazelle", 9_550, MONDAY)  # day 5
    async with db.uow() as uow:  # dora's wish wins on day 3, before the alerts
        await auction_wishes.place_wish(uow, city, dora, bike, 9_700, MONDAY)
        await uow.commit()
    assert "1 wish awards, 0 alerts" in await run_day(db, city, night(3))
    assert (await item(db, bike)).status == "reserved"
    async with db.uow() as uow:  # the notice the database wrote for the winner
        held = await reservations.holding_reservation(uow, bike)
        assert held is not None and held.wish_id is not None
        found = await uow.session.execute(
            select(Notification).where(Notification.citizen_id == dora)
        )
        (won,) = found.scalars()
        uow.session.expunge_all()
    assert won.key.startswith("Your wish price was reached: {title} is reserved")
    deadline = won.params.pop("deadline")
    assert won.params == {"title": "Damenfahrrad Gazelle, blau", "price": {"$money": 9_700}}
    assert deadline == {"$datetime": "2026-11-27T20:00:00+01:00", "tz": "Europe/Berlin"}
    assert datetime.fromisoformat(deadline["$datetime"]) == held.expires_at
    won.params["deadline"] = deadline
    assert won.buttons == [
        {"label": "Pay now", "action": "auction.pay", "arg": str(held.id)},
        {"label": "Show item", "action": "auction.item", "arg": str(bike)},
    ]
    assert (won.ref, won.dedupe_key) == (f"auction_reservation:{held.id}", f"auction.won:{held.id}")
    text = i18n.translate("en", won.key, won.params).replace("\xa0", " ")
    assert "at €97.00. Please pay by" in text
    assert await due_days(db, bike) == {"gazelle": s + 5}  # from the price on day 3
    await run_day(db, city, night(4))
    async with db.uow() as uow:  # dora does not pay: back on offer on day 4
        lapsed = datetime(2026, 11, 27, 20, 1, tzinfo=BERLIN)
        assert await auction_wishes.expire_reservations(uow, city, lapsed) == 1
        await uow.commit()
    assert (await item(db, bike)).status == "listed"
    await run_day(db, city, night(5))
    assert await alerts(db, anna) == []  # 97,50 € was crossed while it was reserved
    assert await alerts(db, ben) == [("2026-11-28", [9_550])]


async def test_missed_nights_are_caught_up_once(db: Database, city: City) -> None:
    staff = await person(db, "frank", MONDAY, "staff", "fundbuero")
    anna = await person(db, "anna", MONDAY)
    title = 'Damenfahrrad "Gazelle", blau – grün \\ 100%'  # quoted right in the digest
    bike = await list_item(db, city, staff, MONDAY, title=title, start=10_000, floor=4_000)
    start = (await item(db, bike)).start_dayno
    await subscribe(db, city, anna, "gazelle", 9_750, MONDAY)  # day 3
    await subscribe(db, city, anna, "blau", 9_550, MONDAY)  # day 5
    await subscribe(db, city, anna, "gazelle", 9_250, MONDAY)  # day 8
    await run_day(db, city, night(1))
    # nights 2 to 5 missed: one digest on day 6 with both limits crossed since day 1
    assert "2 alerts" in await run_day(db, city, night(6))
    assert await alerts(db, anna) == [("2026-11-29", [9_750, 9_550])]
    async with db.uow() as uow:
        found = await uow.session.execute(select(Notification.params))
        (params,) = found.scalars()
    assert params["items"]["$lines"] == [
        {
            "key": "{title}: {price} (your limit: {limit})",
            "params": {"title": title, "price": {"$money": 9_400}, "limit": {"$money": limit}},
        }
        for limit in (9_750, 9_550)
    ]
    assert await due_days(db, bike) == {"gazelle": start + 8, "blau": NEVER_DUE}
    assert "0 alerts" in await run_day(db, city, night(6))  # the same night again: nothing
    assert "0 alerts" in await run_day(db, city, night(7))
    assert "1 alerts" in await run_day(db, city, night(9))
    assert len(await alerts(db, anna)) == 2


async def test_the_upgrade_makes_existing_hits_due_at_once(tmp_path: Path) -> None:
    """Revision 0010: hits of items on offer are due at once (the first step checks them and
    sets their days), those of sold, ended and withdrawn items never."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'upgraded.db'}")
    try:
        await upgrade(db, "0009")
        async with db.engine.begin() as conn:
            for n, status in enumerate(("listed", "reserved", "sold", "ended", "withdrawn")):
                await conn.execute(
                    text(
                        "INSERT INTO auction_item (id, title, description, category, found_place,"
                        " found_on, notice_on, start_cents, floor_cents, variant, rate_bp,"
                        " rounding, start_dayno, floor_dayno, ends_dayno, status, search_text,"
                        " created_at) VALUES (:id, 'Gazelle', '', 'fahrrad', '', '2026-01-01',"
                        " '2026-01-01', 10000, 4000, 'linear', 100, 'half_up', 1, 61, 75,"
                        " :status, 'gazelle', '2026-01-01 00:00:00')"
                    ),
                    {"id": n + 1, "status": status},
                )
                await conn.execute(
                    text(
                        "INSERT INTO auction_keyword_hit (keyword, item_id) VALUES ('gazelle', :id)"
                    ),
                    {"id": n + 1},
                )
        await upgrade(db)
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT item_id, due_dayno FROM auction_keyword_hit ORDER BY item_id")
            )
            assert [tuple(row) for row in rows] == [
                (1, 0),
                (2, 0),
                (3, NEVER_DUE),
                (4, NEVER_DUE),
                (5, NEVER_DUE),
            ]
    finally:
        await db.dispose()


async def test_nights_with_due_days_alert_exactly_what_the_prices_say(
    db: Database, city: City
) -> None:
    """Random items, alerts, ended alerts and missed nights: every night the step sends, per
    resident, exactly the alerts that comparing every item with every alert finds."""
    rng = random.Random(1414)
    staff = await person(db, "frank", MONDAY, "staff", "fundbuero")
    people = [await person(db, f"p{n}", MONDAY) for n in range(6)]
    words = ["gazelle", "kalkhoff", "blau", "rot", "ring", "gold"]
    subs: list[int] = []
    last: int | None = None
    day = 0
    starts = [10_000]
    for _night in range(30):
        when = MONDAY + timedelta(days=day, hours=rng.choice((-1, 2, 5)))
        for _ in range(rng.randint(1, 3)):  # listed today
            title = " ".join(rng.sample(words, 2)).title()
            start = rng.randint(20, 200) * 100
            category = rng.choice(("fahrrad", "schmuck"))
            floor = start * rng.randint(20, 90) // 100
            starts.append(start)
            await list_item(
                db, city, staff, when, title=title, category=category, start=start, floor=floor
            )
        for _ in range(rng.randint(1, 5)):  # new alerts, some without a keyword
            keyword = rng.choice([*words, ""])
            category = rng.choice(("", "fahrrad", "schmuck")) if keyword else "fahrrad"
            limit = int(rng.choice(starts) * rng.uniform(0.3, 1.0))  # crossed some day
            with contextlib.suppress(Conflict):  # the same alert twice
                who = rng.choice(people)
                subs.append(await subscribe(db, city, who, keyword, limit, when, category))
        if subs and rng.random() < 0.3:  # an alert ended
            sub_id = subs.pop(rng.randrange(len(subs)))
            async with db.uow() as uow:
                found = await uow.session.get(AuctionSubscription, sub_id)
                assert found is not None
                await auction_alerts.unsubscribe(uow, found.citizen_id, sub_id)
                await uow.commit()
        day += rng.choice((1, 1, 2, 3, 5))  # some nights missed
        step_at = night(day)
        dayno = today(city, step_at)
        expected = await expected_alerts(db, city, dayno, last, step_at)
        before = await last_note_id(db)
        await run_day(db, city, step_at)
        assert await alerts_since(db, before) == expected, f"night {day}"
        last = dayno
        await run_day(db, city, step_at)  # again: nothing
        assert await alerts_since(db, before) == expected


async def expected_alerts(
    db: Database, city: City, dayno: int, last: int | None, now: datetime
) -> dict[int, int]:
    """Alerts per resident by comparing every listed item with every active alert."""
    async with db.uow() as uow:
        items = (await uow.session.execute(select(AuctionItem))).scalars().all()
        subs = (await uow.session.execute(select(AuctionSubscription))).scalars().all()
        shown = {
            (a.subscription_id, a.item_id)
            for a in (await uow.session.execute(select(AuctionAlert))).scalars()
        }
        uow.session.expunge_all()
    first_day_start = (
        datetime.combine(date.fromordinal(last), datetime.min.time(), tzinfo=city.tz)
        if last is not None
        else None
    )
    found: dict[int, int] = {}
    for it in items:
        if it.status != "listed" or it.start_dayno > dayno:
            continue
        if last is not None and it.floor_dayno <= last:
            continue
        low = price_for_day(it, dayno)
        high = None if last is None or it.start_dayno > last else price_for_day(it, last)
        for sub in subs:
            if not sub.active or (sub.keyword and sub.keyword not in it.search_text):
                continue
            if sub.category and sub.category != it.category:
                continue
            if not (low <= sub.max_cents and (high is None or sub.max_cents < high)):
                continue
            made_before = first_day_start is not None and sub.created_at < first_day_start
            if not made_before and (sub.id, it.id) in shown:
                continue
            found[sub.citizen_id] = found.get(sub.citizen_id, 0) + 1
    return found


async def last_note_id(db: Database) -> int:
    async with db.uow() as uow:
        found = await uow.session.execute(select(func.max(Notification.id)))
        return found.scalar_one_or_none() or 0


async def alerts_since(db: Database, note_id: int) -> dict[int, int]:
    async with db.uow() as uow:
        rows = await uow.session.execute(select(Notification).where(Notification.id > note_id))
        found: dict[int, int] = {}
        for note in rows.scalars():
            if note.key.startswith("Deal alert:"):
                found[note.citizen_id] = found.get(note.citizen_id, 0) + 1
            elif note.key.startswith("Deal alerts:"):
                found[note.citizen_id] = found.get(note.citizen_id, 0) + note.params["count"]
        return found
