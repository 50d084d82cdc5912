"""What is held about a resident: export everything, erase personal data, merge two accounts.

Works over every table generically. A table says in its `info` what deletion does to its rows:
"delete" (default), "anonymise" (rows the law requires to keep: personal columns are blanked,
the row stays) or "keep" (holds nothing personal). Columns with info {"personal": True} are the
ones blanked. Tables refer to a resident through foreign keys to citizen.id.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)
from services.city import City
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

_INTERNAL = {"link_failures", "link_blocked_until", "version"}


@dataclass(frozen=True)
class Holding:
    """Something of value the resident still holds: named before they delete their data."""

    kind: str  # "voucher", "ticket"
    title: str  # msgid, with `params`
    params: tuple[tuple[str, Any], ...]
    cents: int  # money left in it
    ref: str  # the voucher or ticket id, for the gift/refund/cancel buttons


HoldingsOf = Callable[[UnitOfWork, City, int, datetime], Awaitable[list[Holding]]]
CloseHoldings = Callable[[UnitOfWork, int, datetime], Awaitable[int]]
_HOLDINGS: dict[str, tuple[HoldingsOf, CloseHoldings]] = {}


def register_holdings(name: str, listing: HoldingsOf, close: CloseHoldings) -> None:
    """A capability that holds money for residents (vouchers, tickets) says what is left and
    how it is closed when the resident deletes their data anyway."""
    _HOLDINGS[name] = (listing, close)


async def holdings(uow: UnitOfWork, city: City, citizen_id: int, now: datetime) -> list[Holding]:
    found: list[Holding] = []
    for listing, _close in _HOLDINGS.values():
        found.extend(await listing(uow, city, citizen_id, now))
    return found


async def close_holdings(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Before erasing: close what is left (vouchers booked out, tickets cancelled), so no
    bearer code stays usable under an anonymised record. Returns how many were closed."""
    closed = 0
    for _listing, close in _HOLDINGS.values():
        closed += await close(uow, citizen_id, now)
    return closed


def _citizen_columns(table: Table) -> list[Column[Any]]:
    return [
        col
        for col in table.columns
        if any(
            fk.column.table.name == "citizen" and fk.column.name == "id" for fk in col.foreign_keys
        )
    ]


def tables_referring_to_citizen() -> list[tuple[Table, list[Column[Any]]]]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "citizen":
            continue
        columns = _citizen_columns(table)
        if columns:
            found.append((table, columns))
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


async def export_citizen(uow: UnitOfWork, citizen_id: int) -> dict[str, Any]:
    """Everything held about the resident, table by table, as JSON-ready data."""
    session = uow.session
    citizen_table = Citizen.__table__  # type: ignore[attr-defined]
    row = (
        await session.execute(select(citizen_table).where(citizen_table.c.id == citizen_id))
    ).one()
    export: dict[str, Any] = {
        "citizen": {k: _jsonable(v) for k, v in row._mapping.items() if k not in _INTERNAL}
    }
    for table, columns in tables_referring_to_citizen():
        for column in columns:
            rows = (await session.execute(select(table).where(column == citizen_id))).all()
            if not rows:
                continue
            name = table.name if len(columns) == 1 else f"{table.name} ({column.name})"
            export[name] = [
                {k: _jsonable(v) for k, v in r._mapping.items() if k not in _INTERNAL} for r in rows
            ]
    return export


def _blank(column: Column[Any]) -> Any:
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return {}
    python_type = getattr(column.type, "python_type", str)
    return python_type()


async def erase_citizen(uow: UnitOfWork, citizen_id: int, now: datetime) -> None:
    """Remove personal data everywhere; keep anonymised what the law requires."""
    session = uow.session
    for table, columns in reversed(tables_referring_to_citizen()):
        policy = table.info.get("erase", "delete")
        for column in columns:
            condition = column == citizen_id
            if policy == "delete":
                await session.execute(delete(table).where(condition))
            elif policy == "anonymise":
                personal = {c.name: _blank(c) for c in table.columns if c.info.get("personal")}
                if personal:
                    await session.execute(update(table).where(condition).values(**personal))
    citizen_table = Citizen.__table__  # type: ignore[attr-defined]
    personal = {c.name: _blank(c) for c in citizen_table.columns if c.info.get("personal")}
    await session.execute(
        update(citizen_table)
        .where(citizen_table.c.id == citizen_id)
        .values(**personal, deleted_at=now, notify_channel=None)
    )


async def merge_citizens(uow: UnitOfWork, source_id: int, target_id: int) -> None:
    """Move everything of `source` to `target` (after /link), then remove `source`.
    Rows that cannot move because target already has the same (a draft of the same form, a
    role already held) are dropped; target's version wins."""
    session = uow.session
    for table, columns in tables_referring_to_citizen():
        for column in columns:
            try:
                async with session.begin_nested():
                    await session.execute(
                        update(table).where(column == source_id).values({column.name: target_id})
                    )
            except IntegrityError:
                rows = (await session.execute(select(table).where(column == source_id))).all()
                key = list(table.primary_key.columns)
                for row in rows:
                    ident = {c.name: row._mapping[c.name] for c in key}
                    where = [c == ident[c.name] for c in key]
                    try:
                        async with session.begin_nested():
                            await session.execute(
                                update(table).where(*where).values({column.name: target_id})
                            )
                    except IntegrityError:
                        await session.execute(delete(table).where(*where))
    source = await session.get(Citizen, source_id)
    target = await session.get(Citizen, target_id)
    if source is not None and target is not None:
        for name, col in Citizen.__table__.columns.items():  # type: ignore[attr-defined]
            if col.info.get("personal") and getattr(target, name) is None:
                setattr(target, name, getattr(source, name))
        await session.flush()
        await session.delete(source)
        await session.flush()
