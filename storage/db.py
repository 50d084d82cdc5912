"""The database: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg) when configured."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

from storage.observe import Observer, Unobserved
from storage.uow import KeySecret, UnitOfWork

DEFAULT_URL = "sqlite+aiosqlite:///var/stadtlotse.db"
READ_ONLY = "stadtlotse_read_only"  # execution option of the engine behind db.reader()
IDLE_PING_SECONDS = 10.0  # a pooled PostgreSQL connection idle this long is checked before use


def normalise_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


class Database:
    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine_kwargs.setdefault("connect_args", {"timeout": 30})
        elif self.dialect == "postgresql":
            # connections beyond pool_size are opened and closed again per checkout: under a
            # burst of 20 chats at once that churn (connect, TLS, type setup) cost more CPU than
            # the statements; 20 kept, 10 more for peaks, 30 at most as before
            engine_kwargs.setdefault("pool_size", 20)
            engine_kwargs.setdefault("max_overflow", 10)
        else:
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **engine_kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        elif not engine_kwargs.get("pool_pre_ping"):
            _ping_when_idle(self.engine, IDLE_PING_SECONDS)
        self.sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        reading = self.engine.execution_options(**{READ_ONLY: True})
        _refuse_writes(reading)
        self.reading_sessions = async_sessionmaker(
            reading, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        # SQLite has one writer at a time. Queueing writers in the process is fairer and much
        # faster than letting each connection poll the file lock (busy_timeout backs off up to
        # 100 ms per try). Other processes still meet the busy timeout.
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        self.observer: Observer = Unobserved()  # the running program plugs in its metrics
        self.key_secret: KeySecret | None = None  # set at start by bot/extensions/trust.py

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.write_lock, self.observer, self.key_secret)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: on SQLite it neither waits for nor takes the write
        lock (WAL: readers see the last commit while a writer works), and its transaction
        begins deferred. A write inside it is refused on either database."""
        return UnitOfWork(self.reading_sessions, None, self.observer, self.key_secret)

    async def create_all(self) -> None:
        """For tests and benchmarks; production uses the migrations."""
        import storage.models  # noqa: F401  (registers every table)

        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """Check a pooled connection before use only when it lay idle a while. SQLAlchemy's
    `pool_pre_ping` pings at every checkout: a round trip per input on the hot path. A
    connection in steady use proves itself; one that lay idle may have been closed by the
    server (restart, idle timeout) and is replaced before it fails a request."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:  # the pool replaces it and tries again
            raise DisconnectionError(f"idle connection lost: {type(error).__name__}") from error


WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


def _refuse_writes(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _refuse(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        compiled_write = context is not None and (
            context.isinsert or context.isupdate or context.isdelete
        )
        if compiled_write or WRITES.match(statement):
            raise RuntimeError("a reading unit of work (db.reader()) tried to write: use db.uow()")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so that a transaction that will
    write takes the write lock up front instead of failing later with 'database is locked'."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        reading = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
