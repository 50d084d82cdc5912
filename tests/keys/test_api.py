"""The lock API over HTTP: POST /keys/verify with and without the lock's own API key (open,
refused with the reason, another lock's key, a key of another purpose) and POST /keys/events,
whose openings appear in the booking's history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.apikeys import keys
from services.city import City
from services.clock import FrozenClock
from services.keys import changes
from storage.db import Database
from tests.keys.conftest import book
from tests.keys.lock_sim import SimulatedLock
from tests.support.chat import Transcript

PUBLIC_URL = "https://ahaus.example"


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


async def lock_key(db: Database, clock: FrozenClock, name: str, purpose: str = "locks") -> str:
    async with db.uow() as uow:
        _key, secret = await keys.add(uow, name, purpose, clock.now())
        await uow.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_verify_needs_the_locks_own_key(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int], clock: FrozenClock
) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    token = booking.token or ""
    box1 = await lock_key(chat.db, clock, booking.lock_id)
    box2 = await lock_key(chat.db, clock, "fahrradbox-bahnhof-02")
    stranger = await lock_key(chat.db, clock, "fixmystreet", "open311")
    nowhere = await lock_key(chat.db, clock, "garage-7")

    missing = await web.post("/keys/verify", json={"token": token})
    assert missing.status_code == 401 and missing.json() == {
        "open": False,
        "reason": "unauthorized",
    }
    other_purpose = await web.post("/keys/verify", json={"token": token}, headers=bearer(stranger))
    assert other_purpose.status_code == 401
    unknown_lock = await web.post("/keys/verify", json={"token": token}, headers=bearer(nowhere))
    assert unknown_lock.status_code == 403 and unknown_lock.json()["reason"] == "unknown_lock"

    opened = await web.post("/keys/verify", json={"token": token}, headers=bearer(box1))
    assert opened.status_code == 200
    assert opened.json() == {"open": True, "reason": "ok", "booking": booking.id}
    by_header = await web.post("/keys/verify", json={"token": token}, headers={"X-Api-Key": box1})
    assert by_header.json()["open"] is True
    wrong = await web.post("/keys/verify", json={"token": token}, headers=bearer(box2))
    assert wrong.json() == {"open": False, "reason": "wrong_lock", "booking": booking.id}
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    bad = await web.post("/keys/verify", json={"token": tampered}, headers=bearer(box1))
    assert bad.json()["open"] is False and bad.json()["reason"] in ("signature", "malformed")
    garbage = await web.post("/keys/verify", content=b"{", headers=bearer(box1))
    assert garbage.status_code == 400 and garbage.json()["reason"] == "malformed"

    clock.advance(timedelta(days=2))
    expired = await web.post("/keys/verify", json={"token": token}, headers=bearer(box1))
    assert expired.json()["reason"] == "expired"


async def test_revoked_keys_are_refused_online(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int], clock: FrozenClock
) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    secret = await lock_key(chat.db, clock, booking.lock_id)
    async with chat.db.uow() as uow:
        await changes.cancel(
            uow, chat.env, citizen_id=people["anna"], booking_id=booking.id or 0, now=clock.now()
        )
        await uow.commit()
    answer = await web.post("/keys/verify", json={"token": booking.token}, headers=bearer(secret))
    assert answer.json()["open"] is False and answer.json()["reason"] == "revoked"


async def test_events_from_the_lock_appear_in_the_history(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int], clock: FrozenClock
) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    secret = await lock_key(chat.db, clock, booking.lock_id)
    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(chat.db, clock.now())
    assert lock.present(booking.token or "", clock.now() + timedelta(minutes=5)).open
    log = lock.take_log()

    refused = await web.post("/keys/events", json={"events": log})
    assert refused.status_code == 401
    sent = await web.post("/keys/events", json={"events": log}, headers=bearer(secret))
    assert sent.status_code == 200 and sent.json() == {"stored": 1, "duplicates": 0}
    again = await web.post("/keys/events", json=log[0], headers=bearer(secret))
    assert again.json() == {"stored": 0, "duplicates": 1}

    other = await lock_key(chat.db, clock, "fahrradbox-bahnhof-05")
    foreign = await web.post("/keys/events", json=log[0], headers=bearer(other))
    assert foreign.status_code == 400 and "not a booking of lock" in foreign.json()["error"]
    for bad in (
        {"booking": booking.id, "event": "exploded", "at": "2026-11-25T09:00:00Z"},
        {"booking": booking.id, "event": "opened", "at": "yesterday"},
        {"booking": booking.id, "event": "opened", "at": "2026-11-25T09:00:00"},
        {"booking": "1", "event": "opened", "at": "2026-11-25T09:00:00Z"},
    ):
        answer = await web.post("/keys/events", json=bad, headers=bearer(secret))
        assert answer.status_code == 400, bad

    await chat.send("anna", "/keys")
    await chat.press("anna", "Meine Buchungen")
    details = await chat.press("anna", "1. Schlüssel")
    assert details.count("am Schloss geöffnet") == 1


async def test_a_lock_downloads_what_the_town_publishes(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int], clock: FrozenClock
) -> None:
    """The offline lock works from the published documents alone, and sees a cancellation
    once it downloads the revocation list again."""
    booking = await book(chat.db, chat.env, people["anna"])
    lock = SimulatedLock(booking.lock_id)
    await lock.download(web)
    assert lock.present(booking.token or "", clock.now()).open
    async with chat.db.uow() as uow:
        await changes.cancel(
            uow, chat.env, citizen_id=people["anna"], booking_id=booking.id or 0, now=clock.now()
        )
        await uow.commit()
    await lock.download(web)
    assert lock.present(booking.token or "", clock.now()).reason == "revoked"
