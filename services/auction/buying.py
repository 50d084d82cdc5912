"""Buying a lost-and-found item at today's price, and what its payment settles.

Exactly one resident wins an item: reserving is one conditional UPDATE (`status = 'listed'`),
and a partial unique index allows one holding reservation per item. Wish prices are in
services/auction/wishes.py, reservations lapsing in services/auction/reservations.py, pickup in
services/auction/pickup.py."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services import audit, codes
from services.auction.items import get_item, price_for_day, rules, today
from services.auction.reservations import (
    holding_reservation,
    lapse,
    my_reservation,
    not_available,
    pay_deadline,
)
from services.auction.wishes import award_wishes
from services.city import City
from services.env import Env
from services.errors import Conflict
from services.i18n import N_, money
from services.notify import button, notify_citizen, notify_department
from services.payments import lifecycle as payments
from storage.models.auction import (
    ACTIVE,
    CLOSED,
    AuctionReservation,
    AuctionWish,
)
from storage.models.auction import COLLECTED as COLLECTED
from storage.models.auction import LISTED as LISTED
from storage.models.auction import PAID as PAID
from storage.models.auction import PENDING as PENDING
from storage.models.auction import RESERVED as RESERVED
from storage.models.auction import SOLD as SOLD
from storage.models.auction import AuctionItem as AuctionItem
from storage.models.payments import CREATED, Payment
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)
PURPOSE = "auction"


# ---------------------------------------------------------------- buying now
async def buy(
    uow: UnitOfWork, city: City, citizen_id: int, item_id: int, now: datetime
) -> AuctionReservation:
    """Reserve the item at today's price for the resident while they pay."""
    item = await get_item(uow, item_id)
    mine = await _own_holding(uow, citizen_id, item_id)
    if mine is not None:
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
        # pressed twice at once (two replicas, two linked chats): the other press reserved it
        mine = await _own_holding(uow, citizen_id, item_id)
        if mine is not None:
            return mine
        raise not_available(item, city)
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


async def _own_holding(uow: UnitOfWork, citizen_id: int, item_id: int) -> AuctionReservation | None:
    """The resident's own pending reservation of the item; a Conflict when they bought it."""
    holding = await holding_reservation(uow, item_id)
    if holding is None or holding.citizen_id != citizen_id:
        return None
    if holding.status in (PAID, COLLECTED):
        raise Conflict("You have already paid for this item.")
    return holding


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
    lapsed = await lapse(
        uow, [r.id == int(payment.ref), r.status == PENDING, r.payment_id == payment.id], now
    )
    if lapsed:
        items = [row.item_id for row in lapsed]
        await award_wishes(uow, env.city, now, item_ids=items, passed_on=True)


payments.register_purpose(PURPOSE, on_paid=payment_received, on_failed=payment_failed)
