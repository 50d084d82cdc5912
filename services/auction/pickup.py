"""After paying: the resident's purchases with their pickup codes (also in the wallet), and the
lost property office handing an item over against its code."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services import audit, codes
from services.auction.items import get_item
from services.city import City
from services.errors import Conflict, InvalidInput, NotFound
from services.i18n import N_, day
from services.wallet import sources as wallet
from storage.models.auction import (
    COLLECTED,
    PAID,
    PENDING,
    AuctionItem,
    AuctionReservation,
)
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)


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
    return [(res, item) for res, item in rows]


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


async def for_pickup(
    uow: UnitOfWork, code_text: str, now: datetime
) -> tuple[AuctionReservation, AuctionItem]:
    """The paid purchase a pickup code stands for, before staff confirm the handover."""
    try:
        code = codes.parse_code(code_text, 12)
    except codes.CodeTypo:
        raise InvalidInput("This code has a typo. Please check it and type it again.") from None
    except ValueError:
        raise InvalidInput(
            "This is not a pickup code. It has 14 characters, e.g. ABCD-EFGH-JKMN-PQ."
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
    if reservation.status != PAID:
        raise Conflict("This purchase cannot be handed over.")
    return reservation, item


async def collect(
    uow: UnitOfWork, code_text: str, staff_id: int, now: datetime
) -> tuple[AuctionReservation, AuctionItem]:
    """Staff hand a paid item over against its pickup code."""
    reservation, item = await for_pickup(uow, code_text, now)
    r = AuctionReservation
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


wallet.register_source("pickup", pickup_entries)
