"""Buying at today's price, wish prices, payment, pickup codes.

Exactly one resident wins an item: reserving is one conditional UPDATE (`status = 'listed'`),
and a partial unique index allows one holding reservation per item. Wish awards and lapsed
reservations are handled set-based, for all items at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import col

from services import audit, codes
from services.auction.items import get_item, price_for_day, rules, today
from services.city import City
from services.env import Env
from services.errors import Conflict, InvalidInput, NotFound
from services.i18n import N_, day, moment, money
from services.notify import button, notify_citizen, notify_department, notify_many
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from storage.models.auction import (
    ACTIVE,
    CLOSED,
    LAPSED,
    PENDING,
    WON,
    AuctionReservation,
    AuctionWish,
)
from storage.models.auction import COLLECTED as COLLECTED
from storage.models.auction import LISTED as LISTED
from storage.models.auction import PAID as PAID
from storage.models.auction import RESERVED as RESERVED
from storage.models.auction import SOLD as SOLD
from storage.models.auction import AuctionItem as AuctionItem
from storage.models.payments import CREATED, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)
PURPOSE = "auction"
CHUNK = 5000


def pay_deadline(city: City, now: datetime, *, wish: bool) -> datetime:
    """30 minutes (configured) to pay; a wish price won at night may be paid from the morning."""
    config = rules(city)
    window = timedelta(minutes=config.reservation_minutes)
    if wish and config.wish_pay_from:
        local = now.astimezone(city.tz)
        opens = datetime.combine(local.date(), time.fromisoformat(config.wish_pay_from), city.tz)
        if local < opens:
            return opens + window
    return now + window


def chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# ---------------------------------------------------------------- buying now
async def buy(
    uow: UnitOfWork, city: City, citizen_id: int, item_id: int, now: datetime
) -> AuctionReservation:
    """Reserve the item at today's price for the resident while they pay."""
    item = await get_item(uow, item_id)
    mine = await holding_reservation(uow, item_id)
    if mine is not None and mine.citizen_id == citizen_id and mine.status == PENDING:
        return mine  # pressed twice: the same reservation
    price = price_for_day(item, today(city, now))
    changed = await uow.session.execute(
        update(AuctionItem)
        .where(AuctionItem.id == item_id, AuctionItem.status == LISTED)
        .values(status=RESERVED)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        await uow.session.refresh(item)
        raise _not_available(item, city)
    reservation = AuctionReservation(
        item_id=item_id,
        citizen_id=citizen_id,
        price_cents=price,
        status=PENDING,
        created_at=now,
        expires_at=pay_deadline(city, now, wish=False),
    )
    uow.session.add(reservation)
    await uow.session.flush()
    audit.log_action(
        uow,
        now,
        "auction.reserve",
        f"auction_item:{item_id}",
        actor_citizen_id=citizen_id,
        price_cents=price,
    )
    return reservation


def _not_available(item: AuctionItem, city: City) -> Conflict:
    if item.status == RESERVED:
        return Conflict(
            "Someone else is paying for this item right now. If they do not pay within "
            "{minutes} minutes, it is offered again.",
            minutes=rules(city).reservation_minutes,
        )
    if item.status == SOLD:
        return Conflict("Sorry, this item has already been sold.")
    return Conflict("Sorry, this item is no longer in the auction.")


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


async def start_payment(
    uow: UnitOfWork,
    env: Env,
    citizen_id: int,
    reservation_id: int,
    now: datetime,
) -> Payment:
    """A checkout for a pending reservation (the same one again when pressed twice)."""
    reservation = await my_reservation(uow, citizen_id, reservation_id)
    if reservation.status in (PAID, COLLECTED):
        raise Conflict("You have already paid for this item.")
    if reservation.status != PENDING or reservation.expires_at <= now:
        raise Conflict(
            "Your reservation has lapsed, so nothing can be paid for it any more. "
            "Nothing was charged."
        )
    if reservation.payment_id is not None:
        existing = await uow.session.get(Payment, reservation.payment_id)
        if existing is not None and existing.status == CREATED:
            return existing
    item = await get_item(uow, reservation.item_id)
    payment = await payments.start(
        uow,
        env,
        citizen_id=citizen_id,
        purpose=PURPOSE,
        ref=str(reservation.id),
        amount_cents=reservation.price_cents,
        description=f"Fundsache: {item.title}",
        now=now,
        ttl=reservation.expires_at - now,
    )
    reservation.payment_id = payment.id
    await uow.session.flush()  # the payment hooks match on it with UPDATE statements
    return payment


# ---------------------------------------------------------------- payment outcome
async def payment_received(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    """on_paid: the reservation becomes a purchase with a pickup code (same transaction)."""
    r = AuctionReservation
    await uow.session.flush()
    reservation = await uow.session.get(r, int(payment.ref))
    if reservation is None:
        log.error("auction payment %s for unknown reservation %s", payment.id, payment.ref)
        return
    changed = await uow.session.execute(
        update(r)
        .where(r.id == reservation.id, r.status == PENDING, r.payment_id == payment.id)
        .values(status=PAID, paid_at=now, pickup_code=codes.new_code(12))
        .execution_options(synchronize_session=False)
    )
    item = await get_item(uow, reservation.item_id)
    if rows_changed(changed) != 1:
        await _late_payment(uow, env.city, payment, item, now)
        return
    await uow.session.refresh(reservation)
    item.status, item.closed_at = SOLD, now
    await uow.session.execute(
        update(AuctionWish)
        .where(AuctionWish.item_id == item.id, AuctionWish.status == ACTIVE)
        .values(status=CLOSED)
        .execution_options(synchronize_session=False)
    )
    audit.log_action(
        uow,
        now,
        "auction.sold",
        f"auction_item:{item.id}",
        actor_citizen_id=reservation.citizen_id,
        price_cents=reservation.price_cents,
        payment_id=payment.id,
    )
    config = rules(env.city)
    notify_citizen(
        uow,
        reservation.citizen_id,
        N_(
            "Thank you, paid: {title} is yours. Pickup code {code}, at {place} within {days} days. "
            "The code and its QR code are in your wallet."
        ),
        {
            "title": item.title,
            "code": codes.display(reservation.pickup_code or ""),
            "place": config.pickup_place,
            "days": config.pickup_days,
        },
        now=now,
        buttons=[button(N_("Show pickup code"), "auction.pickup", str(reservation.id))],
        ref=f"auction_reservation:{reservation.id}",
        dedupe_key=f"auction.paid:{reservation.id}",
    )


async def _late_payment(
    uow: UnitOfWork, city: City, payment: Payment, item: AuctionItem, now: datetime
) -> None:
    """Money arrived for a reservation that lapsed: the item is not given; staff refund."""
    log.warning("late auction payment %s for reservation %s", payment.id, payment.ref)
    notify_citizen(
        uow,
        payment.citizen_id,
        N_(
            "Your payment of {amount} for {title} arrived after your reservation had lapsed. "
            "The item was not reserved for you any more; the money will be refunded."
        ),
        {"amount": money(payment.amount_cents), "title": item.title},
        now=now,
        ref=f"payment:{payment.id}",
        dedupe_key=f"auction.late:{payment.id}",
    )
    if city.department("fundbuero") is not None:
        notify_department(
            uow,
            city,
            "fundbuero",
            N_(
                "Late payment {payment} ({amount}) for {title} arrived after the reservation "
                "lapsed; it is refunded automatically."
            ),
            {"payment": payment.id, "amount": money(payment.amount_cents), "title": item.title},
            now=now,
            ref=f"payment:{payment.id}",
        )
    audit.log_action(
        uow, now, "auction.late_payment", f"payment:{payment.id}", actor="system", item_id=item.id
    )


async def refund_late_payments(uow: UnitOfWork, env: Env, now: datetime) -> int:
    """Payments that arrived for a reservation that had lapsed (no item was given): pay them
    back through the provider. For the scheduler; returns how many were refunded."""
    if env.payments is None:
        return 0
    query = (
        select(Payment.id, Payment.amount_cents - Payment.refunded_cents)
        .join(AuctionReservation, col(AuctionReservation.payment_id) == Payment.id)
        .where(
            Payment.purpose == PURPOSE,
            Payment.status == payments.PAID,
            Payment.refunded_cents < Payment.amount_cents,
            col(AuctionReservation.status).not_in([PAID, COLLECTED]),
        )
        .limit(200)
    )
    done = 0
    for payment_id, due in (await uow.session.execute(query)).all():
        await payments.refund(uow, env, payment_id, int(due), now)
        audit.log_action(uow, now, "auction.refund_late", f"payment:{payment_id}", actor="system")
        done += 1
    return done


async def payment_failed(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    """on_failed: the reservation lapses at once; the item goes back (or to the next wish)."""
    r = AuctionReservation
    lapsed = await _lapse(
        uow, [r.id == int(payment.ref), r.status == PENDING, r.payment_id == payment.id], now
    )
    if lapsed:
        await award_wishes(uow, env.city, now, item_ids=[row.item_id for row in lapsed])


# ---------------------------------------------------------------- lapsing and wishes
async def _lapse(uow: UnitOfWork, where: list[Any], now: datetime) -> list[Any]:
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
    titles: dict[int, str] = dict(
        (
            await uow.session.execute(
                select(AuctionItem.id, AuctionItem.title).where(
                    col(AuctionItem.id).in_(items[:CHUNK])
                )
            )
        )
        .tuples()
        .all()
    )
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


async def expire_reservations(uow: UnitOfWork, city: City, now: datetime) -> int:
    """Every minute: reservations not paid in time lapse; their items pass to the next wish
    (if the price has reached it) or go back on offer."""
    r = AuctionReservation
    lapsed = await _lapse(uow, [r.status == PENDING, r.expires_at <= now], now)
    if lapsed:
        await award_wishes(uow, city, now, item_ids=[row.item_id for row in lapsed])
    return len(lapsed)


async def award_wishes(
    uow: UnitOfWork, city: City, now: datetime, item_ids: list[int] | None = None
) -> int:
    """For every item on offer whose current price has reached its highest wish, that wish
    (the earliest among equal ones) wins: the item is reserved for them at their wish price."""
    w, i = AuctionWish, AuctionItem
    rank = func.row_number().over(
        partition_by=w.item_id, order_by=(col(w.amount_cents).desc(), w.created_at, w.id)
    )
    ranked = (
        select(w.id, w.item_id, w.citizen_id, w.amount_cents, rank.label("rank"))
        .join(i, i.id == w.item_id)
        .where(w.status == ACTIVE, i.status == LISTED, w.amount_cents >= i.price_cents)
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
    await uow.session.execute(
        insert(AuctionReservation),
        [
            {
                "item_id": row.item_id,
                "citizen_id": row.citizen_id,
                "wish_id": row.id,
                "price_cents": row.amount_cents,
                "status": PENDING,
                "created_at": now,
                "expires_at": deadline,
                "payment_id": None,
                "paid_at": None,
                "pickup_code": None,
                "collected_at": None,
            }
            for row in winners
        ],
    )
    for chunk in chunks([row.id for row in winners]):
        await uow.session.execute(
            update(w)
            .where(col(w.id).in_(chunk))
            .values(status=WON)
            .execution_options(synchronize_session=False)
        )
    r = AuctionReservation
    made: dict[int, tuple[int, str]] = {}
    for chunk in chunks([row.item_id for row in winners]):
        rows = await uow.session.execute(
            select(r.item_id, r.id, i.title)
            .join(i, i.id == r.item_id)
            .where(col(r.item_id).in_(chunk), r.status == PENDING)
        )
        made.update({item_id: (res_id, title) for item_id, res_id, title in rows.tuples()})
    tz = city.timezone
    await notify_many(
        uow,
        [
            {
                "citizen_id": row.citizen_id,
                "key": N_(
                    "Your wish price was reached: {title} is reserved for you at {price}. "
                    "Please pay by {deadline}, otherwise it passes to the next wish."
                ),
                "params": {
                    "title": made[row.item_id][1],
                    "price": money(row.amount_cents),
                    "deadline": moment(deadline, tz),
                },
                "buttons": [
                    button(N_("Pay now"), "auction.pay", str(made[row.item_id][0])),
                    button(N_("Show item"), "auction.item", str(row.item_id)),
                ],
                "ref": f"auction_reservation:{made[row.item_id][0]}",
                "dedupe_key": f"auction.won:{made[row.item_id][0]}",
            }
            for row in winners
        ],
        now=now,
    )
    return len(winners)


async def place_wish(
    uow: UnitOfWork, city: City, citizen_id: int, item_id: int, amount_cents: int, now: datetime
) -> AuctionWish:
    item = await get_item(uow, item_id)
    if item.status not in (LISTED, RESERVED):
        raise _not_available(item, city)
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
    if existing is not None:  # a changed wish queues again behind equal, earlier ones
        existing.amount_cents, existing.created_at = amount_cents, now
        return existing
    wish = AuctionWish(
        item_id=item_id,
        citizen_id=citizen_id,
        amount_cents=amount_cents,
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


# ---------------------------------------------------------------- pickup
async def purchases(
    uow: UnitOfWork, citizen_id: int
) -> list[tuple[AuctionReservation, AuctionItem]]:
    r, i = AuctionReservation, AuctionItem
    rows = await uow.session.execute(
        select(r, i)
        .join(i, i.id == r.item_id)
        .where(r.citizen_id == citizen_id, col(r.status).in_((PENDING, PAID, COLLECTED)))
        .order_by(col(r.id).desc())
    )
    return [(res, item) for res, item in rows.tuples()]


async def pickup_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[wallet.WalletEntry]:
    entries = []
    for reservation, item in await purchases(uow, citizen_id):
        if reservation.status == PENDING or reservation.pickup_code is None:
            continue
        entries.append(
            wallet.WalletEntry(
                kind="pickup",
                title=N_("Pickup: {title}"),
                title_params=(("title", item.title),),
                code=reservation.pickup_code,
                status="valid" if reservation.status == PAID else "used",
                action="auction.pickup",
                arg=str(reservation.id),
                sort_at=reservation.paid_at,
            )
        )
    return entries


async def collect(
    uow: UnitOfWork, code_text: str, staff_id: int, now: datetime
) -> tuple[AuctionReservation, AuctionItem]:
    """Staff hand a paid item over against its pickup code."""
    try:
        code = codes.parse_code(code_text, 12)
    except codes.CodeTypo:
        raise InvalidInput("This code has a typo. Please check it and type it again.") from None
    except ValueError:
        raise InvalidInput(
            "This is not a pickup code. It has 13 characters, e.g. ABCD-EFGH-JKMN-P."
        ) from None
    r = AuctionReservation
    reservation = (
        (await uow.session.execute(select(r).where(r.pickup_code == code))).scalars().first()
    )
    if reservation is None:
        raise NotFound("There is no purchase with this pickup code.")
    item = await get_item(uow, reservation.item_id)
    if reservation.status == COLLECTED:
        raise Conflict(
            "This item was already picked up on {day}.",
            day=day((reservation.collected_at or now).date()),
        )
    changed = await uow.session.execute(
        update(r)
        .where(r.id == reservation.id, r.status == PAID)
        .values(status=COLLECTED, collected_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This purchase cannot be handed over.")
    await uow.session.refresh(reservation)
    audit.log_action(
        uow,
        now,
        "auction.collect",
        f"auction_item:{item.id}",
        actor_citizen_id=staff_id,
        reservation_id=reservation.id,
    )
    return reservation, item


payments.register_purpose(PURPOSE, on_paid=payment_received, on_failed=payment_failed)
wallet.register_source("pickup", pickup_entries)
