"""Stored menus: buttons are shown as opaque `menuid:index` tokens and resolved here."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import col

from flows.types import Button
from services.codes import ALPHABET
from services.numbers import parse_int
from storage.models.conversation import Menu
from storage.uow import UnitOfWork, rows_changed

TOKEN_SEPARATOR = ":"


def new_menu_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))  # 60 bits


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


async def current_menus(uow: UnitOfWork, conversation_id: int, generation: int) -> list[Menu]:
    result = await uow.session.execute(
        select(Menu)
        .where(Menu.conversation_id == conversation_id, Menu.generation == generation)
        .order_by(Menu.created_at, Menu.id)
    )
    return list(result.scalars())


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
