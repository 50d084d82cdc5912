"""The singleton roles of `stadtlotse run` among replicas on one PostgreSQL: Telegram polling,
the outbox sender (with the Matrix connection riding along: the bot's encryption keys live in
one process) and the scheduler. Each role is held through its own advisory lock
(storage/locks.py); `app.roles` says which this replica holds (stadtlotse_leader in /metrics)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.settings import SettingsError
from storage.locks import AdvisoryLock, hold_role

if TYPE_CHECKING:
    from bot.bootstrap import App

TELEGRAM_POLLING = "telegram-polling"
SENDER = "sender"
MATRIX = "matrix"
SCHEDULER = "scheduler"


async def hold(
    app: App, role: str, work: Callable[[], Awaitable[None]], *, lock: str | None = None
) -> None:
    """Until cancelled: hold `role` whenever its lock is free, running `work` while held.
    `lock` names the lock when there is one per account (one poller per bot token). A wrong
    setting found by `work` (SettingsError) stops the program, as it would at start."""

    def changed(held: bool) -> None:
        app.roles[role] = held

    async def guarded() -> None:
        try:
            await work()
        except SettingsError as error:
            app.fail(error)
            raise

    app.roles.setdefault(role, False)
    await hold_role(AdvisoryLock(app.db, lock or role), guarded, on_change=changed)
