"""Writing notifications into the outbox, in the caller's transaction: the one way to do it.

A notification is a message key (msgid) plus parameters, rendered in the recipient's language
when it is sent (bot/sender/). Parameters that need locale formatting use
services.i18n.money/day/moment. Buttons are dicts {"label": msgid, "action": ..., "arg": ...}
or {"label": msgid, "url": ...}.

    notify_citizen(uow, citizen_id, msgid, params, now=now, dedupe_key=...)   one resident
    notify_department(uow, city, "fundbuero", msgid, params, now=now)         a staff room
    await notify_many(uow, [{"citizen_id": 1, "key": msgid, ...}, ...], now=now)
                                                      many rows, one statement per chunk
    await notify_selected(uow, select(Citizen.id)..., msgid, params, now=now, ref=...)
                                                      everyone a query finds (INSERT ... SELECT)
    await notify_rows(uow, select(citizen_id, key, params, buttons, ref, dedupe_key)...)
                                                      rows a query builds, JSON made in SQL
                                                      (json_object / json_list): digests
    await known_keys(uow, keys)                       which dedupe keys were written already

A dedupe key is unique in the table: a message with a key already written is not written again
by notify_many and notify_selected; callers of notify_citizen check with known_keys first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    cast,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col

from services.city import City
from services.i18n import N_
from storage.models.outbox import Notification
from storage.uow import UnitOfWork, rows_changed

CHUNK = 1000  # rows per INSERT (and per IN list): well below the drivers' parameter limits


def button(label: str, action: str = "", arg: str = "", url: str = "") -> dict[str, str]:
    data = {"label": label, "action": action, "arg": arg}
    if url:
        data["url"] = url
    return data


def notify_citizen(
    uow: UnitOfWork,
    citizen_id: int,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    media_file_id: int | None = None,
    ref: str | None = None,
    dedupe_key: str | None = None,
    channel: str | None = None,
) -> Notification:
    """Queue a message for a resident; the channel is the one they chose (or last used)."""
    note = Notification(
        citizen_id=citizen_id,
        channel=channel,
        key=key,
        params=dict(params or {}),
        buttons=list(buttons),
        media_file_id=media_file_id,
        ref=ref,
        dedupe_key=dedupe_key,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(note)
    return note


def room_chat_id(channel: str, configured: str) -> str:
    """The chat id of a staff room: console staff views are chats named "room:<name>"."""
    return f"room:{configured}" if channel == "console" else configured


# what a room that is not private reads in place of what a resident wrote or answered
IN_PRIVATE = N_("(personal details: press Details, I send them to your private chat)")


def room_department(city: City, channel: str, chat_id: str) -> str | None:
    """The department whose staff room this chat is, or None."""
    for department in city.departments:
        configured = department.rooms.model_dump().get(channel)
        if configured and room_chat_id(channel, configured) == chat_id:
            return department.key
    return None


def room_language(city: City, department: str | None) -> str:
    """The language a department's room messages are written in: its configured `language`,
    else the city's default."""
    found = city.department(department) if department else None
    chosen = found.room_language(city.default_language) if found else city.default_language
    return chosen if chosen in ("de", "en") else "de"


