"""Alembic environment: async engine, every table of storage.models, batch mode on SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import normalise_url

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "")
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=target_metadata,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    _configure(literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_async_engine(normalise_url(config.get_main_option("sqlalchemy.url") or ""))
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online()) if config.attributes.get("connection") is None else _run(
        config.attributes["connection"]
    )
