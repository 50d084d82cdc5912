"""The operating interface: migrations, `stadtlotse chat` piped, grant, demo-data, bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import POSTGRES_URL, _postgres_reachable

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    environment.update(
        {
            "STADTLOTSE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STADTLOTSE_NOW": "2026-11-25T10:00:00+01:00",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


async def _diff_after_upgrade(db: Database) -> list[object]:
    await upgrade(db)
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )


async def test_migrations_build_exactly_the_models_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert await _diff_after_upgrade(db) == []
        await upgrade(db)  # running it again changes nothing
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_migrations_build_exactly_the_models_on_postgresql() -> None:
    if not _postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    schema = f"mig_{os.getpid()}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        assert await _diff_after_upgrade(db) == []
    finally:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def test_piped_chat_walks_through_and_ends_cleanly(tmp_path: Path) -> None:
    lines = "/start\n/profile\n1\nAnna\n/language en\n/link\n/mydata\n/deleteme\n1\n"
    result = run_cli(["chat", "--user", "anna"], tmp_path, stdin=lines)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /start" in out and "Mein Profil" in out
    assert "Vorname: Anna" in out
    assert "I will speak English with you" in out
    assert "Your link code is" in out
    assert (
        "stadtlotse-data-1.json" in out
        and (tmp_path / "var/console/stadtlotse-data-1.json").exists()
    )
    assert "Your data has been deleted" in out
    assert "Traceback" not in out + result.stderr


def test_grant_and_bad_settings(tmp_path: Path) -> None:
    assert run_cli(["chat", "--user", "petra"], tmp_path, stdin="/start\n").returncode == 0
    granted = run_cli(["grant", "staff", "console:petra", "--department", "buergerbuero"], tmp_path)
    assert granted.returncode == 0, granted.stderr
    assert "granted to resident 1" in granted.stdout
    unknown = run_cli(
        ["grant", "staff", "console:nobody", "--department", "buergerbuero"], tmp_path
    )
    assert unknown.returncode == 2 and "no resident" in unknown.stderr
    wrong_dept = run_cli(["grant", "staff", "1", "--department", "mars"], tmp_path)
    assert wrong_dept.returncode == 2 and "unknown department" in wrong_dept.stderr
    bad = run_cli(["chat"], tmp_path, STADTLOTSE_WEB_PORT="eighty")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "STADTLOTSE_WEB_PORT" in bad.stderr
    bad_city = run_cli(["chat"], tmp_path, STADTLOTSE_CITY_CONFIG=str(tmp_path / "nope.toml"))
    assert bad_city.returncode == 2 and "does not exist" in bad_city.stderr


def test_demo_data_fills_an_empty_database_once(tmp_path: Path) -> None:
    first = run_cli(["demo-data"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Demo data added" in first.stdout
    second = run_cli(["demo-data"], tmp_path)
    assert "not empty" in second.stdout
    staff = run_cli(["chat", "--user", "petra"], tmp_path, stdin="/profile\n")
    assert "Vorname: Petra" in staff.stdout
    outbox = run_cli(["outbox"], tmp_path)
    assert outbox.returncode == 0 and "pending" in outbox.stdout
