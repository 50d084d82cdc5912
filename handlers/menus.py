"""Stored menus: buttons are shown as opaque `menuid:index` tokens and resolved here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlmodel import col

from flows.types import Button
from services.codes import ALPHABET
from services.numbers import parse_int
from storage.models.conversation import Menu
from storage.uow import UnitOfWork, rows_changed

TOKEN_SEPARATOR = ":"


def new_menu_id() -> str:
    """12 characters of the code alphabet (32 letters: 5 bits each), 60 random bits drawn at
    once (a draw per character cost more than the rest of writing the menu)."""
    bits = secrets.randbits(60)
    return "".join(ALPHABET[(bits >> shift) & 31] for shift in range(0, 60, 5))


def pack(menu_id: str, index: int) -> str:
    return f"{menu_id}{TOKEN_SEPARATOR}{index}"


def unpack(token: str) -> tuple[str, int] | None:
    menu_id, sep, index_text = token.partition(TOKEN_SEPARATOR)
    index = parse_int(index_text, high=999)
    if not sep or index is None or not 1 <= len(menu_id) <= 16:
        return None
    return menu_id, index


def buttons_to_rows(buttons: Sequence[Button]) -> list[dict[str, str]]:
    return [{"label": b.label, "action": b.action, "arg": b.arg, "url": b.url} for b in buttons]


def rows_to_buttons(rows: Sequence[dict[str, str]]) -> list[Button]:
    return [
        Button(r["label"], r.get("action", ""), r.get("arg", ""), r.get("url", "")) for r in rows
    ]


async def store_menu(
    uow: UnitOfWork,
    *,
    channel: str,
    chat_id: str,
    text: str,
    buttons: Sequence[Button],
    now: datetime,
    conversation_id: int | None = None,
    citizen_id: int | None = None,
    generation: int = 0,
) -> Menu:
    menu = Menu(
        id=new_menu_id(),
        conversation_id=conversation_id,
        citizen_id=citizen_id,
        channel=channel,
        chat_id=chat_id,
        generation=generation,
        text=text,
        buttons=buttons_to_rows(buttons),
        created_at=now,
    )
    uow.session.add(menu)
    return menu


def menu_row(
    *,
    channel: str,
    chat_id: str,
    text: str,
    buttons: Sequence[Button],
    now: datetime,
    conversation_id: int | None,
    citizen_id: int | None,
    generation: int,
) -> dict[str, Any]:
    """A menu as the row `INSERT_MENUS` writes (the dispatcher writes a step's menus with the
    conversation, without the ORM)."""
    return {
        "id": new_menu_id(),
        "conversation_id": conversation_id,
        "citizen_id": citizen_id,
        "channel": channel,
        "chat_id": chat_id,
        "generation": generation,
        "text": text,
        "buttons": buttons_to_rows(buttons),
        "created_at": now,
    }


MENUS = cast(Table, Menu.__table__)  # type: ignore[attr-defined]
INSERT_MENUS = insert(MENUS)  # executed with a list of `menu_row`s


def _current_key(conversation_id: int, generation: int) -> tuple[str, int, int]:
    return ("current_menus", conversation_id, generation)


async def current_menus(uow: UnitOfWork, conversation_id: int, generation: int) -> list[Menu]:
    key = _current_key(conversation_id, generation)
    if key in uow.memo:
        known: list[Menu] = uow.memo[key]
        return known
    read = _already_read(uow, conversation_id, generation)
    if read is not None:
        return read[0]
    result = await uow.session.execute(
        select(Menu)
        .where(Menu.conversation_id == conversation_id, Menu.generation == generation)
        .order_by(Menu.created_at, Menu.id)
    )
    found = list(result.scalars())
    uow.memo[key] = found
    return found


def _to_pick_from() -> CompoundSelect[Any]:
    columns = list(Menu.__table__.c)  # type: ignore[attr-defined]
    current = select(*columns, literal(0).label("notice")).where(
        Menu.conversation_id == bindparam("conversation_id"),
        Menu.generation == bindparam("generation"),
    )
    recent = (
        select(*columns)
        .where(
            Menu.channel == bindparam("channel"),
            Menu.chat_id == bindparam("chat_id"),
            col(Menu.conversation_id).is_(None),
        )
        .order_by(col(Menu.created_at).desc(), col(Menu.id).desc())
        .limit(bindparam("notices", type_=Integer))
        .subquery()
    )
    return union_all(current, select(*recent.c, literal(1)))


_TO_PICK_FROM = _to_pick_from()  # built once: building and keying it costs more than running it


def _read_key(conversation_id: int, generation: int) -> tuple[str, int, int]:
    return ("menus_read", conversation_id, generation)


def as_json_object(columns: Iterable[Any]) -> Any:
    """A menu row as one JSON object (PostgreSQL reads menus along with the conversation:
    handlers/loading.py); `columns`: the menu table's, or a subquery's over it."""
    names: list[Any] = [literal_column(f"'{column.name}'") for column in columns]  # ours
    return func.json_build_object(*[x for pair in zip(names, columns, strict=True) for x in pair])


@dataclass
class _Read:
    """Menus read along with the conversation: JSON until someone asks for them (most inputs
    never pick from a menu), then read-only Menu copies."""

    current: list[Any]
    notices: list[Any]
    built: bool = False


def remember_to_pick_from(
    uow: UnitOfWork,
    *,
    conversation_id: int,
    generation: int,
    current: list[dict[str, Any]] | None,
    notices: list[dict[str, Any]] | None,
) -> None:
    """What `menus_to_pick_from` would read, read already with the conversation."""
    uow.memo[_read_key(conversation_id, generation)] = _Read(current or [], notices or [])


def _already_read(
    uow: UnitOfWork, conversation_id: int, generation: int
) -> tuple[list[Menu], list[Menu]] | None:
    read: _Read | None = uow.memo.get(_read_key(conversation_id, generation))
    if read is None:
        return None
    if not read.built:
        read.current = [_from_json(m) for m in read.current]
        read.notices = [_from_json(m) for m in read.notices]
        read.built = True
        _keep(uow, (read.current, read.notices), conversation_id, generation)
    return read.current, read.notices


def _from_json(values: dict[str, Any]) -> Menu:
    created = datetime.fromisoformat(values["created_at"]).astimezone(UTC)
    return Menu.model_construct(**(values | {"created_at": created}))  # read-only: no checks


def _keep(
    uow: UnitOfWork, found: tuple[list[Menu], list[Menu]], conversation_id: int, generation: int
) -> None:
    found[0].sort(key=lambda m: (m.created_at, m.id))
    found[1].sort(key=lambda m: (m.created_at, m.id), reverse=True)
    uow.memo[_current_key(conversation_id, generation)] = found[0]


async def menus_to_pick_from(
    uow: UnitOfWork,
    *,
    conversation_id: int,
    generation: int,
    channel: str,
    chat_id: str,
    notices: int,
) -> tuple[list[Menu], list[Menu]]:
    """In one statement: the conversation's current menus (oldest first) and the newest
    `notices` menus posted into the chat by notifications (newest first). The menus returned
    are read-only copies; the current ones are kept for the rest of the unit of work. On
    PostgreSQL the dispatcher's load statement has read them already."""
    read = _already_read(uow, conversation_id, generation)
    if read is not None:
        return read[0], read[1][:notices]
    params = {
        "conversation_id": conversation_id,
        "generation": generation,
        "channel": channel,
        "chat_id": chat_id,
        "notices": notices,
    }
    rows = (await uow.session.execute(_TO_PICK_FROM, params)).all()
    found: tuple[list[Menu], list[Menu]] = ([], [])
    for row in rows:
        values = dict(row._mapping)
        kind = values.pop("notice")
        found[kind].append(Menu.model_construct(**values))  # read-only: no validation
    _keep(uow, found, conversation_id, generation)
    return found


async def latest_detached_menu(uow: UnitOfWork, channel: str, chat_id: str) -> Menu | None:
    """The newest menu posted into a chat by a notification (staff rooms)."""
    found = await recent_detached_menus(uow, channel, chat_id, 1)
    return found[0] if found else None


async def recent_detached_menus(
    uow: UnitOfWork, channel: str, chat_id: str, limit: int = 5
) -> list[Menu]:
    """The newest menus posted into a chat by notifications, newest first."""
    result = await uow.session.execute(
        select(Menu)
        .where(Menu.channel == channel, Menu.chat_id == chat_id, Menu.conversation_id.is_(None))
        .order_by(col(Menu.created_at).desc(), col(Menu.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def forget_old_menus(uow: UnitOfWork, before: datetime) -> int:
    """Housekeeping: menus older than `before` can no longer be pressed (they answer 'outdated')."""
    result = await uow.session.execute(delete(Menu).where(Menu.created_at < before))
    return rows_changed(result)
