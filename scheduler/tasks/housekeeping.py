"""Housekeeping: old menus (buttons older than 30 days answer 'outdated' anyway) and the record
of processed updates (a channel never re-delivers an update after a week)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from scheduler.jobs import Job, daily, register
from services.env import Env
from storage.models.conversation import Menu, ProcessedUpdate
from storage.uow import UnitOfWork, rows_changed

MENU_AGE = timedelta(days=30)
UPDATE_AGE = timedelta(days=7)


async def tidy(uow: UnitOfWork, env: Env, now: datetime) -> object:
    old_menus = await uow.session.execute(delete(Menu).where(Menu.created_at < now - MENU_AGE))
    old_updates = await uow.session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.at < now - UPDATE_AGE)
    )
    return (
        f"{rows_changed(old_menus)} old menus and {rows_changed(old_updates)} "
        "processed-update records removed"
    )


register(Job("housekeeping", daily(3, 30), tidy, "old menus and update records are removed"))
