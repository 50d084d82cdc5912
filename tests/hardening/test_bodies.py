"""Item 2: request bodies over the limit are refused with 413 before they are read, on every
route; validly signed but malformed Stripe events and Telegram updates with the right secret
are a 400 and one log line, never a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from storage.db import Database
from tests.wallet.conftest import PUBLIC_URL
from tests.wallet.test_stripe import post_event

LIMIT = 4096
SECRET = "geheim_123"


def limited_app(db: Database, city: City, clock: FrozenClock, **values: object) -> App:
    settings = Settings(
        public_url=PUBLIC_URL,
        max_body_bytes=LIMIT,
        _env_file=None,
        **values,  # type: ignore[call-arg]
    )
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def small_web(
    db: Database, city: City, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    built = limited_app(
        db,
        city,
        clock,
        telegram_token="123456:TEST",
        telegram_api_url="http://127.0.0.1:9",  # never called: nothing here is a real update
        telegram_webhook_url=PUBLIC_URL,
        telegram_webhook_secret=SECRET,
    )
    transport = httpx.ASGITransport(app=create_web_app(built), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        client.app = built  # type: ignore[attr-defined]
        yield client


def telegram_path(client: httpx.AsyncClient) -> str:
    channel = client.app.channels["telegram"]  # type: ignore[attr-defined]
    return channel.full_webhook_url.removeprefix(PUBLIC_URL)


async def test_declared_large_bodies_are_refused_unread(small_web: httpx.AsyncClient) -> None:
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(100):
            read += 1
            yield b"x" * 1024

    for path in (
        "/webhooks/stripe",
        "/pay/demo/1-AAAAAAAAAAAA",
        telegram_path(small_web),
        "/open311/v2/requests.json",
        "/healthz",
    ):
        read = 0
        response = await small_web.post(
            path, content=body(), headers={"Content-Length": str(100 * 1024)}
        )
        assert response.status_code == 413, path
        assert read == 0, path  # not one chunk was taken


async def test_streamed_bodies_are_cut_off_at_the_limit(small_web: httpx.AsyncClient) -> None:
    read = 0

    async def chunked() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(1000):
            read += 1
            yield b"x" * 1024

    for path in ("/webhooks/stripe", "/pay/demo/1-AAAAAAAAAAAA", telegram_path(small_web)):
        read = 0
        response = await small_web.post(path, content=chunked())  # no Content-Length
        assert response.status_code in (413, 403, 404), path
        assert read <= LIMIT // 1024 + 2, (path, read)
    read = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await small_web.post(telegram_path(small_web), content=chunked(), headers=headers)
    assert response.status_code == 413 and read <= LIMIT // 1024 + 2


async def test_small_bodies_still_pass(small_web: httpx.AsyncClient) -> None:
    assert (await small_web.get("/healthz")).status_code == 200
    response = await small_web.post("/pay/demo/1-AAAAAAAAAAAA", data={"action": "pay"})
    assert response.status_code == 404  # the route ran: no such payment


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "message": "x"},
        {"update_id": 2, "callback_query": [1, 2]},
        {"update_id": 3, "message": {"chat": "x", "date": "y"}},
        [1, 2, 3],
        "x",
        {"update_id": "1"},
    ],
)
async def test_malformed_telegram_updates_are_a_bad_request(
    small_web: httpx.AsyncClient, update: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await small_web.post(
        telegram_path(small_web),
        content=json.dumps(update),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 400
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [
        b"[1,2,3]",
        b'"event"',
        b"{}",
        b"not json",
        b"\xff\xfe",
        json.dumps(
            {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_x"}}
        ).encode(),
        json.dumps({"id": "evt_2", "type": "checkout.session.completed", "data": "x"}).encode(),
        json.dumps({"id": 5, "type": [], "data": {"object": {}}}).encode(),
    ],
)
async def test_signed_malformed_stripe_events_are_a_bad_request(
    web: httpx.AsyncClient,
    body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    signature = "sign"
    if body == b"\xff\xfe":
        signature = "t=1,v1=00"  # cannot be signed as text; must still be a 400
    response = await post_event(web, body, signature)
    assert response.status_code == 400
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, lines
    assert not any(r.exc_info for r in caplog.records)
