"""A fake Telegram Bot API server for tests.

It speaks enough of the Bot API for python-telegram-bot (PTB) to run against it, checks
requests the way Telegram does (lengths, parse modes, inline keyboards, rate limits) and
records everything the bot did. Tests play the residents through `send_text`,
`press_button`, `send_photo`, ... which queue updates for `getUpdates` or, after
`setWebhook`, POST them to the webhook.

    async with FakeTelegram() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
        await fake.send_text(42, "/start")
        ...  # run the bot
        [reply] = await fake.wait_for_sent(1)

Rate limits use an injectable monotonic clock (see `ManualClock`), so tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Fault = int | Literal["disconnect", "timeout"]

SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}
_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "tg-emoji", "span", "blockquote"}
)  # fmt: skip
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_MDV2_RESERVED = frozenset("#+-={}.!()")
_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)  # fmt: skip
# Update types Telegram only sends when asked for them in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Form-encoded requests (what PTB sends) carry every value as a string: decode these.
_JSON_PARAMS = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
     "link_preview_options", "reply_parameters"}
)  # fmt: skip
_INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections",
     "reply_to_message_id", "message_thread_id"}
)  # fmt: skip
_BOOL_PARAMS = frozenset(
    {"drop_pending_updates", "show_alert", "disable_notification", "protect_content",
     "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
     "disable_content_type_detection"}
)  # fmt: skip


# --------------------------------------------------------------------------- records


@dataclass
class Record:
    """One request the bot made. Uploaded files appear as {"filename", "size", "content_type"}."""

    method: str
    params: JSON
    at: float  # the fake's clock
    status: int = 0  # HTTP status answered; 0 when the connection was dropped


@dataclass(frozen=True)
class MessageVersion:
    """An earlier state of an edited message."""

    text: str
    reply_markup: JSON | None
    parse_mode: str | None


@dataclass
class SentMessage:
    """A message the bot delivered; edits update it in place and keep the old versions."""

    message_id: int
    chat_id: int
    kind: Literal["text", "photo", "document"]
    text: str  # message text, or the caption of a photo/document ("" if none)
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    data: bytes | None = None  # uploaded photo/document bytes (None when sent by URL)
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    reply_to: int | None = None
    date: int = 0
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)  # oldest first
    deleted: bool = False

    @property
    def document(self) -> bytes | None:
        return self.data if self.kind == "document" else None

    @property
    def buttons(self) -> list[JSON]:
        """The inline keyboard's buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass
class ButtonPress:
    """A callback query a resident caused, and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass
class PushResult:
    update: JSON
    status: int | None  # webhook HTTP status (0: unreachable); None if queued for getUpdates

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def callback_query_id(self) -> str | None:
        query = self.update.get("callback_query")
        return str(query["id"]) if query else None


@dataclass
class RateLimits:
    """Telegram's documented limits, as token buckets. Change them on `fake.limits`."""

    enabled: bool = True
    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    filename: str
    mime_type: str
    data: bytes


