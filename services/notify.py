"""Writing notifications into the outbox, in the caller's transaction.

A notification is a message key (msgid) plus parameters, rendered in the recipient's language
when it is sent. Parameters that need locale formatting use services.i18n.money/day/moment.
Buttons are dicts {"label": msgid, "action": ..., "arg": ...} or {"label": msgid, "url": ...}.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.city import City
from storage.models.outbox import Notification
from storage.uow import UnitOfWork


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
) -> list[Notification]:
    """Queue a message for a department's staff rooms: one row per room the city configuration
    names (Telegram group, Matrix room, console staff view). Rendered in German, the staff
    language, unless the room is configured otherwise."""
    found = city.department(department)
    if found is None:
        raise ValueError(f"unknown department {department!r}")
    rooms = [(ch, room_chat_id(ch, chat)) for ch, chat in found.rooms.model_dump().items() if chat]
    notes = []
    for channel, chat_id in rooms:
        note = Notification(
            department=department,
            channel=channel,
            chat_id=chat_id,
            key=key,
            params=dict(params or {}),
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
