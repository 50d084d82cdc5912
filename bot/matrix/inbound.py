"""A Matrix event as an Inbound: text, command, a pick from a menu (a number or label in the
thread of a menu message, a reply to it, a keycap reaction on it), a shared location
(m.location) or a downloaded file."""

from __future__ import annotations

from typing import Any

from nio import (
    AsyncClient,
    DownloadError,
    MatrixRoom,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    UnknownEvent,
)
from nio.crypto.attachments import decrypt_attachment

from bot.channel import TransientError
from bot.matrix import events
from bot.matrix.state import CHANNEL, MatrixState
from flows.types import Attachment, Inbound
from handlers import menus
from services.numbers import parse_int
from storage.models.conversation import Menu

MAX_FILE = 10 * 1024 * 1024  # what residents may send; bigger files are refused politely


class Reader:
    def __init__(self, client: AsyncClient, state: MatrixState) -> None:
        self.client = client
        self.state = state

    async def read(
        self, room: MatrixRoom, event: Any, chat_id: str, is_direct: bool
    ) -> tuple[Inbound, bool] | None:
        """The Inbound, and whether it is addressed to the bot (in a shared room people also
        talk to each other: commands, choices, answers in the bot's threads and a bare number
        count; other talk is left alone unless the person is in the middle of a step)."""
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_id": event.sender,
            "chat_id": chat_id,
            "key": event.event_id,
            "display_name": room.user_name(event.sender) or "",
            "is_group": not is_direct,
        }
        content = event.source.get("content", {}) if isinstance(event.source, dict) else {}
        if isinstance(event, RoomMessageText | RoomMessageNotice | RoomMessageEmote):
            parsed = events.parse_text(event.body or "", content)
            menu: Menu | None = None
            thread = parsed.thread_root
            if thread:
                menu = await self.state.latest_menu_in_thread(room.room_id, thread, event.sender)
            elif parsed.reply_to:
                found = await self.state.menu_and_thread(parsed.reply_to, room.room_id)
                if found is not None:
                    menu, thread = found
                    if not thread and not is_direct:  # shared room: answer in a thread
                        thread = parsed.reply_to
            if parsed.kind == "command":
                return Inbound(
                    kind="command", command=parsed.command, text=parsed.text, thread=thread, **base
                ), True
            token = _pick(menu, parsed.text) if menu is not None else ""
            if token:
                return Inbound(kind="choice", choice=token, thread=thread, **base), True
            addressed = menu is not None or parse_int(parsed.text) is not None
            return Inbound(kind="text", text=parsed.text, thread=thread, **base), addressed
        reaction = None
        if isinstance(event, ReactionEvent) or (
            isinstance(event, UnknownEvent) and event.type == "m.reaction"
        ):
            reaction = events.parse_reaction(content)
        if reaction is not None:
            found = await self.state.menu_and_thread(reaction.reacts_to, room.room_id)
            if found is None or reaction.number is None:
                return None
            menu, thread = found
            if not thread and not is_direct:  # shared room: answer in the message's thread
                thread = reaction.reacts_to
            index = nth_option(menu, reaction.number)
            if index is None:
                return None
            return Inbound(
                kind="choice", choice=menus.pack(menu.id, index), thread=thread, **base
            ), True
        location = events.parse_location(content)
        if location is not None:
            thread, _reply = events.relation(content)
            return Inbound(kind="location", location=location, thread=thread, **base), bool(thread)
        if isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
            thread, _reply = events.relation(content)
            attachment = await self._download(event, content)
            if attachment is None:
                raise TooBig(thread)
            addressed = bool(thread)
            return Inbound(
                kind="media", attachments=(attachment,), thread=thread, **base
            ), addressed
        return None

    async def _download(self, event: Any, content: dict[str, Any]) -> Attachment | None:
        """The file a resident sent, size-limited; None when it is too big."""
        info = content.get("info") or {}
        if isinstance(info, dict) and int(info.get("size") or 0) > MAX_FILE:
            return None
        resp = await self.client.download(mxc=event.url)
        if isinstance(resp, DownloadError) or not hasattr(resp, "body"):
            raise TransientError(f"download of {event.url} failed: {resp}")
        data: bytes = resp.body
        if isinstance(event, RoomEncryptedMedia):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        if len(data) > MAX_FILE:
            return None
        mime = getattr(event, "mimetype", None) or (
            info.get("mimetype") if isinstance(info, dict) else None
        )
        mime = mime or "application/octet-stream"
        kind = "photo" if mime.startswith("image/") else "document"
        filename = str(content.get("filename") or event.body or "file")
        return Attachment(kind, filename[:200], mime, data, ref=event.url)  # type: ignore[arg-type]


class TooBig(Exception):
    """A resident sent a file over MAX_FILE."""

    def __init__(self, thread: str) -> None:
        super().__init__("file too big")
        self.thread = thread


def nth_option(menu: Menu, number: int) -> int | None:
    """Index in the menu's buttons of the `number`-th numbered option (links are not numbered)."""
    shown = [i for i, row in enumerate(menu.buttons) if row.get("action") and not row.get("url")]
    return shown[number - 1] if 1 <= number <= len(shown) else None


def _pick(menu: Menu, text: str) -> str:
    """The token for a number or label typed as the answer to one menu ("" if neither)."""
    number = parse_int(text, high=999)
    if number is not None:
        index = nth_option(menu, number)
        return menus.pack(menu.id, index) if index is not None else ""
    wanted = _label_key(text)
    for index, row in enumerate(menu.buttons):
        if row.get("action") and not row.get("url") and _label_key(row.get("label", "")) == wanted:
            return menus.pack(menu.id, index)
    return ""


def _label_key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum() or ch == " ").strip()
