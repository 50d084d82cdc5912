"""Wish prices: a resident names the price they would pay; when the falling price reaches it,
the item is reserved for the earliest wish (set-based, in the nightly step); a reservation not
paid in time lapses and the item passes to the next wish or back on offer. The day a wish price
is reached is computed when the wish is made (`due_dayno`), so the step only looks up the wishes
due today."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, insert, literal, select, update
from sqlmodel import col

from services.auction.items import get_item, price_for_day, rule_of, rules, today
from services.auction.price import reach_day
from services.auction.reservations import CHUNK, chunks, lapse, not_available, pay_deadline
from services.city import City
from services.errors import InvalidInput, NotFound
from services.i18n import N_, moment, money
from services.notify import button, json_object, notify_many, notify_rows
from storage.models.auction import (
    ACTIVE,
    CLOSED,
    LISTED,
    PENDING,
    RESERVED,
    WON,
    AuctionItem,
    AuctionReservation,
    AuctionWish,
)
from storage.models.outbox import Notification
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)


async def expire_reservations(uow: UnitOfWork, city: City, now: datetime) -> int:
    """Every minute: reservations not paid in time lapse; their items pass to the next wish
    (if the price has reached it) or go back on offer."""
    r = AuctionReservation
    lapsed = await lapse(uow, [r.status == PENDING, r.expires_at <= now], now)
    if lapsed:
        items = [row.item_id for row in lapsed]
        await award_wishes(uow, city, now, item_ids=items, passed_on=True)
    await remind_unpaid_wishes(uow, city, now)
    return len(lapsed)


async def remind_unpaid_wishes(uow: UnitOfWork, city: City, now: datetime) -> int:
    """Once, `wish_remind_hours` before a won wish price must be paid: a reminder with the pay
    button (the dedupe key makes it once; a paid reservation is no longer pending)."""
    hours = rules(city).wish_remind_hours
    if not hours:
        return 0
    r, i, n = AuctionReservation, AuctionItem, Notification
    already = select(n.id).where(
        n.dedupe_key == literal("auction.remind:", String) + cast(r.id, String)
    )
    due = (
        await uow.session.execute(
            select(r.id, r.citizen_id, r.item_id, r.price_cents, r.expires_at, i.title)
            .join(i, i.id == r.item_id)
            .where(
                r.status == PENDING,
                col(r.wish_id).is_not(None),
                r.expires_at > now,
                r.expires_at <= now + timedelta(hours=hours),
                ~already.exists(),
            )
            .limit(CHUNK)
        )
    ).all()
    return await notify_many(
        uow,
        [
            {
                "citizen_id": row.citizen_id,
                "key": N_(
                    "Reminder: {title} is reserved for you at your wish price {price} until "
                    "{deadline}. After that it passes to the next wish."
                ),
                "params": {
                    "title": row.title,
                    "price": money(row.price_cents),
                    "deadline": moment(row.expires_at, city.timezone),
                },
                "buttons": [
                    button(N_("Pay now"), "auction.pay", str(row.id)),
                    button(N_("Show item"), "auction.item", str(row.item_id)),
                ],
                "ref": f"auction_reservation:{row.id}",
                "dedupe_key": f"auction.remind:{row.id}",
            }
            for row in due
        ],
        now=now,
    )


async def award_wishes(
    uow: UnitOfWork,
    city: City,
    now: datetime,
    item_ids: list[int] | None = None,
    *,
    passed_on: bool = False,
) -> int:
    """For every item on offer whose current price has reached its highest wish, that wish
    (the earliest among equal ones) wins: the item is reserved for them at their wish price.
    `passed_on`: the items come from a winner who did not pay; the next wish is told so."""
    w, i = AuctionWish, AuctionItem
    dayno = today(city, now)
    rank = func.row_number().over(
        partition_by=w.item_id, order_by=(col(w.amount_cents).desc(), w.created_at, w.id)
    )
    ranked = (
        select(w.id, w.item_id, w.citizen_id, w.amount_cents, rank.label("rank"))
        .join(i, i.id == w.item_id)
        .where(w.status == ACTIVE, w.due_dayno <= dayno, i.status == LISTED)
    )
    if item_ids is not None:
        if not item_ids:
            return 0
        ranked = ranked.where(col(w.item_id).in_(item_ids))
    table = ranked.subquery()
    winners = (await uow.session.execute(select(table).where(table.c.rank == 1))).all()
    if not winners:
        return 0
    flipped: set[int] = set()
    for chunk in chunks([row.item_id for row in winners]):
        flipped.update(
            (
                await uow.session.execute(
                    update(i)
                    .where(col(i.id).in_(chunk), i.status == LISTED)
                    .values(status=RESERVED)
                    .returning(i.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalars()
        )
    winners = [row for row in winners if row.item_id in flipped]
    deadline = pay_deadline(city, now, wish=True)
    if not winners:
        return 0
    r = AuctionReservation
    stamp = r.__table__.c.created_at.type  # type: ignore[attr-defined]
    made: list[int] = []
    for chunk in chunks([row.id for row in winners]):
        won = select(
            w.item_id,
            w.citizen_id,
            w.id,
            w.amount_cents,
            literal(PENDING, String),
            literal(now, stamp),
            literal(deadline, stamp),
        ).where(col(w.id).in_(chunk))
        columns = ["item_id", "citizen_id", "wish_id", "price_cents", "status", "created_at"]
        made += (
            await uow.session.execute(
                insert(r).from_select([*columns, "expires_at"], won).returning(r.id)
            )
        ).scalars()
        await uow.session.execute(
            update(w)
            .where(col(w.id).in_(chunk))
            .values(status=WON)
            .execution_options(synchronize_session=False)
        )
    key = (
        N_(
            "Good news: {title} has passed on to you, the next wish in line (the "
            "winner before you did not pay). It is reserved for you at your wish price "
            "{price}. Please pay by {deadline}, otherwise it passes on again."
        )
        if passed_on
        else N_(
            "Your wish price was reached: {title} is reserved for you at {price}. "
            "Please pay by {deadline}, otherwise it passes to the next wish."
        )
    )
    d = uow.dialect
    when = moment(deadline, city.timezone)
    item, made_row = i.__table__.c, r.__table__.c  # type: ignore[attr-defined]
    params = json_object(
        d, "title", item.title, "price", json_object(d, "$money", made_row.price_cents),
        "deadline", json_object(d, "$datetime", when["$datetime"], "tz", when["tz"]),
    )  # fmt: skip
    array = func.json_build_array if d == "postgresql" else func.json_array

    def sql_button(label: str, action: str, arg: Any) -> Any:
        return json_object(d, "label", label, "action", action, "arg", cast(arg, String))

    buttons = array(
        sql_button(N_("Pay now"), "auction.pay", made_row.id),
        sql_button(N_("Show item"), "auction.item", made_row.item_id),
    )
    for chunk in chunks(made):  # the notices are written by the database
        await notify_rows(
            uow,
            select(
                r.citizen_id,
                literal(key, String),
                params,
                buttons,
                literal("auction_reservation:", String) + cast(r.id, String),
                literal("auction.won:", String) + cast(r.id, String),
            )
            .join(i, i.id == r.item_id)
            .where(col(r.id).in_(chunk)),
            now=now,
        )
    return len(winners)


async def place_wish(
    uow: UnitOfWork, city: City, citizen_id: int, item_id: int, amount_cents: int, now: datetime
) -> AuctionWish:
    item = await get_item(uow, item_id)
    if item.status not in (LISTED, RESERVED):
        raise not_available(item, city)
    price = price_for_day(item, today(city, now))
    if amount_cents >= price:
        raise InvalidInput(
            "A wish price must be below today's price of {price}. To pay today's price, "
            "choose Buy.",
            price=money(price),
        )
    if amount_cents < item.floor_cents:
        raise InvalidInput(
            "The price never falls below {floor}, so a wish price must be at least that.",
            floor=money(item.floor_cents),
        )
    w = AuctionWish
    existing: AuctionWish | None = (
        (
            await uow.session.execute(
                select(w).where(
                    w.item_id == item_id, w.citizen_id == citizen_id, w.status == ACTIVE
                )
            )
        )
        .scalars()
        .first()
    )
    reached = reach_day(item.start_cents, item.floor_cents, rule_of(item), amount_cents)
    due = item.start_dayno + reached
    if existing is not None:  # a changed wish queues again behind equal, earlier ones
        existing.amount_cents, existing.created_at = amount_cents, now
        existing.due_dayno = due
        return existing
    wish = AuctionWish(
        item_id=item_id,
        citizen_id=citizen_id,
        amount_cents=amount_cents,
        due_dayno=due,
        status=ACTIVE,
        created_at=now,
    )
    uow.session.add(wish)
    await uow.session.flush()
    return wish


async def withdraw_wish(uow: UnitOfWork, citizen_id: int, item_id: int) -> None:
    w = AuctionWish
    changed = await uow.session.execute(
        update(w)
        .where(w.item_id == item_id, w.citizen_id == citizen_id, w.status == ACTIVE)
        .values(status=CLOSED)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) == 0:
        raise NotFound("You have no wish price for this item.")


async def my_wish(uow: UnitOfWork, citizen_id: int, item_id: int) -> AuctionWish | None:
    w = AuctionWish
    rows = await uow.session.execute(
        select(w).where(w.item_id == item_id, w.citizen_id == citizen_id, w.status == ACTIVE)
    )
    return rows.scalars().first()
