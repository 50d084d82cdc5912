"""Singleton roles among replicas: PostgreSQL session advisory locks, each taken on a connection
of its own and held as long as that connection lives.

A replica that dies (even kill -9) closes its connection and PostgreSQL frees the lock at once;
one that vanishes without closing (power cut, network gone) is noticed by TCP keepalives, set
short on the lock connection, within about 20 s. The holder checks its connection every few
seconds and stops the role's work when the lock is gone. Lock keys are derived from the role's
name and the connection's schema, so towns sharing one PostgreSQL in separate schemas do not
block each other. On SQLite there is one process, which holds every role."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # how often a holder checks that it still has its lock
RETRY_SECONDS = 5.0  # how often a replica without the role asks for it
QUERY_TIMEOUT = 5.0  # a lock connection that does not answer this fast counts as lost
# the server drops a silent peer after idle + interval * count seconds
KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def lock_key(name: str, schema: str = "") -> int:
    """A signed 64-bit advisory lock key for a role name within a schema."""
    digest = hashlib.sha256(f"stadtlotse:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    def __init__(self, db: Database, name: str, *, key: int | None = None) -> None:
        self.db = db
        self.name = name
        self.key = key
        self._conn: Any = None
        self.held = False

    async def acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it now."""
        if self.db.is_sqlite:
            self.held = True
            return True
        if self.held and await self.still_held():
            return True
        try:
            async with asyncio.timeout(QUERY_TIMEOUT):
                if self._conn is None:
                    conn = await self.db.engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    for setting, value in KEEPALIVE.items():
                        await self._conn.execute(text(f"SET {setting} = {int(value)}"))
                if self.key is None:
                    schema = (await self._conn.execute(text("SELECT current_schema()"))).scalar()
                    self.key = lock_key(self.name, schema or "")
                got = (
                    await self._conn.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                    )
                ).scalar_one()
        except Exception as error:
            log.warning("could not ask for the %s lock (%s)", self.name, type(error).__name__)
            await self._drop()
            return False
        self.held = bool(got)
        if not self.held:
            await self._drop()  # do not keep an idle connection while following
        return self.held

    async def still_held(self) -> bool:
        if self.db.is_sqlite:
            return self.held
        if self._conn is None or not self.held:
            return False
        try:
            async with asyncio.timeout(QUERY_TIMEOUT):
                await self._conn.execute(text("SELECT 1"))
        except Exception:
            log.warning(
                "the %s lock connection was lost: this replica gives the role up", self.name
            )
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None and self.held:
            try:
                async with asyncio.timeout(QUERY_TIMEOUT):
                    await self._conn.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                    )
            except Exception:
                log.warning("could not release the %s lock; closing its connection", self.name)
        await self._drop()
        if self.db.is_sqlite:
            self.held = False

    async def _drop(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                with contextlib.suppress(Exception):
                    await conn.invalidate()


async def hold_role(
    lock: AdvisoryLock,
    work: Callable[[], Awaitable[None]],
    *,
    on_change: Callable[[bool], None] | None = None,
    retry: float = RETRY_SECONDS,
    check: float = CHECK_SECONDS,
) -> None:
    """Until cancelled: wait for the lock, run `work` while holding it, stop `work` when the lock
    is lost, and take the role up again when the lock comes back."""
    while True:
        await hold_once(lock, work, on_change=on_change, check=check)
        await asyncio.sleep(retry)


async def hold_once(
    lock: AdvisoryLock,
    work: Callable[[], Awaitable[None]],
    *,
    on_change: Callable[[bool], None] | None = None,
    check: float = CHECK_SECONDS,
) -> bool:
    """If the lock is free: take it and run `work` until it ends or the lock is lost (then it is
    cancelled). Returns whether the lock was held. A failing `work` is logged, not raised: the
    role is given up and taken again on the next turn."""
    if not await lock.acquire():
        return False
    log.info("this replica holds the role %s", lock.name)
    if on_change is not None:
        on_change(True)
    task = asyncio.ensure_future(work())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=check)
            if not task.done() and not await lock.still_held():
                break
    finally:
        if on_change is not None:
            on_change(False)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await lock.release()
    if not task.cancelled() and task.exception() is not None:
        log.error("the role %s failed; giving it up", lock.name, exc_info=task.exception())
    return True
