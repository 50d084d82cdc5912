"""`stadtlotse db upgrade`: bring the database to the newest schema with Alembic.

On PostgreSQL the migration runs under a transaction-level advisory lock: replicas that start
together queue up, the first migrates, the others find the schema current and go on."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Database
from storage.locks import lock_key

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    await _with_connection(db.engine, lambda cfg: command.upgrade(cfg, revision), db.url)


async def _with_connection(engine: AsyncEngine, action: object, url: str) -> None:
    def run(sync_connection: object) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = sync_connection
        action(config)  # type: ignore[operator]

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
            key = lock_key("migrations", schema or "")
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        await conn.run_sync(run)
