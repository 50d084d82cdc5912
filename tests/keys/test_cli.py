"""`stadtlotse key verify TOKEN --lock LOCK [--at TIME]`: exit 0 to open, 1 not, and the reason
on standard output — from the database, or, as an offline lock, from the published key set and
revocation list in files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from services.city import load_city
from services.clock import FrozenClock
from services.env import Env
from services.keys import booking as svc
from services.keys import changes, records
from services.trust import tokens
from storage.db import Database
from tests.conftest import START
from tests.keys.conftest import BOXES, slot_start


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STADTLOTSE_DATABASE_URL", url)
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-11-25T10:00:00+01:00")
    return url


async def booked_key(url: str) -> tuple[str, str, int]:
    db = Database(url)
    env = Env(load_city(), FrozenClock(START))
    from services.identity import accounts as identity

    try:
        async with db.uow() as uow:
            citizen, _ = await identity.contact(
                uow, channel="console", external_id="anna", chat_id="anna", now=START
            )
            result = await svc.book(
                uow,
                env,
                citizen_id=citizen.id or 0,
                facility_key=BOXES,
                starts_at=slot_start(env, BOXES),
                now=START,
            )
            await uow.commit()
            return result.booking.token or "", result.booking.lock_id, result.booking.id or 0
    finally:
        await db.dispose()


async def cancel(url: str, booking_id: int) -> None:
    db = Database(url)
    env = Env(load_city(), FrozenClock(START))
    try:
        async with db.uow() as uow:
            booking = await records.get_booking(uow, booking_id)
            await changes.cancel(
                uow, env, citizen_id=booking.citizen_id, booking_id=booking_id, now=START
            )
            await uow.commit()
    finally:
        await db.dispose()


async def published(url: str, folder: Path) -> tuple[Path, Path]:
    db = Database(url)
    try:
        async with db.uow() as uow:
            keys = (await tokens.keyset(uow)).to_json()
            revoked = await tokens.revocation_list(uow, START)
    finally:
        await db.dispose()
    keys_file, revoked_file = folder / "keys.json", folder / "revoked.json"
    keys_file.write_text(json.dumps(keys))
    revoked_file.write_text(json.dumps(revoked))
    return keys_file, revoked_file


def test_exit_codes_and_reasons(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    token, lock, booking_id = asyncio.run(booked_key(database))
    capsys.readouterr()
    assert main(["key", "verify", token, "--lock", lock]) == 0
    assert capsys.readouterr().out.strip() == f"open: ok (booking {booking_id})"
    assert main(["key", "verify", token, "--lock", "fahrradbox-bahnhof-02"]) == 1
    assert "do not open: wrong_lock" in capsys.readouterr().out
    assert main(["key", "verify", token, "--lock", lock, "--at", "2026-11-27T10:00Z"]) == 1
    assert "do not open: expired" in capsys.readouterr().out
    assert main(["key", "verify", token, "--lock", lock, "--at", "2026-11-24T23:30+01:00"]) == 1
    assert "do not open: not_yet_valid" in capsys.readouterr().out
    assert main(["key", "verify", token[:-4] + "AAAA", "--lock", lock]) == 1
    assert "do not open: signature" in capsys.readouterr().out
    assert main(["key", "verify", "nonsense", "--lock", lock]) == 1
    assert "do not open: malformed" in capsys.readouterr().out
    assert main(["key", "verify", token, "--lock", lock, "--at", "2026-11-25T10:00"]) == 2

    keys_file, revoked_file = asyncio.run(published(database, tmp_path))
    offline = ["--keys", str(keys_file), "--revoked", str(revoked_file)]
    assert main(["key", "verify", token, "--lock", lock, *offline]) == 0
    asyncio.run(cancel(database, booking_id))
    assert main(["key", "verify", token, "--lock", lock, *offline]) == 0  # the old list
    assert main(["key", "verify", token, "--lock", lock]) == 1
    assert "do not open: revoked" in capsys.readouterr().out.splitlines()[-1]
    keys_file, revoked_file = asyncio.run(published(database, tmp_path))
    assert main(["key", "verify", token, "--lock", lock, *offline]) == 1
    assert "do not open: revoked" in capsys.readouterr().out.splitlines()[-1]
