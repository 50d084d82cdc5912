"""Unit of work: one session, one commit at the end of a use case.

Nothing slow happens inside: a call to a payment provider (or any other network service) is
registered with `after_transaction` and runs once the transaction committed and the unit of
work let go of its connection and, on SQLite, of the process-wide write lock. Such a call
records its result in a short transaction of its own (`uow.fresh()`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from types import TracebackType
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.observe import Observer, Unobserved

log = logging.getLogger(__name__)

# the secret that encrypts the signing keys, or how to read it when first needed
KeySecret = bytes | Callable[[], bytes]


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write_lock: asyncio.Lock | None = None,
        observer: Observer | None = None,
        key_secret: KeySecret | None = None,
    ) -> None:
        self._sessions = sessions
        self.observer: Observer = observer or Unobserved()
        # the secret that encrypts the town's signing keys at rest (services/trust/secret.py);
        # None: read from STADTLOTSE_KEY_SECRET or the data directory when first needed
        self.key_secret = key_secret
        self._write_lock = write_lock
        self._session: AsyncSession | None = None
        self._after_transaction: list[Callable[[], Awaitable[object]]] = []
        self.committed = False
        # rows read once per unit of work and kept for its other readers (services.drafts);
        # forgotten on rollback
        self.memo: dict[Hashable, Any] = {}
        self._dialect = ""

    def fresh(self) -> UnitOfWork:
        """Another unit of work on the same database, for a short transaction of its own (only
        outside this one: on SQLite a unit of work inside another would wait for itself)."""
        return UnitOfWork(self._sessions, self._write_lock, key_secret=self.key_secret)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    @property
    def dialect(self) -> str:
        if not self._dialect:
            bind = self.session.bind
            self._dialect = bind.dialect.name if bind is not None else ""
        return self._dialect

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            task = asyncio.current_task()
            if getattr(task, "_stadtlotse_uow", False):
                raise RuntimeError("a unit of work was opened inside another one (SQLite deadlock)")
            await self._write_lock.acquire()
            if task is not None:
                task._stadtlotse_uow = True  # type: ignore[attr-defined]
        self._session = self._sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self.committed:
                await session.rollback()
        finally:
            await session.close()
            self._session = None
            if self._write_lock is not None:
                task = asyncio.current_task()
                if task is not None:
                    task._stadtlotse_uow = False  # type: ignore[attr-defined]
                self._write_lock.release()
        later, self._after_transaction = self._after_transaction, []
        if self.committed:
            for call in later:
                try:
                    await call()
                except Exception:  # recorded state stays; the scheduled jobs retry
                    log.exception("work after the transaction failed; a job will retry it")

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True

    async def rollback(self) -> None:
        """Undo the whole transaction: what it wrote, what it remembered, and the work it
        registered for after the commit."""
        await self.session.rollback()
        self.memo.clear()
        self._after_transaction.clear()

    async def flush(self) -> None:
        await self.session.flush()

    def after_transaction(self, call: Callable[[], Awaitable[object]]) -> None:
        """Run `call` once this unit of work committed and closed (never if it rolled back):
        the place for network calls. A failure is logged; what the transaction recorded lets
        a job repeat the call."""
        self._after_transaction.append(call)

    def count_after_commit(self, event: str, /, **labels: str) -> None:
        """Report `event` to the observer (metrics) once the transaction committed."""

        async def count() -> None:
            self.observer.count(event, **labels)

        self.after_transaction(count)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT ... SELECT changed: the count a conditional
    update is judged by (1 = it happened, 0 = someone else was first)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
