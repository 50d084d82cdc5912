"""Unit of work: one session, one commit at the end of a use case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.observe import Observer, Unobserved


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write_lock: asyncio.Lock | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._sessions = sessions
        self.observer: Observer = observer or Unobserved()
        self._write_lock = write_lock
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    @property
    def dialect(self) -> str:
        bind = self.session.bind
        return bind.dialect.name if bind is not None else ""

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

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def flush(self) -> None:
        await self.session.flush()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the commit succeeded (e.g. wake the outbox sender)."""
        self._after_commit.append(callback)

    def count_after_commit(self, event: str, /, **labels: str) -> None:
        """Report `event` to the observer (metrics) once the commit succeeded."""
        self.after_commit(lambda: self.observer.count(event, **labels))
