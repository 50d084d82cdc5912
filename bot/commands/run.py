"""`stadtlotse run`: every configured channel, the web app, the outbox sender, extensions."""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvicorn

from bot import extensions
from bot.bootstrap import App, build_app
from bot.commands.chat import converse
from bot.sender.delivery import Delivery
from bot.web import create_web_app
from storage.migrate import upgrade

log = logging.getLogger(__name__)
SEND_INTERVAL = 1.0


async def run(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    await upgrade(app.db)
    try:
        await serve(app)
    finally:
        await app.close()
    return 0


async def serve(app: App) -> None:
    settings = app.settings
    web = create_web_app(app)
    server = uvicorn.Server(
        uvicorn.Config(
            web, host=settings.web_host, port=settings.web_port, log_level="warning", lifespan="off"
        )
    )
    app.spawn(server.serve(), "web")
    for module in extensions.modules():
        task = getattr(module, "run", None)
        if task is not None:
            app.spawn(task(app), f"extension:{module.__name__}")
    for channel in app.channels.values():
        await channel.start()
    log.info(
        "Stadtlotse for %s: web app on http://%s:%s, channels: %s",
        app.city.name,
        settings.web_host,
        settings.web_port,
        ", ".join(app.channels) or "console",
    )
    if not settings.chat_channels:
        if settings.log_level != "DEBUG":  # the terminal is the chat now: only problems go there
            logging.getLogger().setLevel(logging.WARNING)
        await converse(app, "console-user")
        server.should_exit = True
        return
    if "outbox" not in {t.get_name() for t in app.tasks}:
        app.spawn(send_loop(app), "outbox")
    await asyncio.Event().wait()


async def send_loop(app: App) -> None:
    """The rate-limited outbox sender (bot/sender/delivery.py); restarted if it fails."""
    while True:
        try:
            await Delivery(app.sender).run()
        except Exception:
            log.exception("outbox sender failed; starting it again")
        await asyncio.sleep(SEND_INTERVAL)
