"""The Telegram channel: python-telegram-bot as a plain client (our own conversation state).

Inbound: long polling (`poll`) or webhook updates (`process_json`) become Inbound values for the
dispatcher; its replies go out at once (direct answers do not queue behind notifications).
Outbound: `deliver` sends one notification for the outbox sender and maps Telegram's errors to
the channel errors of bot/channel.py.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from telegram import Bot, BotCommand, InputFile, Message, ReplyParameters, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.error import RetryAfter as TelegramRetryAfter
from telegram.warnings import PTBUserWarning

from bot.channel import Rejected, RetryAfter, TransientError, Unreachable
from bot.sender.ratelimit import Limits, Monotonic, RateLimiter
from bot.telegram.inbound import NAME, Mapped, map_update
from bot.telegram.render import Part, plan
from bot.telegram.request import AiohttpRequest
from flows.registry import REGISTRY
from flows.types import Button, Inbound, Reply
from services import i18n
from services.i18n import N_
from services.numbers import parse_int

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT = 25  # seconds a getUpdates call waits for news
FAILING_AFTER = 3  # getUpdates failed in a row before /readyz reports the channel down
DIRECT_RETRIES = 3  # a direct answer hit by 429 is tried again this often
MAX_DIRECT_WAIT = 30.0
PROBLEMS = {
    "too_large": N_("This file is too large for me. Please send photos or PDF files up to 10 MB."),
    "download_failed": N_("I could not receive this file. Please try sending it again."),
    "forged": N_("This button is not valid here."),
}
Handler = Callable[[Inbound], Awaitable[list[Reply]]]

# _send_text calls sendMessage through do_api_request on purpose (see there): not a mistake
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


def retry_seconds(error: TelegramRetryAfter) -> float:
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class MalformedUpdate(ValueError):
    """A webhook body with the right secret that is no Telegram update."""


def webhook_path(token: str, secret: str) -> str:
    """The secret part of the webhook URL: derived, so neither token nor secret shows in logs."""
    digest = hashlib.sha256(f"{token}:{secret}".encode()).hexdigest()[:32]
    return f"/telegram/{digest}"


def is_group(chat_id: str) -> bool:
    return chat_id.startswith("-")


class TelegramChannel:
    name = NAME

    def __init__(
        self,
        token: str,
        handle: Handler,
        *,
        api_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        limits: Limits | None = None,
        clock: Monotonic = time.monotonic,
        default_language: str = "de",
        # 8 connections carry ~80 messages/s at Telegram's ~100 ms, above its 30/s for a bot;
        connection_pool_size: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        base = (api_url or "https://api.telegram.org").rstrip("/")
        if base.endswith("/bot"):
            base = base[: -len("/bot")]
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=AiohttpRequest(connection_pool_size),
            get_updates_request=AiohttpRequest(2),
        )
        self.handle = handle
        self.token = token
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or ""
        self.limiter = RateLimiter(limits or Limits(), clock)
        self.default_language = default_language
        self.sleep = sleep
        self.started = False
        self.poll_failures = 0
        self._starting = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        async with self._starting:
            if not self.started:
                await self._start()

    async def _start(self) -> None:
        try:
            await self.bot.initialize()
        except InvalidToken as error:
            raise RuntimeError(
                "Setting STADTLOTSE_TELEGRAM_TOKEN is invalid: Telegram refused it"
            ) from error
        self.started = True
        await self._set_commands()
        if self.webhook_url:
            await self.bot.set_webhook(
                self.full_webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram webhook set for @%s", self.bot.username)
        else:
            await self.bot.delete_webhook()
            log.info("Telegram long polling for @%s", self.bot.username)

    def not_ready(self) -> str:
        """Why this channel cannot serve now ("" when it can): for GET /readyz."""
        if not self.started:
            return "not connected to the Bot API yet"
        if self.poll_failures >= FAILING_AFTER:
            return f"getUpdates failed {self.poll_failures} times in a row"
        return ""

    async def stop(self) -> None:
        if self.started:
            self.started = False
            await self.bot.shutdown()

    @property
    def full_webhook_url(self) -> str:
        path = webhook_path(self.token, self.webhook_secret)
        base = (self.webhook_url or "").rstrip("/")
        return base if base.endswith(path) else base + path

    @property
    def username(self) -> str:
        return self.bot.username if self.started else ""

    def deep_link(self, payload: str) -> str:
        """https://t.me/<bot>?start=<payload>: opens the bot and runs /start <payload>; "" while
        the bot's name is not known yet (before start)."""
        if not self.username:
            return ""
        base = f"https://t.me/{self.username}"
        return f"{base}?start={payload}" if payload else base

    async def _set_commands(self) -> None:
        lines = [(c, d) for c, d in REGISTRY.help_lines() if re.fullmatch(r"[a-z0-9_]{1,32}", c)]
        try:
            for lang, code in ((self.default_language, None), ("en", "en"), ("de", "de")):
                commands = [BotCommand(c, i18n.gettext(lang, d)[:256]) for c, d in lines[:100]]
                if commands:
                    await self.bot.set_my_commands(commands, language_code=code)
        except TelegramError as error:
            log.warning("could not set the command list: %s", error)

    # ------------------------------------------------------------------ inbound
    async def poll(self) -> None:
        """Long polling until cancelled. Each batch is processed before it is confirmed, so a
        crash re-delivers it (the dispatcher drops updates it has already handled)."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                failures = self.poll_failures = 0
            except TelegramRetryAfter as error:
                await self.sleep(retry_seconds(error))
                continue
            except (NetworkError, TelegramError) as error:
                failures += 1
                self.poll_failures = failures
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("getUpdates failed (%s); again in %.1f s", error, delay)
                await self.sleep(delay)
                continue
            if updates:
                await self.process_batch(list(updates))
                offset = updates[-1].update_id + 1

    async def process_batch(self, updates: list[Update]) -> None:
        """Chats in parallel, each chat's updates in order."""
        by_chat: dict[int, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat is not None else 0, []).append(update)

        async def in_order(batch: list[Update]) -> None:
            for update in batch:
                await self.process(update)

        await asyncio.gather(*(in_order(batch) for batch in by_chat.values()))

    async def process_json(self, data: dict[str, Any]) -> None:
        """One webhook update; raises MalformedUpdate for one Telegram would never send."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception as error:  # PTB raises whatever the parts' constructors raise
            raise MalformedUpdate(f"{type(error).__name__}: {error}"[:200]) from None
        await self.process(update)

    async def process(self, update: Update) -> None:
        try:
            mapped = await map_update(update, self.bot)
            answer = (
                asyncio.create_task(self._answer_query(mapped.callback_query_id))
                if mapped.callback_query_id
                else None
            )
            replies = await self._replies(mapped, update)
            if mapped.inbound is not None or replies:
                chat = update.effective_chat
                assert chat is not None
                await self.answer(str(chat.id), replies, mapped)
            if answer is not None:
                await answer
        except Exception:
            log.exception("could not process Telegram update %s", update.update_id)

    async def _replies(self, mapped: Mapped, update: Update) -> list[Reply]:
        if mapped.problem:
            user = update.effective_user
            lang = i18n.normalise_language(user.language_code if user else None)
            return [Reply(text=i18n.translate(lang, PROBLEMS[mapped.problem]))]
        if mapped.inbound is None:
            return []
        return await self.handle(mapped.inbound)

    async def _answer_query(self, query_id: str) -> None:
        """Always answer a button press, so the client stops its spinner."""
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)

    async def answer(self, chat_id: str, replies: list[Reply], mapped: Mapped) -> None:
        """Send direct answers now. The first reply may replace the pressed menu in place."""
        inbound = mapped.inbound
        group = is_group(chat_id)
        thread = inbound.thread if inbound is not None and group else ""
        for position, reply in enumerate(replies):
            if group and reply.private:
                reply = await self._to_private_chat(reply, inbound)
                if reply.text and position > 0 and replies[position - 1].private:
                    continue  # one note about the private chat is enough
            edit_id = mapped.message_id if position == 0 and reply.edit else None
            try:
                await self._with_retries(chat_id, reply, thread, edit_id)
            except TelegramError as error:
                log.warning("direct answer to %s failed: %s", chat_id, error)
                return

    async def _to_private_chat(self, reply: Reply, inbound: Inbound | None) -> Reply:
        """Personal data asked for in a group goes to the person's private chat with the bot
        (its id is the user id); the group only reads where it went. Someone who never
        started the bot cannot be written to first: they get the hint with the link."""
        if inbound is None or not inbound.user_id.lstrip("-").isdigit():
            return self._private_hint(inbound, reply.lang)
        try:
            await self._with_retries(inbound.user_id, replace(reply, buttons=[], menu=""), "", None)
        except TelegramError as error:
            log.info("private answer not delivered: %s", type(error).__name__)
            return self._private_hint(inbound, reply.lang)
        lang = i18n.normalise_language(reply.lang or inbound.language_hint)
        return Reply(
            text=i18n.translate(
                lang,
                N_("This answer contains personal data: I sent it to our private chat."),
            )
        )

    def _private_hint(self, inbound: Inbound | None, lang: str = "") -> Reply:
        lang = i18n.normalise_language(lang or (inbound.language_hint if inbound else None))
        return Reply(
            text=i18n.translate(
                lang,
                N_("This answer contains personal data, so I only give it in our private chat."),
            ),
            buttons=[Button(i18n.translate(lang, N_("Open private chat")), url=self.deep_link(""))],
        )

    async def _with_retries(
        self, chat_id: str, reply: Reply, thread: str, edit: int | None
    ) -> None:
        for attempt in range(DIRECT_RETRIES + 1):
            try:
                await self.send(chat_id, reply, thread=thread, edit=edit)
                return
            except TelegramRetryAfter as error:
                seconds = retry_seconds(error)
                if attempt == DIRECT_RETRIES or seconds > MAX_DIRECT_WAIT:
                    raise
                self.limiter.pause(seconds)
                await self.sleep(seconds)

    # ------------------------------------------------------------------ outbound
    def cost(self, reply: Reply) -> int:
        """How many messages a reply takes (long texts are split)."""
        return max(1, len(plan(reply)))

    async def send(
        self, chat_id: str, reply: Reply, *, thread: str = "", edit: int | None = None
    ) -> int | None:
        """Send (or edit into place) one reply; books the messages with the limiter. Returns
        the id of the last message (None when Telegram did not say)."""
        parts = plan(reply)
        last: int | None = None
        for index, part in enumerate(parts):
            if index == 0 and edit is not None and part.media is None:
                edited = await self._edit(chat_id, edit, part)
                if edited is not None:
                    last = edited.message_id
                    continue
            last = await self._send_part(chat_id, part, thread if index == 0 else "")
            self.limiter.take(chat_id, is_group(chat_id))
        return last

    async def _edit(self, chat_id: str, message_id: int, part: Part) -> Message | None:
        try:
            result = await self.bot.edit_message_text(
                part.text, chat_id=int(chat_id), message_id=message_id, reply_markup=part.markup
            )
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return None
            log.info("could not edit message %s in %s: %s", message_id, chat_id, error)
            return None
        return result if isinstance(result, Message) else None

    async def _send_part(self, chat_id: str, part: Part, thread: str) -> int | None:
        target = int(chat_id)
        message_id = parse_int(thread)
        reply_to = (
            ReplyParameters(message_id, allow_sending_without_reply=True)
            if message_id is not None
            else None
        )
        if part.media is None:
            return await self._send_text(target, part, reply_to)
        upload = InputFile(part.media.data, filename=part.media.filename)
        caption = part.text or None
        if part.as_photo:
            sent = await self.bot.send_photo(
                target, upload, caption=caption, reply_markup=part.markup, reply_parameters=reply_to
            )
        else:
            sent = await self.bot.send_document(
                target, upload, caption=caption, reply_markup=part.markup, reply_parameters=reply_to
            )
        return sent.message_id

    async def _send_text(
        self, target: int, part: Part, reply_to: ReplyParameters | None
    ) -> int | None:
        """sendMessage without reading the answer back into a Message object (with its whole
        keyboard): only the message id is needed. Errors are PTB's, as with send_message."""
        parameters: dict[str, Any] = {"chat_id": target, "text": part.text}
        if part.rows:
            parameters["reply_markup"] = part.reply_markup
        if reply_to is not None:
            parameters["reply_parameters"] = reply_to.to_dict()
        result = await self.bot.do_api_request("sendMessage", api_kwargs=parameters)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return message_id if isinstance(message_id, int) else None

    async def deliver(self, chat_id: str, reply: Reply, *, thread: str = "") -> str:
        """One notification for the outbox sender (which has booked it with the limiter)."""
        try:
            message = await self.send_unbooked(chat_id, reply, thread=thread)
        except TelegramRetryAfter as error:
            raise RetryAfter(retry_seconds(error)) from error
        except Forbidden as error:
            raise Unreachable(str(error)) from error
        except ChatMigrated as error:
            log.error(
                "Telegram chat %s became supergroup %s: update the city configuration",
                chat_id,
                error.new_chat_id,
            )
            raise Unreachable(f"chat migrated to {error.new_chat_id}") from error
        except BadRequest as error:
            if "chat not found" in str(error).lower():
                raise Unreachable(str(error)) from error
            raise Rejected(str(error)) from error
        except InvalidToken as error:
            raise TransientError(f"token refused: {error}") from error
        except (NetworkError, TelegramError) as error:
            raise TransientError(str(error) or type(error).__name__) from error
        return str(message) if message is not None else ""

    async def send_unbooked(self, chat_id: str, reply: Reply, *, thread: str = "") -> int | None:
        parts = plan(reply)
        last: int | None = None
        for index, part in enumerate(parts):
            last = await self._send_part(chat_id, part, thread if index == 0 else "")
        return last
