"""Singleton roles and migrations among replicas on one PostgreSQL (advisory locks)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.locks import AdvisoryLock, hold_once, hold_role, lock_key
from storage.migrate import upgrade
from tests.conftest import POSTGRES_URL, _postgres_reachable

pytestmark = pytest.mark.postgres


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    if not _postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    name = f"locks_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        await admin.dispose()


def replica(schema: str) -> Database:
    """A process of its own: its own engine and connections, on the town's schema."""
    return Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})


def test_lock_keys_differ_by_role_and_schema() -> None:
    keys = {lock_key(r, s) for r in ("sender", "scheduler") for s in ("ahaus", "vreden")}
    assert len(keys) == 4
    assert all(-(2**63) <= key < 2**63 for key in keys)


async def test_replicas_starting_together_migrate_once(schema: str) -> None:
    databases = [replica(schema) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(db) for db in databases))
        async with databases[0].engine.connect() as conn:
            versions = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
        assert versions == 1
    finally:
        for db in databases:
            await db.dispose()


async def test_one_holder_per_role_and_a_survivor_takes_over(schema: str) -> None:
    first, second, elsewhere = replica(schema), replica(schema), replica("public")
    a, b = AdvisoryLock(first, "sender"), AdvisoryLock(second, "sender")
    other_town = AdvisoryLock(elsewhere, "sender")
    scheduler = AdvisoryLock(second, "scheduler")
    try:
        assert await a.acquire()
        assert not await b.acquire()
        assert await scheduler.acquire()  # another role: its own lock
        assert await other_town.acquire()  # another schema: another town
        await a._conn.invalidate()  # the holder's connection dies (as with kill -9)
        assert not await a.still_held()
        assert await b.acquire()
        assert not await a.acquire()
    finally:
        for lock in (a, b, other_town, scheduler):
            await lock.release()
        for db in (first, second, elsewhere):
            await db.dispose()


async def test_hold_role_runs_the_work_only_while_the_lock_is_held(schema: str) -> None:
    first, second = replica(schema), replica(schema)
    changes: list[tuple[str, bool]] = []
    running: dict[str, bool] = {}

    def work(name: str) -> object:
        async def run() -> None:
            running[name] = True
            try:
                await asyncio.Event().wait()
            finally:
                running[name] = False

        return run

    one, two = AdvisoryLock(first, "scheduler"), AdvisoryLock(second, "scheduler")
    holders = [
        asyncio.create_task(
            hold_role(
                lock,
                work(name),  # type: ignore[arg-type]
                on_change=lambda held, name=name: changes.append((name, held)),
                retry=0.05,
                check=0.05,
            )
        )
        for name, lock in (("one", one), ("two", two))
    ]
    try:
        for _ in range(200):
            if any(running.values()):
                break
            await asyncio.sleep(0.05)
        [leader] = [name for name, on in running.items() if on]
        await asyncio.sleep(0.3)
        assert [name for name, on in running.items() if on] == [leader]  # never both
        lost = one if leader == "one" else two
        await lost._conn.invalidate()
        for _ in range(200):
            if running.get("two" if leader == "one" else "one"):
                break
            await asyncio.sleep(0.05)
        assert not running[leader] and running["two" if leader == "one" else "one"]
        assert (leader, True) in changes and (leader, False) in changes
    finally:
        for task in holders:
            task.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
        await first.dispose()
        await second.dispose()


async def test_failing_work_gives_the_role_up(schema: str) -> None:
    db = replica(schema)

    async def broken() -> None:
        raise RuntimeError("the role's work failed")

    lock = AdvisoryLock(db, "sender")
    try:
        assert await hold_once(lock, broken, check=0.05)
        assert not lock.held
        other = AdvisoryLock(db, "sender")
        assert await other.acquire()  # it was released, not left behind
        await other.release()
    finally:
        await db.dispose()
