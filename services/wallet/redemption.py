"""Merchants redeem vouchers: look up, redeem (never below zero, once per idempotency key),
undo within minutes, the day's turnover, and the monthly settlement per merchant."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import audit, codes, i18n, notify
from services.city import City
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from services.wallet import merchants, vouchers
from storage.models.outbox import PENDING, AuditEntry, Notification
from storage.models.vouchers import ACTIVE, REDEEM, UNDO, Voucher, VoucherEntry
from storage.types import UTCDateTime
from storage.uow import UnitOfWork


# ---------------------------------------------------------------- looking a voucher up
def refuse_reason(voucher: Voucher, today: date) -> str | None:
    """Why a merchant cannot take this voucher now (a msgid), or None."""
    current = vouchers.state(voucher, today)
    return {
        "pending": N_("This voucher has not been paid yet."),
        "cancelled": N_("This voucher was never paid and is not valid."),
        "refunded": N_("This voucher was refunded and is no longer valid."),
        "closed": N_("This voucher was closed and is no longer valid."),
        "expired": N_("This voucher expired on {until}."),
        "used": N_("This voucher is used up: its balance is 0 €."),
        "gift": N_(
            "This voucher is being gifted right now and cannot be redeemed until the gift is "
            "claimed or taken back."
        ),
    }.get(current)


async def voucher(uow: UnitOfWork, voucher_id: int) -> Voucher | None:
    """The voucher as it stands now (its balance changes under conditional updates)."""
    if not voucher_id:
        return None
    return await uow.session.get(Voucher, voucher_id, populate_existing=True)


async def lookup(uow: UnitOfWork, city: City, text: str, now: datetime) -> Voucher:
    code = vouchers.read_code(text)
    voucher = await vouchers.by_code(uow, code)
    if voucher is None:
        raise NotFound(
            "No voucher has this code. If it was gifted, the holder has a new code in their wallet."
        )
    reason = refuse_reason(voucher, now.astimezone(city.tz).date())
    if reason is not None:
        raise Conflict(reason, until=i18n.day(voucher.valid_until))
    return voucher


# ---------------------------------------------------------------- redeeming
REDEEMED = N_(
    "{amount} of your city voucher were redeemed at {merchant}. Remaining balance: {balance}."
)


async def redeem(
    uow: UnitOfWork,
    city: City,
    *,
    merchant_key: str,
    actor_citizen_id: int | None,
    voucher_id: int,
    amount_cents: int,
    idempotency_key: str,
    now: datetime,
    code: str | None = None,
) -> VoucherEntry:
    """Take `amount_cents` off the voucher (whose code must still be `code` when given: a voucher
    gifted meanwhile has a new code, and the old one must not pay). A second call with the same
    key returns the first booking. Two merchants at once cannot take the balance below zero:
    the balance only changes in one UPDATE guarded by `balance >= amount` (row lock on
    PostgreSQL, the write lock on SQLite).

    On PostgreSQL the ledger entry (claiming the idempotency key with ON CONFLICT DO NOTHING),
    the guarded balance update, the audit row and the holder's notification are one statement
    (data-modifying CTEs), so the voucher's row lock is taken by the last statement before the
    commit and held for one round trip. SQLite runs the same four statements one after the
    other inside its (process-wide) write transaction."""
    if amount_cents <= 0:
        raise InvalidInput("The amount must be more than 0 €.")
    if not idempotency_key:
        raise ValueError("a redemption needs an idempotency key")
    session = uow.session
    await session.flush()  # changes made earlier in this unit of work count for the guard
    name = await merchants.name_of(uow, city, merchant_key)
    today = now.astimezone(city.tz).date()
    entry = VoucherEntry(
        voucher_id=voucher_id,
        kind=REDEEM,
        amount_cents=-amount_cents,
        at=now,
        merchant_key=merchant_key,
        actor_citizen_id=actor_citizen_id,
        idempotency_key=idempotency_key,
    )
    booking = _Booking(entry, name, today, code)
    if uow.dialect == "postgresql":
        entry_id, balance, holder = await booking.in_one_statement(uow)
    else:
        entry_id, balance, holder = await booking.step_by_step(uow)
    if entry_id is None:  # the key was booked before (or by a concurrent press)
        earlier = await _booked(uow, idempotency_key)
        if earlier is None:
            raise Conflict("This redemption is being booked right now. Please try again.")
        return earlier
    entry.id = entry_id
    if balance is None or holder is None:
        # the guard refused: take the claimed key back, so that this unit of work stays
        # consistent even where a caller goes on after the Conflict
        ve = VoucherEntry.__table__  # type: ignore[attr-defined]
        await session.execute(delete(ve).where(ve.c.id == entry_id))
        await _refuse(uow, voucher_id, today, code)
    return entry


_VOUCHER = Voucher.__table__  # type: ignore[attr-defined]
_ENTRY = VoucherEntry.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
_NOTE = Notification.__table__  # type: ignore[attr-defined]
_NOTE_COLUMNS = [
    "citizen_id",
    "key",
    "params",
    "buttons",
    "ref",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
]
_AUDIT_COLUMNS = ["at", "actor_citizen_id", "actor", "action", "subject", "details"]


@functools.cache
def _one_statement(with_code: bool) -> Any:
    """The redemption as one PostgreSQL statement (built once; the values are parameters)."""
    v, e = _VOUCHER.c, _ENTRY.c
    amount = bindparam("amount", type_=Integer)
    at = bindparam("at", type_=UTCDateTime())
    claimed = (
        postgresql.insert(_ENTRY)
        .values(
            voucher_id=bindparam("voucher_id", type_=Integer),
            kind=REDEEM,
            amount_cents=-amount,
            at=at,
            merchant_key=bindparam("merchant_key", type_=String),
            actor_citizen_id=bindparam("actor_citizen_id", type_=Integer),
            idempotency_key=bindparam("idempotency_key", type_=String),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(e.id)
        .cte("claimed")
    )
    booked = (
        update(_VOUCHER)
        .where(
            v.id == bindparam("voucher_id", type_=Integer),
            v.status == ACTIVE,
            v.balance_cents >= amount,
            v.valid_until >= bindparam("today", type_=Date),
            v.gift_code.is_(None),
            *([v.code == bindparam("voucher_code", type_=String)] if with_code else []),
            exists(select(claimed.c.id)),
        )
        .values(balance_cents=v.balance_cents - amount)
        .returning(v.balance_cents, v.citizen_id)
        .cte("booked")
    )
    subject = bindparam("subject", type_=String)
    audited = insert(_AUDIT).from_select(
        _AUDIT_COLUMNS,
        select(
            at,
            bindparam("actor_citizen_id", type_=Integer),
            bindparam("actor", type_=String),
            literal("voucher.redeem", String),
            subject,
            func.json_build_object(
                literal("merchant", String),
                bindparam("merchant_key", type_=String),
                literal("amount", String),
                amount,
                literal("entry", String),
                claimed.c.id,
            ),
        ).select_from(booked.join(claimed, true())),
    )
    noted = insert(_NOTE).from_select(
        _NOTE_COLUMNS,
        select(
            booked.c.citizen_id,
            literal(REDEEMED, String),
            func.json_build_object(
                literal("amount", String),
                _money_json(amount),
                literal("merchant", String),
                bindparam("merchant_name", type_=String),
                literal("balance", String),
                _money_json(booked.c.balance_cents),
            ),
            bindparam("buttons", type_=JSON),
            subject,
            literal(PENDING, String),
            literal(0, Integer),
            at,
            at,
        ).select_from(booked),
    )
    return (
        select(claimed.c.id, booked.c.balance_cents, booked.c.citizen_id)
        .select_from(claimed.outerjoin(booked, true()))
        .add_cte(audited.cte("audited"), noted.cte("noted"))
    )


def _money_json(cents: Any) -> Any:
    """i18n.money(cents), built by PostgreSQL."""
    return func.json_build_object(literal("$money", String), cents)


@dataclass
class _Booking:
    """The statements of one redemption (ledger entry, guarded balance update, audit row,
    notification), built once for both databases."""

    entry: VoucherEntry
    merchant_name: str
    today: date
    code: str | None

    @property
    def amount(self) -> int:
        return -self.entry.amount_cents

    def claim(self, dialect_insert: Any) -> Any:
        e = self.entry
        return (
            dialect_insert(_ENTRY)
            .values(
                voucher_id=e.voucher_id,
                kind=e.kind,
                amount_cents=e.amount_cents,
                at=e.at,
                merchant_key=e.merchant_key,
                actor_citizen_id=e.actor_citizen_id,
                idempotency_key=e.idempotency_key,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_ENTRY.c.id)
        )

    def guarded_update(self) -> Any:
        v = _VOUCHER.c
        return (
            update(_VOUCHER)
            .where(
                v.id == self.entry.voucher_id,
                v.status == ACTIVE,
                v.balance_cents >= self.amount,
                v.valid_until >= self.today,
                v.gift_code.is_(None),
                *([v.code == self.code] if self.code is not None else []),
            )
            .values(balance_cents=v.balance_cents - self.amount)
            .returning(v.balance_cents, v.citizen_id)
        )

    def actor(self) -> str:
        who = self.entry.actor_citizen_id
        return f"citizen:{who}" if who else "system"

    def subject(self) -> str:
        return f"voucher:{self.entry.voucher_id}"

    def buttons(self) -> list[dict[str, str]]:
        return [notify.button(N_("Show voucher"), "voucher.show", str(self.entry.voucher_id))]

    def audit_details(self, entry_id: Any) -> dict[str, Any]:
        return {"merchant": self.entry.merchant_key, "amount": self.amount, "entry": entry_id}

    def note_params(self, balance: Any) -> dict[str, Any]:
        return {
            "amount": i18n.money(self.amount),
            "merchant": self.merchant_name,
            "balance": i18n.money(balance),
        }

    async def in_one_statement(self, uow: UnitOfWork) -> tuple[int | None, int | None, int | None]:
        e = self.entry
        params = {
            "voucher_id": e.voucher_id,
            "amount": self.amount,
            "at": e.at,
            "merchant_key": e.merchant_key,
            "actor_citizen_id": e.actor_citizen_id,
            "idempotency_key": e.idempotency_key,
            "today": self.today,
            "actor": self.actor(),
            "subject": self.subject(),
            "merchant_name": self.merchant_name,
            "buttons": self.buttons(),
        }
        if self.code is not None:
            params["voucher_code"] = self.code
        statement = _one_statement(self.code is not None)
        row = (await uow.session.execute(statement, params)).one_or_none()
        if row is None:
            return None, None, None
        return row[0], row[1], row[2]

    async def step_by_step(self, uow: UnitOfWork) -> tuple[int | None, int | None, int | None]:
        session = uow.session
        entry_id = (await session.execute(self.claim(sqlite.insert))).scalar_one_or_none()
        if entry_id is None:
            return None, None, None
        booked = (await session.execute(self.guarded_update())).one_or_none()
        if booked is None:
            return entry_id, None, None
        balance, holder = booked
        await session.execute(
            insert(_AUDIT).values(
                at=self.entry.at,
                actor_citizen_id=self.entry.actor_citizen_id,
                actor=self.actor(),
                action="voucher.redeem",
                subject=self.subject(),
                details=self.audit_details(entry_id),
            )
        )
        await session.execute(
            insert(_NOTE).values(
                citizen_id=holder,
                key=REDEEMED,
                params=self.note_params(balance),
                buttons=self.buttons(),
                ref=self.subject(),
                status=PENDING,
                attempts=0,
                next_attempt_at=self.entry.at,
                created_at=self.entry.at,
            )
        )
        return entry_id, balance, holder


async def _refuse(uow: UnitOfWork, voucher_id: int, today: date, code: str | None) -> None:
    """Say why the guarded update changed nothing (always raises)."""
    session = uow.session
    voucher = await session.get(Voucher, voucher_id, populate_existing=True)
    if voucher is None:
        raise NotFound("This voucher is unknown.")
    reason = refuse_reason(voucher, today)
    if reason is not None:
        raise Conflict(reason, until=i18n.day(voucher.valid_until))
    if code is not None and voucher.code != code:
        raise Conflict(
            "This voucher was gifted meanwhile and has a new code. Please ask for the current code."
        )
    raise Conflict(
        "The voucher only holds {balance}. Please enter at most that amount.",
        balance=i18n.money(voucher.balance_cents),
    )


async def _booked(uow: UnitOfWork, idempotency_key: str) -> VoucherEntry | None:
    result = await uow.session.execute(
        select(VoucherEntry).where(VoucherEntry.idempotency_key == idempotency_key)
    )
    return result.scalar_one_or_none()


async def undo(
    uow: UnitOfWork,
    city: City,
    *,
    merchant_key: str,
    actor_citizen_id: int | None,
    entry_id: int,
    now: datetime,
) -> VoucherEntry:
    """Give a redemption back, within the configured minutes, by the merchant who booked it."""
    rules = vouchers.rules_of(city)
    session = uow.session
    original = await session.get(VoucherEntry, entry_id)
    if original is None or original.kind != REDEEM:
        raise NotFound("This redemption is unknown.")
    if original.merchant_key != merchant_key:
        raise NotAllowed("Only the acceptance point that booked a redemption can undo it.")
    if now - original.at > timedelta(minutes=rules.undo_minutes):
        raise Conflict(
            "A redemption can only be undone within {minutes} minutes. "
            "Please contact the city marketing team.",
            minutes=rules.undo_minutes,
        )
    amount = -original.amount_cents
    reversal = VoucherEntry(
        voucher_id=original.voucher_id,
        kind=UNDO,
        amount_cents=amount,
        at=now,
        merchant_key=merchant_key,
        actor_citizen_id=actor_citizen_id,
        undoes_entry_id=entry_id,
    )
    try:
        async with session.begin_nested():
            session.add(reversal)
    except IntegrityError:
        raise Conflict("This redemption was already undone.") from None
    await session.execute(
        update(Voucher)
        .where(Voucher.id == original.voucher_id)
        .values(balance_cents=Voucher.balance_cents + amount)
        .execution_options(synchronize_session=False)
    )
    voucher = await session.get(Voucher, original.voucher_id)
    assert voucher is not None
    await session.refresh(voucher)
    name = await merchants.name_of(uow, city, merchant_key)
    audit.log_action(
        uow,
        now,
        "voucher.undo",
        f"voucher:{voucher.id}",
        actor_citizen_id=actor_citizen_id,
        merchant=merchant_key,
        amount=amount,
        entry=entry_id,
    )
    notify.notify_citizen(
        uow,
        voucher.citizen_id,
        N_(
            "{merchant} cancelled a redemption of {amount}: it is back on your voucher. "
            "Balance: {balance}."
        ),
        {
            "amount": i18n.money(amount),
            "merchant": name,
            "balance": i18n.money(voucher.balance_cents),
        },
        now=now,
        ref=f"voucher:{voucher.id}",
    )
    return reversal


# ---------------------------------------------------------------- turnover and settlement
def day_bounds(day: date, city: City) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=city.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=city.tz)
    return start, end


@dataclass(frozen=True)
class Turnover:
    redemptions: int
    undone: int
    total_cents: int


async def turnover(
    uow: UnitOfWork, city: City, merchant_key: str, start: datetime, end: datetime
) -> Turnover:
    rows = (
        await uow.session.execute(
            select(
                VoucherEntry.kind,
                func.count(),
                func.coalesce(func.sum(VoucherEntry.amount_cents), 0),
            )
            .where(
                VoucherEntry.merchant_key == merchant_key,
                VoucherEntry.at >= start,
                VoucherEntry.at < end,
                col(VoucherEntry.kind).in_([REDEEM, UNDO]),
            )
            .group_by(VoucherEntry.kind)
        )
    ).all()
    counts = {kind: (int(n), int(total)) for kind, n, total in rows}
    redeemed = counts.get(REDEEM, (0, 0))
    undone = counts.get(UNDO, (0, 0))
    return Turnover(redeemed[0], undone[0], -(redeemed[1] + undone[1]))


async def bookings(
    uow: UnitOfWork, merchant_key: str, start: datetime, end: datetime, limit: int = 20
) -> list[tuple[VoucherEntry, str]]:
    """The merchant's latest redemptions and undos in the period, with the voucher's code."""
    result = await uow.session.execute(
        select(VoucherEntry, Voucher.code)
        .join(Voucher, Voucher.id == VoucherEntry.voucher_id)
        .where(
            VoucherEntry.merchant_key == merchant_key,
            VoucherEntry.at >= start,
            VoucherEntry.at < end,
            col(VoucherEntry.kind).in_([REDEEM, UNDO]),
        )
        .order_by(col(VoucherEntry.at).desc(), col(VoucherEntry.id).desc())
        .limit(limit)
    )
    return [(entry, _masked(code)) for entry, code in result.all()]


@dataclass
class Statement:
    merchant_key: str
    merchant_name: str
    month: str
    rows: list[tuple[datetime, str, str, int, int]] = field(default_factory=list)
    # (at, kind, voucher code shown shortened, amount cents (positive = owed), entry id)
    fee_percent: Decimal = Decimal("0")

    @property
    def total_cents(self) -> int:
        return sum(row[3] for row in self.rows)

    @property
    def fee_cents(self) -> int:
        fee = Decimal(self.total_cents) * self.fee_percent / 100
        return int(fee.quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    @property
    def payout_cents(self) -> int:
        return self.total_cents - self.fee_cents


def month_bounds(month: str, city: City) -> tuple[datetime, datetime]:
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{1,2}", month):
            raise ValueError(month)
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise InvalidInput("Please give the month as YYYY-MM, for example 2026-11.") from None
    following = date(year + (number == 12), number % 12 + 1, 1)
    return day_bounds(first, city)[0], day_bounds(following, city)[0]


async def settlement(
    uow: UnitOfWork, city: City, month: str, fee_percent: Decimal | None = None
) -> list[Statement]:
    """Every redemption and undo of the month, per merchant, with totals, fee and payout."""
    start, end = month_bounds(month, city)
    fee = vouchers.rules_of(city).fee_percent if fee_percent is None else fee_percent
    result = await uow.session.execute(
        select(
            VoucherEntry.merchant_key,
            VoucherEntry.at,
            VoucherEntry.kind,
            Voucher.code,
            VoucherEntry.amount_cents,
            VoucherEntry.id,
        )
        .join(Voucher, Voucher.id == VoucherEntry.voucher_id)
        .where(
            VoucherEntry.at >= start,
            VoucherEntry.at < end,
            col(VoucherEntry.kind).in_([REDEEM, UNDO]),
            col(VoucherEntry.merchant_key).is_not(None),
        )
        .order_by(VoucherEntry.merchant_key, VoucherEntry.at, VoucherEntry.id)
    )
    statements: dict[str, Statement] = {}
    for key, at, kind, code, amount, entry_id in result.all():
        statement = statements.get(key)
        if statement is None:
            statement = statements[key] = Statement(
                key, await merchants.name_of(uow, city, key), month, fee_percent=fee
            )
        statement.rows.append((at, kind, _masked(code), -amount, entry_id))
    return list(statements.values())


def _masked(code: str) -> str:
    """The settlement shows enough of a code to find a receipt, not enough to use it."""
    return "…" + codes.display(code)[-6:]
