"""PostgreSQL connections are checked before use only after lying idle (no round trip per
input), and one the server closed meanwhile is replaced without failing the request."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import storage.db
from storage.db import Database
from tests.conftest import postgres_database


async def test_a_connection_closed_by_the_server_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no server to close a connection")
    monkeypatch.setattr(storage.db, "IDLE_PING_SECONDS", 0.0)
    checked = postgres_database()
    try:
        async with checked.engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.engine.connect() as admin:  # the server closes it, as a restart would
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with checked.uow() as uow:
            again = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await checked.dispose()


async def test_a_connection_in_use_is_not_pinged(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only")
    pings: list[int] = []
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        raw = (await conn.get_raw_connection()).dbapi_connection
        original = type(raw).ping

        def counting(self: object) -> None:
            pings.append(1)
            original(self)

    try:
        type(raw).ping = counting  # type: ignore[method-assign]
        for _ in range(3):
            async with db.uow() as uow:
                await uow.session.execute(text("SELECT 1"))
    finally:
        type(raw).ping = original  # type: ignore[method-assign]
    assert pings == []
