"""db.reader(): a unit of work that only reads. On SQLite it does not wait for the write lock
(WAL lets readers see the last commit while a writer works); a write inside it is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.models.conversation import ProcessedUpdate

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


async def test_a_reader_does_not_wait_for_a_writer(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(ProcessedUpdate(channel="test", key="committed", at=NOW))
        await uow.commit()

    async def read() -> set[str]:
        async with db.reader() as reader:
            result = await reader.session.execute(select(ProcessedUpdate.key))
            return set(result.scalars())

    writer_holds_lock = asyncio.Event()
    reader_done = asyncio.Event()

    async def write() -> None:
        async with db.uow() as uow:  # holds the SQLite write lock until it ends
            uow.session.add(ProcessedUpdate(channel="test", key="pending", at=NOW))
            await uow.flush()
            writer_holds_lock.set()
            await asyncio.wait_for(reader_done.wait(), 10)
            await uow.commit()

    writer = asyncio.create_task(write())
    await writer_holds_lock.wait()
    seen = await asyncio.wait_for(read(), 5)  # would time out if it waited for the writer
    reader_done.set()
    await writer
    assert seen == {"committed"}
    assert await read() == {"committed", "pending"}


async def test_a_reader_refuses_to_write(db: Database) -> None:
    with pytest.raises(RuntimeError, match=r"db\.reader"):
        async with db.reader() as reader:
            reader.session.add(ProcessedUpdate(channel="test", key="nope", at=NOW))
            await reader.flush()
    with pytest.raises(RuntimeError, match=r"db\.reader"):
        async with db.reader() as reader:
            await reader.session.execute(text("DELETE FROM processed_update"))