class ManualClock:
    """A monotonic clock for `FakeTelegram(clock=...)` that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --------------------------------------------------------------------------- validation


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _entities_error(detail: str) -> _ApiError:
    return _bad(f"can't parse entities: {detail}")


def _check_html(text: str) -> None:
    stack: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        offset = len(text[:start].encode())
        match = _HTML_TAG.match(text, start)
        if match is None:
            raise _entities_error(f"Unsupported start tag at byte offset {offset}")
        closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3) or ""
        if name not in _HTML_TAGS or (name == "span" and not closing and "tg-spoiler" not in attrs):
            raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        if not closing:
            stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
        else:
            raise _entities_error(f'Unexpected end tag "{name}" at byte offset {offset}')
        pos = match.end()
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(needle, i):
            return i
        else:
            i += 1
    return -1


def _check_markdown_v2(text: str) -> None:
    """The commonest MarkdownV2 mistake: reserved characters left unescaped."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "`" or text.startswith("](", i):
            opener = "```" if text.startswith("```", i) else "`" if char == "`" else "]("
            closer = ")" if opener == "](" else opener
            end = _find_unescaped(text, closer, i + len(opener))
            if end == -1:
                raise _entities_error(f"Can't find end of the entity starting at byte offset {i}")
            i = end + len(closer)
            continue
        at_line_start = i == 0 or text[i - 1] == "\n"
        if char in _MDV2_RESERVED or (char == ">" and not at_line_start):
            raise _entities_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        i += 1


def _visible_length(text: str, parse_mode: str | None) -> int:
    if parse_mode == "HTML":
        return len(html.unescape(re.sub(r"<[^<>]*>", "", text)).strip())
    return len(text.strip())


def _check_formatted(
    text: Any, parse_mode: Any, *, limit: int, what: Literal["text", "caption"]
) -> tuple[str, str | None]:
    """Validates message text or a caption; returns it with the normalised parse mode."""
    text = "" if text is None else str(text)
    mode: str | None = None
    if parse_mode not in (None, ""):
        mode = _PARSE_MODES.get(str(parse_mode).lower())
        if mode is None:
            raise _bad("unsupported parse_mode")
        if mode == "HTML":
            _check_html(text)
        elif mode == "MarkdownV2":
            _check_markdown_v2(text)
    length = _visible_length(text, mode)
    if what == "text" and length == 0:
        raise _bad("message text is empty")
    if length > limit:
        raise _bad("message is too long" if what == "text" else "message caption is too long")
    return text, mode


def _check_reply_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:  # reply keyboards, remove_keyboard, force_reply: passed through
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('can\'t parse inline keyboard button: Field "inline_keyboard" must be an Array')
    buttons = [button for row in rows for button in row]
    if len(buttons) > 100:
        raise _bad("reply markup is too long")
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        actions = [key for key in _BUTTON_ACTIONS if key in button]
        if not actions:
            raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the "
                       "inline keyboard")  # fmt: skip
        if len(actions) > 1:
            raise _bad("can't parse inline keyboard button: Exactly one of the optional fields "
                       "must be used")  # fmt: skip
        data = button.get("callback_data")
        if "callback_data" in button and not (
            isinstance(data, str) and 1 <= len(data.encode()) <= 64
        ):
            raise _bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if "url" in button and not (
            isinstance(url, str) and re.fullmatch(r"(https?|tg)://[^\s/]+\S*", url)
        ):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return markup


def _decode(params: JSON) -> JSON:
    decoded: JSON = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise _bad(f"can't parse {key} JSON object") from None
            elif key in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
                value = value.lower() in ("true", "1")
        decoded[key] = value
    return decoded


def _int(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise _bad(f"{name} is empty")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"invalid {name} specified")
    return value


def _chat_id(params: JSON) -> int:
    if params.get("chat_id") in (None, ""):
        raise _bad("chat_id is empty")
    if not isinstance(params["chat_id"], int):  # "@channelname": not needed by a town bot
        raise _bad("chat not found")
    return int(params["chat_id"])


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 512, 512


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _command_entities(text: str) -> list[JSON]:
    match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?(?=\s|$)", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(match.group(0))}]


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Bucket:
    tokens: float
    stamp: float


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """A Telegram Bot API server on localhost. See the module docstring."""

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        clock: Callable[[], float] = time.monotonic,
        limits: RateLimits | None = None,
        bot_username: str = "stadtlotse_bot",
        bot_name: str = "Stadtlotse",
        group_title: str = "Testgruppe",
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.clock = clock
        self.limits = limits or RateLimits()
        self.group_title = group_title
        bot_id = token.split(":")[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.requests: list[Record] = []
        self.rate_limited = 0  # number of 429 answers given
        self.blocked: set[int] = set()
        self.button_presses: dict[str, ButtonPress] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope type, language) -> list
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_last_error = ""
        self.allowed_updates: list[str] = []  # [] means Telegram's default set
        self.files: dict[str, StoredFile] = {}
        # getUpdates calls that arrived while another client's call was still waiting (Telegram
        # answers those with 409 Conflict: only one poller per bot)
        self.overlapping_polls = 0
        self._polls: dict[int, web.Request] = {}  # id -> a getUpdates call waiting

        self._pending: list[JSON] = []
        self._sent: list[SentMessage] = []
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._inbound: dict[tuple[int, int], JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._buckets: dict[int | str, _Bucket] = {}
        self._faults: list[tuple[Fault, frozenset[str]]] = []
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(4_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._methods: dict[str, Callable[[JSON, dict[str, _Upload]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "getFile": self._get_file,
        }
        self._method_names = {name.lower(): name for name in self._methods}

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host, self._port = host, self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        self._closing = False
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()  # releases long polls and hanging faults
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For `telegram.Bot(base_url=...)`: PTB appends the token and `/method`."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self._host}:{self._port}/file/bot"

    # ------------------------------------------------------------------ test controls

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sends to the chat answer 403."""
        self.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def fail_next(
        self, n: int = 1, status: Fault = 500, methods: Iterable[str] | None = None
    ) -> None:
        """Fail the next `n` calls of `methods` (default: the sending methods).

        `status` is an HTTP status to answer, "disconnect" to drop the connection without an
        answer (PTB: NetworkError) or "timeout" to never answer (PTB: TimedOut once the
        client's read timeout passes; pass a short read_timeout in the call).
        """
        self._faults.extend([(status, frozenset(methods or SEND_METHODS))] * n)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages delivered (including later deleted ones), in sending order."""
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def last_sent(self, chat_id: int | None = None) -> SentMessage:
        messages = self.sent(chat_id)
        if not messages:
            raise AssertionError(f"nothing was sent to chat {chat_id}")
        return messages[-1]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        return self._messages[(chat_id, message_id)]

    def calls(self, method: str) -> list[Record]:
        return [r for r in self.requests if r.method == method]

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain timeout reads best in tests
    ) -> None:
        """Waits until `predicate()` holds; it is re-checked whenever the fake's state changes."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                texts = [m.text[:60] for m in self._sent]
                raise TimeoutError(f"condition not met within {timeout}s; sent: {texts}") from None

    async def wait_for_sent(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        chat_id: int | None = None,
    ) -> list[SentMessage]:
        """Waits until at least `count` messages were sent (to `chat_id`); returns them all."""
        await self.wait_until(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    # ------------------------------------------------------------------ residents

    async def push_update(self, update: JSON, *, secret_override: str | None = None) -> PushResult:
        """Queues `update` for getUpdates, or POSTs it to the webhook if one is set.

        `secret_override` replaces the webhook secret header ("" sends none).
        """
        update = {"update_id": next(self._update_ids), **update}
        if not self.webhook_url:
            self._pending.append(update)
            await self._notify()
            return PushResult(update, None)
        if not self._allowed(update):
            return PushResult(update, None)
        return PushResult(update, await self._post_webhook(update, secret_override))

    async def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        first_name: str = "Anna",
        language_code: str = "de",
        *,
        reply_to: int | None = None,
        secret_override: str | None = None,
    ) -> PushResult:
        """A resident writes `text`; a leading /command gets its bot_command entity."""
        content: JSON = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        if reply_to is not None:
            target = self._find_any(chat_id or user_id, reply_to)
            if target is not None:
                content["reply_to_message"] = target
        message = self._inbound_message(user_id, chat_id, first_name, language_code, content)
        return await self.push_update({"message": message}, secret_override=secret_override)

    async def send_photo(
        self,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        first_name: str = "Anna",
        language_code: str = "de",
        *,
        secret_override: str | None = None,
    ) -> PushResult:
        """A resident sends a photo; the bytes are served via getFile."""
        stored = self._store_file(data, "photo.jpg", "image/jpeg", "photos")
        content: JSON = {"photo": [self._photo_size(stored)]}
        if caption is not None:
            content["caption"] = caption
        message = self._inbound_message(user_id, chat_id, first_name, language_code, content)
        return await self.push_update({"message": message}, secret_override=secret_override)

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str = "dokument.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat_id: int | None = None,
        first_name: str = "Anna",
        language_code: str = "de",
        *,
        secret_override: str | None = None,
    ) -> PushResult:
        stored = self._store_file(data, filename, mime_type, "documents")
        content: JSON = {"document": self._document(stored)}
        if caption is not None:
            content["caption"] = caption
        message = self._inbound_message(user_id, chat_id, first_name, language_code, content)
        return await self.push_update({"message": message}, secret_override=secret_override)

    async def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        first_name: str = "Anna",
        language_code: str = "de",
        *,
        secret_override: str | None = None,
    ) -> PushResult:
        content: JSON = {"location": {"latitude": latitude, "longitude": longitude}}
        message = self._inbound_message(user_id, chat_id, first_name, language_code, content)
        return await self.push_update({"message": message}, secret_override=secret_override)

    async def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
        first_name: str = "Anna",
        language_code: str = "de",
        *,
        secret_override: str | None = None,
    ) -> PushResult:
        """A resident presses an inline button of the bot's message `message_id`."""
        chat = chat_id if chat_id is not None else user_id
        query_id = str(next(self._query_ids))
        sent = self._messages.get((chat, message_id))
        message = (
            self._message_json(sent)
            if sent is not None and not sent.deleted
            else {"message_id": message_id, "chat": self._chat_json(chat), "date": 0}
        )  # date 0: an "inaccessible message", as Telegram sends for old or deleted ones
        self.button_presses[query_id] = ButtonPress(
            query_id, user_id, chat, message_id, callback_data
        )
        query = {
            "id": query_id,
            "from": self._user_json(user_id, first_name, language_code),
            "message": message,
            "chat_instance": str(abs(chat) * 7919),
            "data": callback_data,
        }
        return await self.push_update({"callback_query": query}, secret_override=secret_override)

    async def react(
        self, user_id: int, message_id: int, emoji: str, chat_id: int | None = None
    ) -> PushResult:
        """A message_reaction update; Telegram only sends those if allowed_updates asks."""
        chat = chat_id if chat_id is not None else user_id
        reaction = {
            "chat": self._chat_json(chat),
            "message_id": message_id,
            "user": self._user_json(user_id, "Anna", "de"),
            "date": int(time.time()),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}],
        }
        return await self.push_update({"message_reaction": reaction})

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_method = request.match_info["method"]
        method = self._method_names.get(raw_method.lower(), raw_method)
        record = Record(method, {}, self.clock())
        self.requests.append(record)
        await self._notify()
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            if method not in self._methods:
                raise _ApiError(404, "Not Found")
            params, files = await self._read_params(request)
            record.params = params | {
                name: {"filename": f.filename, "size": len(f.data), "content_type": f.content_type}
                for name, f in files.items()
            }
            fault = self._take_fault(method)
            if fault in ("disconnect", "timeout"):
                record.status = 0
                if fault == "timeout":
                    async with self._changed:
                        await self._changed.wait_for(lambda: self._closing)
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            if isinstance(fault, int):
                phrase = HTTPStatus(fault).phrase if fault in set(HTTPStatus) else "Error"
                retry = {"retry_after": 1} if fault == 429 else None
                raise _ApiError(fault, phrase, retry)
            if method == "getUpdates":
                result = await self._poll(request, params, files)
            else:
                result = await self._methods[method](params, files)
        except _ApiError as error:
            record.status = error.status
            if error.status == 429:
                self.rate_limited += 1
            return web.json_response(error.body(), status=error.status)
        record.status = 200
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, _Upload]]:
        params: JSON = dict(request.query)
        files: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                params.update(body)
            else:
                for name, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files[name] = _Upload(value.filename, value.content_type, value.file.read())
                    else:
                        params[name] = value
        return _decode(params), files

    def _take_fault(self, method: str) -> Fault | None:
        for index, (status, methods) in enumerate(self._faults):
            if method in methods:
                del self._faults[index]
                return status
        return None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(_ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None:
            return web.json_response(_ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _post_webhook(self, update: JSON, secret_override: str | None) -> int:
        assert self._session is not None, "FakeTelegram.start() was not called"
        secret = self.webhook_secret if secret_override is None else secret_override
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with self._session.post(
                self.webhook_url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                status, reason = response.status, response.reason
        except (aiohttp.ClientError, TimeoutError) as error:
            self.webhook_last_error = f"Connection failed: {error!r}"
            return 0
        if status != 200:
            self.webhook_last_error = f"Wrong response from the webhook: {status} {reason}"
        return status

    # ------------------------------------------------------------------ state helpers

    def _allowed(self, update: JSON) -> bool:
        kind = _update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user_json(self, user_id: int, first_name: str, language_code: str) -> JSON:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def _chat_json(self, chat_id: int) -> JSON:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Anna"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": self.group_title}

    def _inbound_message(
        self,
        user_id: int,
        chat_id: int | None,
        first_name: str,
        language_code: str,
        content: JSON,
    ) -> JSON:
        chat_id = user_id if chat_id is None else chat_id
        if chat_id == user_id:
            self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": first_name}
        chat = self._chat_json(chat_id)
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self._user_json(user_id, first_name, language_code),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._inbound[(chat_id, message["message_id"])] = message
        return message

    def _find_any(self, chat_id: int, message_id: int) -> JSON | None:
        sent = self._messages.get((chat_id, message_id))
        if sent is not None and not sent.deleted:
            return self._message_json(sent, nested=True)
        return self._inbound.get((chat_id, message_id))

    def _store_file(self, data: bytes, filename: str, mime_type: str, folder: str) -> StoredFile:
        number = next(self._file_ids)
        suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAx0-file-{number}",
            unique_id=f"AgAD{number}",
            path=f"{folder}/file_{number}.{suffix}",
            filename=filename,
            mime_type=mime_type,
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    def _photo_size(self, stored: StoredFile) -> JSON:
        width, height = _image_size(stored.data)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.data),
        }

    def _document(self, stored: StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": stored.filename,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
        }

    def _message_json(self, message: SentMessage, *, nested: bool = False) -> JSON:
        out: JSON = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if message.kind == "text":
            out["text"] = message.text
        else:
            stored = self.files[message.file_id or ""]
            if message.kind == "photo":
                out["photo"] = [self._photo_size(stored)]
            else:
                out["document"] = self._document(stored)
            if message.text:
                out["caption"] = message.text
        if message.reply_to is not None and not nested:  # Telegram nests one level only
            target = self._find_any(message.chat_id, message.reply_to)
            if target is not None:
                out["reply_to_message"] = target
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            out["reply_markup"] = message.reply_markup
        return out

    def _throttle(self, chat_id: int) -> None:
        """Token buckets: the bot overall, and the chat (private or group)."""
        if not self.limits.enabled:
            return
        now, lim = self.clock(), self.limits
        chat_bucket = (
            (lim.group_per_minute, lim.group_per_minute / 60)
            if chat_id < 0
            else (float(lim.private_burst), lim.private_per_second)
        )
        buckets: list[tuple[int | str, float, float]] = [
            ("*", lim.global_per_second, lim.global_per_second),
            (chat_id, *chat_bucket),
        ]
        wait = 0.0
        for key, capacity, per_second in buckets:
            bucket = self._buckets.setdefault(key, _Bucket(capacity, now))
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * per_second)
            bucket.stamp = now
            if bucket.tokens < 1 - 1e-9:
                wait = max(wait, (1 - bucket.tokens) / per_second)
        if wait > 0:
            retry_after = max(1, math.ceil(wait - 1e-9))
            raise _ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for key, _, _ in buckets:
            self._buckets[key].tokens -= 1

    def _deliver_check(self, chat_id: int, method: str) -> None:
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if method in SEND_METHODS:
            self._throttle(chat_id)

    def _reply_target(self, params: JSON, chat_id: int) -> int | None:
        reply = params.get("reply_parameters") or {}
        message_id = params.get("reply_to_message_id", reply.get("message_id"))
        if message_id is None:
            return None
        if self._find_any(chat_id, int(message_id)) is None and not reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply")
        ):
            raise _bad("message to be replied not found")
        return int(message_id)

    def _record_sent(self, message: SentMessage) -> JSON:
        self._sent.append(message)
        self._messages[(message.chat_id, message.message_id)] = message
        return self._message_json(message)

    def _find_own(self, params: JSON, not_found: str) -> SentMessage:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by the fake")
        chat_id, message_id = _chat_id(params), _int(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise _bad(not_found)
        return message

    def _upload(self, params: JSON, files: dict[str, _Upload], name: str) -> _Upload | str:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value.removeprefix("attach://"))
        upload = files.get(name, value)
        if isinstance(upload, _Upload):
            if not upload.data:
                raise _bad("file must be non-empty")
            return upload
        if isinstance(upload, str) and (upload in self.files or upload.startswith("http")):
            return upload
        raise _bad(f"wrong file identifier/HTTP URL specified ({name})")

    async def _send_media(
        self, params: JSON, files: dict[str, _Upload], kind: Literal["photo", "document"]
    ) -> JSON:
        chat_id = _chat_id(params)
        upload = self._upload(params, files, kind)
        caption, mode = _check_formatted(
            params.get("caption"), params.get("parse_mode"), limit=MAX_CAPTION, what="caption"
        )
        markup = _check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(params, chat_id)
        if isinstance(upload, _Upload) and kind == "photo" and not _looks_like_image(upload.data):
            raise _bad("IMAGE_PROCESS_FAILED")
        self._deliver_check(chat_id, "sendPhoto" if kind == "photo" else "sendDocument")
        if isinstance(upload, _Upload):
            stored = self._store_file(upload.data, upload.filename, upload.content_type, kind + "s")
            data: bytes | None = upload.data
        elif upload in self.files:
            stored, data = self.files[upload], self.files[upload].data
        else:  # a URL Telegram would fetch itself
            name = upload.rsplit("/", 1)[-1] or kind
            stored, data = self._store_file(b"", name, "application/octet-stream", kind + "s"), None
        message = SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            kind=kind,
            text=caption,
            reply_markup=markup,
            parse_mode=mode,
            data=data,
            filename=stored.filename,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
            reply_to=reply_to,
            date=int(time.time()),
        )
        return self._record_sent(message)

    # ------------------------------------------------------------------ API methods

    async def _get_me(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _poll(self, request: web.Request, params: JSON, files: dict[str, _Upload]) -> Any:
        """getUpdates, counting calls that overlap a waiting call of another, live client."""
        self._polls = {
            key: other
            for key, other in self._polls.items()
            if other.transport is not None and not other.transport.is_closing()
        }
        if self._polls:
            self.overlapping_polls += 1
        self._polls[id(request)] = request
        try:
            return await self._get_updates(params, files)
        finally:
            self._polls.pop(id(request), None)

    async def _get_updates(self, params: JSON, files: dict[str, _Upload]) -> list[JSON]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(_int(params, "timeout", 0), 0)
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        if offset > 0:  # confirms everything before it
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

        def ready() -> bool:
            self._pending = [u for u in self._pending if self._allowed(u)]
            return bool(self._pending) or self._closing

        if not ready() and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(ready), timeout)
        return self._pending[:limit]

    async def _set_webhook(self, params: JSON, files: dict[str, _Upload]) -> bool:
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        if url and not re.fullmatch(r"https?://\S+", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        self.webhook_url, self.webhook_secret, self.webhook_last_error = url, secret, ""
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, _Upload]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = self.webhook_secret = ""
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        if self.webhook_last_error:
            info["last_error_date"] = int(time.time())
            info["last_error_message"] = self.webhook_last_error
        return info

    async def _send_message(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        chat_id = _chat_id(params)
        text, mode = _check_formatted(
            params.get("text"), params.get("parse_mode"), limit=MAX_TEXT, what="text"
        )
        markup = _check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(params, chat_id)
        self._deliver_check(chat_id, "sendMessage")
        message = SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            kind="text",
            text=text,
            reply_markup=markup,
            parse_mode=mode,
            reply_to=reply_to,
            date=int(time.time()),
        )
        return self._record_sent(message)

    async def _send_photo(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        return await self._send_media(params, files, "photo")

    async def _send_document(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        return await self._send_media(params, files, "document")

    def _edit(self, message: SentMessage, text: str, mode: str | None, markup: JSON | None) -> JSON:
        if (text, mode, markup) == (message.text, message.parse_mode, message.reply_markup):
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._deliver_check(message.chat_id, "editMessageText")
        message.history.append(
            MessageVersion(message.text, message.reply_markup, message.parse_mode)
        )
        message.text, message.parse_mode, message.reply_markup = text, mode, markup
        message.edit_date = int(time.time())
        return self._message_json(message)

    async def _edit_message_text(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        message = self._find_own(params, "message to edit not found")
        text, mode = _check_formatted(
            params.get("text"), params.get("parse_mode"), limit=MAX_TEXT, what="text"
        )
        markup = _check_reply_markup(params.get("reply_markup"))
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        return self._edit(message, text, mode, markup)  # no reply_markup removes the keyboard

    async def _edit_message_reply_markup(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        message = self._find_own(params, "message to edit not found")
        markup = _check_reply_markup(params.get("reply_markup"))
        return self._edit(message, message.text, message.parse_mode, markup)

    async def _answer_callback_query(self, params: JSON, files: dict[str, _Upload]) -> bool:
        press = self.button_presses.get(str(params.get("callback_query_id", "")))
        if press is None or press.answered:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        press.answered = True
        press.answer_text = params.get("text")
        press.show_alert = bool(params.get("show_alert", False))
        return True

    async def _send_chat_action(self, params: JSON, files: dict[str, _Upload]) -> bool:
        chat_id = _chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._deliver_check(chat_id, "sendChatAction")
        return True

    async def _delete_message(self, params: JSON, files: dict[str, _Upload]) -> bool:
        self._find_own(params, "message to delete not found").deleted = True
        return True

    async def _set_my_commands(self, params: JSON, files: dict[str, _Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH" if commands else "commands is empty")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(description)) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, _Upload]) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {}
        return str(scope.get("type", "default")), str(params.get("language_code") or "")

    async def _get_file(self, params: JSON, files: dict[str, _Upload]) -> JSON:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }
