"""A running Stadtlotse Telegram channel (polling or webhook) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from bot.bootstrap import App, build_app
from bot.sender.delivery import Delivery
from bot.settings import load_settings
from bot.telegram import TelegramChannel
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from storage.db import Database
from tests.support.fake_telegram import FakeTelegram

# PTB 22.2+ warns when RetryAfter.retry_after is read as an int.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

ANNA = 4711
BERND = 4712
GROUP = -1001234


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bot:
    """Stadtlotse on Telegram as `stadtlotse run` wires it: start, stop, restart."""

    def __init__(
        self, fake: FakeTelegram, db: Database, city: City, clock: FrozenClock, *, webhook: bool
    ) -> None:
        self.fake = fake
        self.db = db
        self.city = city
        self.clock = clock
        self.webhook = webhook
        self.port = free_port()
        self.app: App | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._server: uvicorn.Server | None = None

    @property
    def channel(self) -> TelegramChannel:
        assert self.app is not None
        channel = self.app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        return channel

    def settings(self, **extra: Any) -> Any:
        values: dict[str, Any] = {
            "telegram_token": self.fake.token,
            "telegram_api_url": self.fake.base_url.removesuffix("/bot"),
            "web_port": self.port,
            "database_url": str(self.db.url),
        }
        if self.webhook:
            values["telegram_webhook_url"] = f"http://127.0.0.1:{self.port}"
            values["telegram_webhook_secret"] = "geheim_123"
        return load_settings(**(values | extra))

    async def start(self) -> None:
        self.app = build_app(self.settings(), db=self.db, city=self.city, clock=self.clock)
        if self.webhook:
            web = create_web_app(self.app)
            self._server = uvicorn.Server(
                uvicorn.Config(web, host="127.0.0.1", port=self.port, log_level="warning")
            )
            self._tasks.append(asyncio.create_task(self._server.serve()))
            while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await asyncio.sleep(0.01)
        await self.channel.start()
        if not self.webhook:
            self._tasks.append(asyncio.create_task(self.channel.poll()))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True  # uvicorn finishes open requests, then ends
        else:
            for task in self._tasks:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._server = [], None
        if self.app is not None:
            await self.channel.stop()
            self.app = None

    async def restart(self) -> None:
        """A new process on the same database: nothing carried over in memory."""
        await self.stop()
        await self.start()

    async def outbox(self, **options: Any) -> Any:
        """Run the sender until nothing is due (as `stadtlotse run` would, once)."""
        assert self.app is not None
        options.setdefault("until_idle", True)
        options.setdefault("poll_interval", 0.0)
        return await Delivery(self.app.sender, **options).run()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest,
    fake: FakeTelegram,
    db: Database,
    city: City,
    clock: FrozenClock,
) -> AsyncIterator[Bot]:
    running = Bot(fake, db, city, clock, webhook=request.param == "webhook")
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def polling_bot(
    fake: FakeTelegram, db: Database, city: City, clock: FrozenClock
) -> AsyncIterator[Bot]:
    running = Bot(fake, db, city, clock, webhook=False)
    await running.start()
    yield running
    await running.stop()
