"""Shared fixtures. Every test that uses `db` runs on SQLite and, where reachable, PostgreSQL
(STADTLOTSE_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test). Each test run
gets its own PostgreSQL schema, so parallel runs on one server do not disturb each other."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import flows  # noqa: F401  (registers every flow)
import storage.models  # noqa: F401
from services.city import City, load_city
from services.clock import FrozenClock
from storage.db import Database
from tests.support.chat import Transcript

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
POSTGRES_URL = os.environ.get(
    "STADTLOTSE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SCHEMA = f"t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
# the secret that encrypts signing keys (services/trust/secret.py): tests never write
# var/signing-secret into the checkout, programs they start inherit it
os.environ.setdefault("STADTLOTSE_KEY_SECRET", "tests-only-key-secret")
_pg_state: dict[str, object] = {}


def _probe_postgres() -> None:
    """Runs once before any test (no event loop is running yet)."""

    async def probe() -> bool:
        try:
            import asyncpg

            conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
        except Exception as error:
            _pg_state["why"] = f"{type(error).__name__}: {error}"
            return False
        await conn.close()
        return True

    _pg_state["reachable"] = asyncio.run(probe())


def _postgres_reachable() -> bool:
    return bool(_pg_state.get("reachable"))


def pytest_configure(config: pytest.Config) -> None:
    _probe_postgres()


def postgres_database() -> Database:
    return Database(
        POSTGRES_URL,
        connect_args={"server_settings": {"search_path": SCHEMA}},
        pool_size=5,
        max_overflow=50,
    )


async def _prepare_postgres() -> None:
    if _pg_state.get("schema_ready"):
        return
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    await admin.dispose()
    db = postgres_database()
    await db.create_all()
    await db.dispose()
    _pg_state["schema_ready"] = True


async def _truncate(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _pg_state.get("schema_ready"):
        return

    async def drop() -> None:
        admin = Database(POSTGRES_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await admin.dispose()

    asyncio.run(drop())


def pytest_report_header(config: pytest.Config) -> str:
    if _postgres_reachable():
        return f"PostgreSQL: {POSTGRES_URL} (schema {SCHEMA})"
    return f"PostgreSQL: not reachable ({_pg_state.get('why')}); PostgreSQL tests are skipped"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await database.create_all()
    else:
        if not _postgres_reachable():
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {_pg_state.get('why')}")
        await _prepare_postgres()
        database = postgres_database()
        await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def city() -> City:
    return load_city()


@pytest.fixture
def chat(db: Database, city: City, clock: FrozenClock, tmp_path: Path) -> Transcript:
    return Transcript(db, city, clock, media_dir=tmp_path / "media")
