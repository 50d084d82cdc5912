"""Where keys show up outside their own flow: the wallet (one entry per key the resident
holds) and deletion (/deleteme cancels the bookings to come and revokes every key held)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import col

from services import i18n
from services.city import City
from services.i18n import N_
from services.identity import privacy
from services.keys.config import Facility
from services.keys.config import rules as key_rules
from services.keys.records import (
    CANCELLED,
    CONFIRMED,
    LIVE,
    KeyBooking,
    bookings_of,
    facility_name,
    key_state,
    record,
)
from services.trust import tokens
from services.wallet import sources as wallet
from storage.uow import UnitOfWork, rows_changed


async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[wallet.WalletEntry]:
    rules = key_rules(city)
    found: list[wallet.WalletEntry] = []
    for booking in await bookings_of(uow, citizen_id, now):
        if booking.holder_id != citizen_id:
            continue
        facility = rules.facility(booking.facility)
        state = key_state(booking, rules, now)
        title, params = title_of(facility, booking)
        found.append(
            wallet.WalletEntry(
                kind="key",
                title=title,
                title_params=params,
                code=booking.token_id or f"booking-{booking.id}",
                status="valid" if state == "upcoming" else state,
                valid_from=booking.starts_at.astimezone(city.tz).date(),
                valid_until=booking.ends_at.astimezone(city.tz).date(),
                action="keys.show",
                arg=str(booking.id),
                sort_at=booking.starts_at,
            )
        )
    return found


def title_of(
    facility: Facility | None, booking: KeyBooking
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key's name as a msgid and its parameters: "Key Fahrradboxen Bahnhof no. 3"."""
    if facility is None:
        return N_("Key {facility}"), (("facility", booking.facility),)
    if len(facility.locks) == 1:
        return N_("Key {facility}"), (("facility", facility.name),)
    return N_("Key {facility} no. {unit}"), (
        ("facility", facility.name),
        ("unit", str(facility.unit(booking.lock_id))),
    )


wallet.register_source("keys", wallet_entries)


async def holdings(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[privacy.Holding]:
    rules = key_rules(city)
    return [
        privacy.Holding(
            kind="key",
            title=N_("Booking of {facility} on {when}: {amount}"),
            params=(
                ("facility", facility_name(rules, booking)),
                ("when", i18n.moment(booking.starts_at, city.timezone)),
                ("amount", i18n.money(booking.price_cents - booking.refunded_cents)),
            ),
            cents=booking.price_cents - booking.refunded_cents
            if booking.status == CONFIRMED
            else 0,
            ref=str(booking.id),
        )
        for booking in await bookings_of(uow, citizen_id, now)
        if booking.citizen_id == citizen_id and booking.status in LIVE and booking.ends_at > now
    ]


async def close_for_deletion(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Cancel the resident's bookings still to come and revoke every key they hold, so no key
    stays valid once its holder is anonymous."""
    closed = 0
    query = select(KeyBooking).where(
        or_(KeyBooking.citizen_id == citizen_id, KeyBooking.holder_id == citizen_id),
        col(KeyBooking.status).in_(LIVE),
        KeyBooking.ends_at > now,
    )
    for booking in list((await uow.session.execute(query)).scalars()):
        changed = await uow.session.execute(
            update(KeyBooking)
            .where(KeyBooking.id == booking.id, col(KeyBooking.status).in_(LIVE))
            .values(status=CANCELLED, claim=None, handover_code=None, cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(changed) == 1:
            if booking.token_id:
                await tokens.revoke(uow, booking.token_id, "deleted", now)
            record(uow, booking, "cancelled", now, "deleted")
            closed += 1
    await uow.session.flush()
    return closed


privacy.register_holdings("keys", holdings, close_for_deletion)
