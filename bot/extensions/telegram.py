"""Telegram wiring: the channel when STADTLOTSE_TELEGRAM_TOKEN is set, the webhook route when
STADTLOTSE_TELEGRAM_WEBHOOK_URL is set, otherwise long polling while `stadtlotse run` runs."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from bot import roles
from bot.asgi import ASGIApp, Receive, Scope, Send, client, header, read_body, respond
from bot.sender.ratelimit import Limits
from bot.telegram import TelegramChannel, webhook_path
from bot.telegram.channel import MalformedUpdate

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

SECRET_HEADER = b"x-telegram-bot-api-secret-token"  # ASGI gives header names in lower case


def setup(app: App) -> None:
    settings = app.settings
    if not settings.telegram_token:
        return
    channel = TelegramChannel(
        settings.telegram_token,
        app.dispatcher.handle,
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        limits=Limits(
            global_per_second=settings.telegram_rate_global,
            private_per_second=settings.telegram_rate_private,
            group_per_minute=settings.telegram_rate_group,
        ),
        default_language=app.city.default_language,
    )
    app.channels[channel.name] = channel
    app.env.links.chat_link = channel.deep_link


def _channel(app: App) -> TelegramChannel | None:
    channel = app.channels.get("telegram")
    return channel if isinstance(channel, TelegramChannel) else None


def hot_routes(app: App) -> dict[str, ASGIApp]:
    channel = _channel(app)
    if channel is None or not channel.webhook_url:
        return {}
    return {webhook_path(channel.token, channel.webhook_secret): webhook_route(channel)}


def webhook_route(channel: TelegramChannel) -> ASGIApp:
    """The webhook as a plain ASGI route, served before the web framework (bot/web.py): every
    chat message comes this way, and the framework's middleware and routing would cost more
    per update than the rest of the adapter."""
    secret = channel.webhook_secret.encode()

    async def receive_update(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, allow="POST")
            return
        given = header(scope, SECRET_HEADER)
        if not given or not hmac.compare_digest(given, secret):
            log.warning("Telegram webhook call without the right secret from %s", client(scope))
            await respond(send, 403)
            return
        try:
            update = json.loads(await read_body(receive))
        except ValueError:
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            log.warning("Telegram webhook: the body is no update (not a JSON object with an id)")
            await respond(send, 400)
            return
        try:
            await channel.process_json(update)
        except MalformedUpdate as error:
            log.warning("Telegram webhook: update %s is malformed (%s)", update["update_id"], error)
            await respond(send, 400)
            return
        await respond(send, 200)

    return receive_update


async def run(app: App) -> None:
    channel = _channel(app)
    if channel is None:
        return
    await channel.start()
    if not channel.webhook_url:  # one poller per bot among replicas: a role with its own lock
        bot_id = channel.token.split(":", 1)[0]
        await roles.hold(
            app, roles.TELEGRAM_POLLING, channel.poll, lock=f"{roles.TELEGRAM_POLLING}:{bot_id}"
        )