def notify_department(
    uow: UnitOfWork,
    city: City,
    department: str,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    thread: str | None = None,
    ref: str | None = None,
    media_file_id: int | None = None,
    personal: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Queue a message for a department's staff rooms: one row per room the city configuration
    names (Telegram group, Matrix room, console staff view). Rendered in the room's language
    (`room_language`). `personal` parameters (names, addresses, what the resident wrote)
    replace those of `params` only in rooms the configuration calls private; elsewhere the
    room reads the reference, the type and the actions (docs/staff-rooms.md)."""
    found = city.department(department)
    if found is None:
        raise ValueError(f"unknown department {department!r}")
    rooms = [(ch, room_chat_id(ch, chat)) for ch, chat in found.rooms.model_dump().items() if chat]
    notes = []
    for channel, chat_id in rooms:
        shown = dict(params or {})
        if personal and found.room_is_private(channel):
            shown.update(personal)
        note = Notification(
            department=department,
            channel=channel,
            chat_id=chat_id,
            key=key,
            params=shown,
            buttons=list(buttons),
            thread=thread,
            ref=ref,
            media_file_id=media_file_id,
            next_attempt_at=now,
            created_at=now,
        )
        uow.session.add(note)
        notes.append(note)
    return notes


def _defaults(now: datetime) -> dict[str, Any]:
    """Every column of a new row as the model defines it (bulk inserts bypass the model)."""
    values: dict[str, Any] = {}
    for name, field in Notification.model_fields.items():
        if name == "id":
            continue
        if field.default_factory is not None:
            values[name] = field.default_factory()  # type: ignore[call-arg]
        else:
            values[name] = None if field.default is PydanticUndefined else field.default
    values.update(next_attempt_at=now, created_at=now)
    return values


async def known_keys(uow: UnitOfWork, keys: Collection[str]) -> set[str]:
    """The dedupe keys among `keys` that are in the outbox already (sent or not)."""
    found: set[str] = set()
    ordered = list(keys)
    for start in range(0, len(ordered), CHUNK):
        rows = await uow.session.execute(
            select(Notification.dedupe_key).where(
                col(Notification.dedupe_key).in_(ordered[start : start + CHUNK])
            )
        )
        found.update(key for key in rows.scalars() if key is not None)
    return found


async def notify_many(uow: UnitOfWork, rows: Iterable[Mapping[str, Any]], *, now: datetime) -> int:
    """Many outbox rows (dicts of Notification columns: citizen_id, key, params, buttons, ref,
    dedupe_key ...) in one statement per chunk. Rows whose dedupe key was written before, or
    repeats one given earlier, are left out. Returns how many were written."""
    defaults = _defaults(now)
    wanted = [defaults | dict(row) for row in rows]
    keys = {row["dedupe_key"] for row in wanted if row["dedupe_key"] is not None}
    known = await known_keys(uow, keys) if keys else set()
    fresh: list[dict[str, Any]] = []
    for row in wanted:
        key = row["dedupe_key"]
        if key is not None:
            if key in known:
                continue
            known.add(key)
        fresh.append(row)
    for start in range(0, len(fresh), CHUNK):
        await uow.session.execute(insert(Notification), fresh[start : start + CHUNK])
    return len(fresh)


async def notify_selected(
    uow: UnitOfWork,
    citizens: Select[Any],
    key: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    ref: str | None = None,
    dedupe_prefix: str | None = None,
) -> int:
    """One message for every resident `citizens` finds (a query whose first column is the
    citizen id), written by the database (INSERT ... SELECT) without loading anyone into Python.
    With `dedupe_prefix` each row gets the key "<prefix>:<citizen id>" and a resident who has
    it already is left out. Returns how many rows were written."""
    table = Notification.__table__  # type: ignore[attr-defined]
    found = citizens.subquery()
    citizen_id = next(iter(found.c))
    dedupe: Any = literal(None, String)
    query_filter: list[Any] = []
    if dedupe_prefix is not None:
        dedupe = literal(f"{dedupe_prefix}:", String) + cast(citizen_id, String)
        already = select(Notification.id).where(col(Notification.dedupe_key) == dedupe)
        query_filter.append(~already.exists())
    content = [
        citizen_id,
        literal(key, String),
        literal(dict(params or {}), JSON),
        literal(list(buttons), JSON),
        literal(ref, String),
        dedupe,
    ]
    statement = _insert_selected(table, content, now, *query_filter)
    return rows_changed(await uow.session.execute(statement))


OUTBOX_COLUMNS = (
    "citizen_id",
    "key",
    "params",
    "buttons",
    "ref",
    "dedupe_key",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _insert_selected(table: Any, content: Sequence[Any], now: datetime, *where: Any) -> Any:
    """INSERT ... SELECT of new outbox rows: `content` gives citizen_id, key, params, buttons,
    ref and dedupe_key; status, attempts and times are a new row's."""
    source = select(
        *content,
        literal(_defaults(now)["status"], String),
        literal(0, Integer),
        literal(now, table.c.next_attempt_at.type),
        literal(now, table.c.created_at.type),
    ).where(*where)
    return insert(table).from_select(list(OUTBOX_COLUMNS), source)


def json_object(dialect: str, *pairs: Any) -> Any:
    """A JSON object built by the database from key, value, key, value ... (for notify_rows).
    On SQLite nest these calls directly: a JSON value read back from a subquery is text."""
    name = "json_build_object" if dialect == "postgresql" else "json_object"
    return getattr(func, name)(*(_typed(part) for part in pairs))


def json_list(dialect: str, value: Any, *order_by: Any, where: Any = None) -> Any:
    """An aggregate: the JSON array of `value` over a group (ordered on PostgreSQL; SQLite
    keeps the order of its input rows), optionally only the rows `where` holds for."""
    if dialect == "postgresql":
        aggregate: Any = func.json_agg(aggregate_order_by(value, *order_by) if order_by else value)
    else:
        aggregate = func.json_group_array(value)
    return aggregate.filter(where) if where is not None else aggregate


def _typed(part: Any) -> Any:
    """Python values become typed parameters (PostgreSQL cannot guess a type inside
    json_build_object)."""
    if isinstance(part, ColumnElement):
        return part
    if isinstance(part, bool):
        return literal(part, Boolean)
    if isinstance(part, int):
        return literal(part, Integer)
    return literal(part, String)


async def notify_rows(
    uow: UnitOfWork,
    rows: Select[Any],
    *,
    now: datetime,
    stands_for: Callable[[Any], Any] | None = None,
) -> int:
    """Outbox rows built by a query, written by the database (INSERT ... SELECT): its columns
    are, in this order, citizen_id, key, params, buttons, ref, dedupe_key (JSON built with
    json_object / json_list). For many rows that differ per resident (digests), where
    notify_selected's one message for everyone is not enough. The caller makes sure the
    dedupe keys are new. Returns how many rows were written, or with `stands_for` (an
    expression of the notification table, e.g. the number of alerts a digest holds) the sum of
    it over the rows written (INSERT ... RETURNING)."""
    table = Notification.__table__  # type: ignore[attr-defined]
    found = rows.subquery()
    statement = _insert_selected(table, list(found.c), now)
    if stands_for is None:
        return rows_changed(await uow.session.execute(statement))
    result = await uow.session.execute(statement.returning(stands_for(table)))
    return sum(int(value or 0) for value in result.scalars())


class Notifier:
    """The outbox writer of the running town: the functions above with the city (its
    departments' staff rooms) already bound. Reached as `env.notifier`."""

    def __init__(self, city: City) -> None:
        self.city = city

    def citizen(
        self,
        uow: UnitOfWork,
        citizen_id: int,
        key: str,
        params: dict[str, Any] | None = None,
        **options: Any,
    ) -> Notification:
        return notify_citizen(uow, citizen_id, key, params, **options)

    def department(
        self,
        uow: UnitOfWork,
        department: str,
        key: str,
        params: dict[str, Any] | None = None,
        **options: Any,
    ) -> list[Notification]:
        return notify_department(uow, self.city, department, key, params, **options)
