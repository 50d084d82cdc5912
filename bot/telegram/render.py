"""How one Reply looks on Telegram: text split at Telegram's limits, inline keyboards with opaque
callback data, link buttons, photos and documents. Pure functions: the channel sends the parts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from flows.types import Button, Media, Reply
from handlers import menus

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
MAX_PHOTO = 10 * 1024 * 1024  # larger images go out as documents
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SHORT_LABEL = 16  # labels up to this length share a row, two by two


Keyboard = list[list[dict[str, str]]]  # inline keyboard rows as the Bot API takes them


@dataclass
class Part:
    """One Bot API call: a text message, or a photo/document with an optional caption. The
    keyboard is kept as the Bot API's JSON (a text message goes out without building PTB
    objects for it); `markup` builds those for the calls that take them."""

    text: str = ""
    media: Media | None = None
    as_photo: bool = False
    rows: Keyboard | None = None

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.rows:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(**button) for button in row] for row in self.rows]
        )

    @property
    def reply_markup(self) -> dict[str, Keyboard] | None:
        return {"inline_keyboard": self.rows} if self.rows else None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` characters, cut at a paragraph, line or word where possible."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def callback_data(menu: str, index: int) -> str:
    data = menus.pack(menu, index)
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback data {data!r} is longer than {MAX_CALLBACK_DATA} bytes")
    return data


def valid_callback_data(data: str | None) -> bool:
    """What comes back from Telegram must look like one of our tokens; anything else is refused
    without touching the database."""
    return (
        bool(data)
        and len(str(data).encode()) <= MAX_CALLBACK_DATA
        and (menus.unpack(str(data)) is not None)
    )


def usable_url(url: str) -> bool:
    """Telegram refuses buttons pointing at localhost; those links are shown as text."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https", "tg") or not host:
        return False
    return not (host == "localhost" or host.startswith("127.") or host in ("0.0.0.0", "::1"))


def keyboard(reply: Reply) -> tuple[Keyboard | None, list[str]]:
    """The inline keyboard of a reply, and link lines for URLs Telegram would refuse."""
    rows: Keyboard = []
    extra_lines: list[str] = []
    pending_short: list[dict[str, str]] = []

    def flush() -> None:
        if pending_short:
            rows.append(list(pending_short))
            pending_short.clear()

    for index, button in enumerate(reply.buttons):
        rendered = _button(reply, index, button)
        if rendered is None:
            if button.url:
                extra_lines.append(f"{button.label}: {button.url}")
            continue
        if len(button.label) <= SHORT_LABEL:
            pending_short.append(rendered)
            if len(pending_short) == 2:
                flush()
        else:
            flush()
            rows.append([rendered])
    flush()
    return (rows or None), extra_lines


def _button(reply: Reply, index: int, button: Button) -> dict[str, str] | None:
    if button.url:
        return {"text": button.label, "url": button.url} if usable_url(button.url) else None
    if button.action and reply.menu:
        return {"text": button.label[:64], "callback_data": callback_data(reply.menu, index)}
    return None


def plan(reply: Reply) -> list[Part]:
    """The Bot API calls for one reply; the keyboard goes on the last part."""
    rows, extra_lines = keyboard(reply)
    text = "\n".join([reply.text.strip(), *extra_lines]).strip() if extra_lines else reply.text
    parts: list[Part] = []
    if reply.media is not None:
        media = reply.media
        as_photo = (
            media.kind == "image" and media.mime in PHOTO_TYPES and len(media.data) <= MAX_PHOTO
        )
        caption = text.strip() if len(text.strip()) <= MAX_CAPTION else ""
        parts.append(Part(text=caption, media=media, as_photo=as_photo))
        if not caption:
            parts.extend(Part(text=chunk) for chunk in split_text(text))
    else:
        parts.extend(Part(text=chunk) for chunk in split_text(text))
    if not parts and rows is not None:
        parts.append(Part(text="…"))  # a keyboard needs a message to hang on
    if parts:
        parts[-1].rows = rows
    return parts
