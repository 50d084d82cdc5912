"""Telegram updates as Inbound values: messages, commands (with deep-link payloads), button
presses, photos, documents and locations. Group chats: only what is addressed to the bot."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Bot, Message, Update
from telegram.error import TelegramError

from bot.telegram.render import MAX_CALLBACK_DATA
from flows.types import Attachment, Inbound

log = logging.getLogger(__name__)

NAME = "telegram"
MAX_DOWNLOAD = 10 * 1024 * 1024
COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Mapped:
    """What an update means: the Inbound to dispatch (None: ignore it), and a problem to tell
    the person about before anything is dispatched ("too_large", "forged")."""

    inbound: Inbound | None
    problem: str = ""
    callback_query_id: str = ""
    message_id: int | None = None  # the message a pressed button was on


def _base(update: Update, message: Message | None) -> dict[str, object]:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return {
        "channel": NAME,
        "user_id": str(user.id),
        "chat_id": str(chat.id),
        "key": f"u{update.update_id}",
        "display_name": user.first_name or "",
        "language_hint": user.language_code or "",
        "is_group": chat.type != "private",
        "thread": str(message.message_id) if message is not None and chat.type != "private" else "",
    }


def addressed_to_bot(message: Message, bot_username: str, bot_id: int) -> bool:
    """In a group: a command for us (/cmd or /cmd@ourbot), or a reply to one of our messages."""
    text = message.text or ""
    match = COMMAND.match(text)
    if match is not None:
        target = match.group(2)
        return target is None or target.lower() == bot_username.lower()
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


async def map_update(update: Update, bot: Bot) -> Mapped:
    """Turn one update into an Inbound; downloads attachments (10 MB at most)."""
    if update.effective_user is None or update.effective_chat is None:
        return Mapped(None)
    query = update.callback_query
    if query is not None:
        message = query.message
        message_id = message.message_id if message is not None else None
        base = _base(update, None)
        if not query.data or len(query.data.encode()) > MAX_CALLBACK_DATA:
            log.warning("forged callback data %r from %s", (query.data or "")[:80], base["user_id"])
            return Mapped(None, "forged", query.id, message_id)
        inbound = Inbound(kind="choice", choice=str(query.data), **base)  # type: ignore[arg-type]
        return Mapped(inbound, callback_query_id=query.id, message_id=message_id)
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return Mapped(None)
    base = _base(update, message)
    if base["is_group"] and not addressed_to_bot(message, bot.username or "", bot.id):
        return Mapped(None)
    if message.text is not None:
        match = COMMAND.match(message.text.strip())
        if match is not None:
            inbound = Inbound(
                kind="command",
                command=match.group(1).lower(),
                text=(match.group(3) or "").strip(),
                **base,  # type: ignore[arg-type]
            )
            return Mapped(inbound)
        return Mapped(Inbound(kind="text", text=message.text, **base))  # type: ignore[arg-type]
    if message.location is not None:
        location = (message.location.latitude, message.location.longitude)
        return Mapped(Inbound(kind="location", location=location, **base))  # type: ignore[arg-type]
    if message.photo or message.document is not None:
        return await _media(message, bot, base)
    # stickers, voice, video ...: the conversation says it cannot use them
    return Mapped(Inbound(kind="media", text=message.caption or "", **base))  # type: ignore[arg-type]


async def _media(message: Message, bot: Bot, base: dict[str, object]) -> Mapped:
    if message.photo:
        photo = message.photo[-1]  # the largest size
        file_id, size = photo.file_id, photo.file_size
        kind, filename, mime = "photo", f"photo-{message.message_id}.jpg", "image/jpeg"
    else:
        document = message.document
        assert document is not None
        file_id, size = document.file_id, document.file_size
        mime = document.mime_type or "application/octet-stream"
        kind = "photo" if mime.startswith("image/") else "document"
        filename = document.file_name or f"file-{message.message_id}"
    if size is not None and size > MAX_DOWNLOAD:
        return Mapped(None, "too_large")
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > MAX_DOWNLOAD:
            return Mapped(None, "too_large")
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not download file %s: %s", file_id, error)
        return Mapped(None, "download_failed")
    if len(data) > MAX_DOWNLOAD:
        return Mapped(None, "too_large")
    attachment = Attachment(kind, filename, mime, data, ref=file_id)  # type: ignore[arg-type]
    inbound = Inbound(
        kind="media",
        text=message.caption or "",
        attachments=(attachment,),
        **base,  # type: ignore[arg-type]
    )
    return Mapped(inbound)
