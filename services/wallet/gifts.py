"""Gifting a voucher: a single-use claim code (or the deep link /start g-<code>) moves the
voucher to another resident, who gets it under a new code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services import audit, codes, i18n, notify
from services.city import City
from services.errors import Conflict, NotFound
from services.i18n import N_
from services.wallet.vouchers import CODE_LENGTH, STATE_WORDS, get_own, read_code, state
from storage.models.vouchers import ACTIVE, Voucher
from storage.uow import UnitOfWork, rows_changed


async def create(
    uow: UnitOfWork, city: City, citizen_id: int, voucher_id: int, now: datetime
) -> str:
    voucher = await get_own(uow, citizen_id, voucher_id)
    current = state(voucher, now.astimezone(city.tz).date())
    if current == "gift" and voucher.gift_code:
        return voucher.gift_code
    if current != "valid":
        raise Conflict(
            "Only a valid voucher with a balance can be gifted. This one is {state}.",
            state=i18n.word(STATE_WORDS.get(current, current)),
        )
    gift_code = codes.new_code(CODE_LENGTH)
    changed = await uow.session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher_id,
            Voucher.citizen_id == citizen_id,
            col(Voucher.gift_code).is_(None),
        )
        .values(gift_code=gift_code)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This voucher changed meanwhile. Please look at it again.")
    await uow.session.refresh(voucher)
    return gift_code


async def cancel(uow: UnitOfWork, citizen_id: int, voucher_id: int) -> None:
    await get_own(uow, citizen_id, voucher_id)
    changed = await uow.session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher_id,
            Voucher.citizen_id == citizen_id,
            col(Voucher.gift_code).is_not(None),
        )
        .values(gift_code=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This gift was already claimed or taken back.")


async def pending(uow: UnitOfWork, code: str) -> Voucher | None:
    """The voucher waiting to be claimed with this (canonical) gift code."""
    result = await uow.session.execute(select(Voucher).where(Voucher.gift_code == code))
    return result.scalar_one_or_none()


async def claim(uow: UnitOfWork, city: City, citizen_id: int, text: str, now: datetime) -> Voucher:
    """Single use: the voucher moves to the claimer and gets a new code, so a copy of the old
    code (a screenshot of its QR code) is worthless."""
    gift_code = read_code(text)
    result = await uow.session.execute(select(Voucher).where(Voucher.gift_code == gift_code))
    voucher: Voucher | None = result.scalar_one_or_none()
    if voucher is None:
        raise NotFound(
            "This gift code is unknown or was already claimed. Please check it with the sender."
        )
    if voucher.citizen_id == citizen_id:
        raise Conflict(
            "This is your own gift. Send the code to the person you want to give it to; "
            "you can take the gift back in the voucher's details."
        )
    if voucher.valid_until < now.astimezone(city.tz).date():
        raise Conflict("This voucher has expired and can no longer be gifted.")
    giver = voucher.citizen_id
    changed = await uow.session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.gift_code == gift_code, Voucher.status == ACTIVE)
        .values(
            citizen_id=citizen_id,
            gift_code=None,
            gift_from_citizen_id=giver,
            code=codes.new_code(CODE_LENGTH),
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This gift was claimed or taken back meanwhile.")
    await uow.session.refresh(voucher)
    audit.log_action(
        uow,
        now,
        "voucher.gift",
        f"voucher:{voucher.id}",
        actor_citizen_id=citizen_id,
        from_citizen=giver,
        balance=voucher.balance_cents,
    )
    notify.notify_citizen(
        uow,
        giver,
        N_("Your gift was received: the voucher worth {balance} is now in the recipient's wallet."),
        {"balance": i18n.money(voucher.balance_cents)},
        now=now,
        ref=f"voucher:{voucher.id}",
    )
    return voucher
