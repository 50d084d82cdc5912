"""Transcript testing through the console channel: what the resident sends, what the bot says."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from bot.console import ConsoleChannel, parse_line
from bot.sender.outbox import OutboxSender
from flows.types import Attachment, Inbound, Reply
from handlers import menus
from handlers.dispatch import Dispatcher
from services.city import City
from services.clock import FrozenClock
from services.env import Env, Links
from services.payments.provider import PaymentProvider
from storage.db import Database

_keys = itertools.count(1)


class Transcript:
    def __init__(
        self,
        db: Database,
        city: City,
        clock: FrozenClock,
        *,
        media_dir: Path,
        payments: PaymentProvider | None = None,
        public_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.db = db
        self.city = city
        self.clock = clock
        self.env = Env(city, clock, Links(public_url=public_url), payments=payments)
        self.dispatcher = Dispatcher(db, self.env)
        self.out = io.StringIO()
        self.console = ConsoleChannel(self.out, media_dir)
        self.last: dict[str, list[Reply]] = {}
        self.log: list[str] = []

    def restart(self) -> None:
        """A new process on the same database: nothing carried over in memory."""
        self.dispatcher = Dispatcher(self.db, self.env)

    async def send(self, user: str, line: str, *, room: str = "", key: str | None = None) -> str:
        """Send one console line as `user`; returns the rendered answer."""
        chat_id = f"room:{room}" if room else user
        inbound = parse_line(
            line, user=user, chat=chat_id, key=key or f"t{next(_keys)}", is_group=bool(room)
        )
        assert inbound is not None
        return await self.handle(inbound)

    async def handle(self, inbound: Inbound) -> str:
        replies = await self.dispatcher.handle(inbound)
        self.last[inbound.chat_id] = replies
        rendered = "\n".join(self.console.render(r) for r in replies)
        self.log.append(f"> {inbound.text or inbound.command or inbound.choice}\n{rendered}")
        return rendered

    async def press(self, user: str, label: str, *, room: str = "", reply: int = -1) -> str:
        """Press a button by (part of) its label, as Telegram would: with the opaque token."""
        chat_id = f"room:{room}" if room else user
        candidates = [r for r in self.last.get(chat_id, []) if r.menu]
        assert candidates, f"no buttons in the last answer to {chat_id}"
        target = candidates[reply]
        for index, button in enumerate(target.buttons):
            if label.casefold() in button.label.casefold():
                return await self.choose(user, menus.pack(target.menu, index), room=room)
        raise AssertionError(f"no button {label!r} in {[b.label for b in target.buttons]}")

    async def choose(self, user: str, token: str, *, room: str = "") -> str:
        chat_id = f"room:{room}" if room else user
        return await self.handle(
            Inbound(
                channel="console",
                user_id=user,
                chat_id=chat_id,
                kind="choice",
                choice=token,
                key=f"t{next(_keys)}",
                is_group=bool(room),
            )
        )

    async def upload(self, user: str, filename: str, mime: str, data: bytes) -> str:
        kind = "photo" if mime.startswith("image/") else "document"
        attachment = Attachment(kind, filename, mime, data)  # type: ignore[arg-type]
        return await self.handle(
            Inbound(
                channel="console",
                user_id=user,
                chat_id=user,
                kind="media",
                attachments=(attachment,),
                key=f"t{next(_keys)}",
            )
        )

    async def notifications(self, user_or_room: str) -> str:
        """Deliver due notifications for this console chat and return what was shown."""
        before = self.out.tell()
        count = len(self.console.delivered)
        sender = OutboxSender(self.db, self.city, {"console": self.console}, self.clock)
        await sender.drain(only_chats={("console", user_or_room)})
        self.out.seek(before)
        shown = self.out.read()
        self.out.seek(0, io.SEEK_END)
        delivered = [r for chat, r in self.console.delivered[count:] if chat == user_or_room]
        if delivered:
            self.last[user_or_room] = delivered
        return shown
