"""`stadtlotse run`: every configured channel, the web app, the outbox sender, extensions."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import uvicorn

from bot import extensions, roles
from bot.bootstrap import App, build_app
from bot.commands.chat import converse
from bot.sender.delivery import Delivery
from bot.web import create_web_app
from storage.migrate import upgrade

log = logging.getLogger(__name__)
SEND_INTERVAL = 1.0


async def run(args: argparse.Namespace) -> int:
    problem = args.settings.payment_problem()
    if problem:
        print(f"stadtlotse: {problem}", file=sys.stderr)
        return 2
    app = build_app(args.settings)
    if args.settings.now is not None:
        log.warning(
            "the clock is frozen at %s (STADTLOTSE_NOW): every date and deadline uses this "
            "moment; unset it outside demos and acceptance checks",
            args.settings.now.isoformat(),
        )
    await upgrade(app.db)
    previous = signal.getsignal(signal.SIGTERM)
    stopping = _stop_on_sigterm()
    try:
        await serve(app)
    except asyncio.CancelledError:
        if not stopping.is_set():
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        await app.close()
        log.info("stopped")
    return 0


def _stop_on_sigterm() -> asyncio.Event:
    """SIGTERM (docker stop, systemctl stop) shuts down in order, as Ctrl-C does: the sender
    hands back what it claimed, the Matrix client closes, the role locks are released. (uvicorn
    holds the signal while the web app runs and raises it again once the web app stopped.)"""
    main, loop, stopping = asyncio.current_task(), asyncio.get_running_loop(), asyncio.Event()

    def terminate(signum: int, frame: object) -> None:
        stopping.set()
        if main is not None:
            loop.call_soon_threadsafe(main.cancel)

    signal.signal(signal.SIGTERM, terminate)
    return stopping


async def serve(app: App) -> None:
    settings = app.settings
    web = create_web_app(app)
    server = uvicorn.Server(
        uvicorn.Config(
            web,
            host=settings.web_host,
            port=settings.web_port,
            log_level="warning",
            log_config=None,  # uvicorn's lines go through our handler (text or JSON)
            lifespan="off",
        )
    )
    app.spawn(server.serve(), "web")
    for module in extensions.modules():
        task = getattr(module, "run", None)
        if task is not None:
            app.spawn(task(app), f"extension:{module.__name__}")
    for channel in app.channels.values():
        if getattr(channel, "role", None) is None:  # a role's channel starts with its role
            await channel.start()
    log.info(
        "Stadtlotse for %s: web app on http://%s:%s, channels: %s",
        app.city.name,
        settings.web_host,
        settings.web_port,
        ", ".join(app.channels) or "console",
    )
    if not settings.chat_channels:
        if sys.stdin is not None and sys.stdin.isatty():
            if settings.log_level != "DEBUG":  # the terminal is the chat: only problems go there
                logging.getLogger().setLevel(logging.WARNING)
            await converse(app, "console-user")
            server.should_exit = True
            return
        log.warning(
            "no chat channel is configured and there is no terminal for the console: serving "
            "the web app and the jobs only (STADTLOTSE_TELEGRAM_TOKEN or "
            "STADTLOTSE_MATRIX_HOMESERVER enable a chat channel)"
        )
    else:
        app.spawn(roles.hold(app, roles.SENDER, lambda: sender_role(app)), "role:sender")
    await app.failed


async def sender_role(app: App) -> None:
    """The holder of the sender role delivers notifications; channels whose connection is a role
    of its own (Matrix: the bot's encryption keys live in one process) run here too, each under
    its own lock, so that the replica that sends is the one that holds their keys."""
    work = [send_loop(app)]
    for channel in app.channels.values():
        role = getattr(channel, "role", None)
        if role is not None:
            work.append(roles.hold(app, role, channel.serve))  # type: ignore[attr-defined]
    await asyncio.gather(*work)


async def send_loop(app: App) -> None:
    """The rate-limited outbox sender (bot/sender/delivery.py); restarted if it fails."""
    while True:
        try:
            await Delivery(app.sender).run()
        except Exception:
            log.exception("outbox sender failed; starting it again")
        await asyncio.sleep(SEND_INTERVAL)
