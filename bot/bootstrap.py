"""One place that wires the program: settings -> the Env (city, clock, links, payment provider,
notifier), the database, the dispatcher and the channels."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import flows  # noqa: F401  (registers every flow)
from bot import extensions
from bot.channel import Channel
from bot.clock import make_clock
from bot.metrics import Metrics
from bot.sender.outbox import OutboxSender
from bot.settings import Settings
from handlers.dispatch import Dispatcher
from services.city import City, load_city
from services.clock import Clock
from services.env import Env, Links
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    env: Env
    dispatcher: Dispatcher
    channels: dict[str, Channel] = field(default_factory=dict)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    metrics: Metrics = field(default_factory=Metrics)
    # singleton roles (telegram polling, matrix sync, outbox sender, scheduler) -> held here
    roles: dict[str, bool] = field(default_factory=dict)
    _failure: asyncio.Future[None] | None = field(default=None, repr=False)

    @property
    def city(self) -> City:
        return self.env.city

    @property
    def clock(self) -> Clock:
        return self.env.clock

    @property
    def sender(self) -> OutboxSender:
        return OutboxSender(self.db, self.city, self.channels, self.clock)

    @property
    def failed(self) -> asyncio.Future[None]:
        """Done (with the error) when something the program cannot run without failed, such as
        a wrong Matrix password found when a replica takes the Matrix role."""
        if self._failure is None:
            self._failure = asyncio.get_running_loop().create_future()
        return self._failure

    def fail(self, error: BaseException) -> None:
        if not self.failed.done():
            self.failed.set_exception(error)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """A background task we own: kept, logged when it fails, cancelled on shutdown."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)

        def finished(done: asyncio.Task[Any]) -> None:
            self.tasks.discard(done)
            if not done.cancelled() and done.exception() is not None:
                log.error("background task %s failed", name, exc_info=done.exception())

        task.add_done_callback(finished)
        return task

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for channel in self.channels.values():
            await channel.stop()
        await self.db.dispose()


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    city: City | None = None,
) -> App:
    env = Env(
        city=city or load_city(settings.city_config),
        clock=clock or make_clock(settings.now),
        links=Links(public_url=settings.public_url),
    )
    db = db or Database(settings.database_url)
    app = App(settings, db, env, Dispatcher(db, env))
    db.observer = app.metrics
    for module in extensions.modules():
        setup = getattr(module, "setup", None)
        if setup is not None:
            result = setup(app)
            if inspect.isawaitable(result):
                raise TypeError(f"{module.__name__}.setup must not be async")
    return app
