"""`stadtlotse apikey add|list|revoke` on a database file: the key is printed once, on the last
line, stored only as its hash, and works until it is revoked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from services.apikeys import keys
from services.clock import FrozenClock
from services.defects.open311 import PURPOSE
from storage.db import Database
from storage.models.apikeys import ApiKey
from tests.conftest import START


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STADTLOTSE_DATABASE_URL", url)
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-11-25T10:00:00+01:00")
    return url


async def stored(url: str) -> list[ApiKey]:
    db = Database(url)
    try:
        async with db.uow() as uow:
            found = list((await uow.session.execute(select(ApiKey))).scalars())
            uow.session.expunge_all()
            return found
    finally:
        await db.dispose()


async def verifies(url: str, secret: str) -> bool:
    db = Database(url)
    try:
        async with db.uow() as uow:
            return await keys.verify(uow, secret, PURPOSE, FrozenClock(START).now()) is not None
    finally:
        await db.dispose()


def test_add_list_revoke(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "add", "fixmystreet"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(secret) >= 40 and " " not in secret
    [key] = asyncio.run(stored(database))
    assert key.name == "fixmystreet" and key.purpose == "open311"
    assert secret not in (key.key_hash, key.prefix) and key.key_hash == keys.digest(secret)
    assert asyncio.run(verifies(database, secret))

    assert main(["apikey", "add", "fixmystreet"]) == 2
    assert "already a key named fixmystreet" in capsys.readouterr().err
    assert main(["apikey", "add", "bad name!"]) == 2
    assert main(["apikey", "add", "door", "--purpose", "nonsense"]) == 2
    assert "Unknown purpose nonsense" in capsys.readouterr().err

    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert "fixmystreet" in listing and secret[:6] in listing and secret not in listing

    assert main(["apikey", "revoke", "fixmystreet"]) == 0
    assert not asyncio.run(verifies(database, secret))
    assert main(["apikey", "revoke", "nobody"]) == 2
    assert main(["apikey", "list"]) == 0
    assert "2026-11-25T09:00:00+00:00" in capsys.readouterr().out  # revoked when
