"""One replica runs the jobs: the holder of a PostgreSQL advisory lock, taken on a connection
of its own and held as long as that connection lives. On SQLite there is one process, which
leads. `still_held()` notices a lost connection (the lock went with it)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

LOCK_KEY = 0x5354_4C54_0001  # "STLT" + 1: the scheduler's advisory lock


class Leader:
    def __init__(self, db: Database, key: int = LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: Any = None
        self.leading = False

    async def acquire(self) -> bool:
        if self.db.is_sqlite:
            self.leading = True
            return True
        if self._conn is None:
            conn = await self.db.engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = (
                await self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                )
            ).scalar_one()
        except Exception:
            log.exception("could not ask for the scheduler lock")
            await self._drop()
            return False
        self.leading = bool(got)
        if not self.leading:
            await self._drop()  # do not keep an idle connection while following
        return self.leading

    async def still_held(self) -> bool:
        if self.db.is_sqlite:
            return self.leading
        if self._conn is None or not self.leading:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("scheduler lock connection lost: this replica stops running jobs")
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None and self.leading:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:
                log.warning("could not release the scheduler lock; closing its connection")
        await self._drop()

    async def _drop(self) -> None:
        self.leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                await conn.invalidate()
