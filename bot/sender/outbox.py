"""The outbox: notification rows delivered through the channels, the result recorded.

Each notification is rendered in the recipient's language when it is sent. Failures: 429 waits
as long as asked; network errors retry with backoff; a blocked chat marks the account
unreachable; after MAX_ATTEMPTS a message is parked for operators to look at. The long-running,
rate-limited sender is bot/sender/delivery.py; this module holds what both share, and the simple
one-pass `drain` the console uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot.channel import Channel, DeliveryError, Rejected, RetryAfter, Unreachable
from flows.types import Media, Reply
from handlers import menus, picking
from services import i18n
from services.city import City
from services.notify import room_language
from storage.db import Database
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import FAILED, PARKED, PENDING, SENT, Notification, StoredFile
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STAFF_LANGUAGE = "de"


@dataclass
class SendStats:
    sent: int = 0
    retried: int = 0  # attempts that failed and will be tried again
    throttled: int = 0  # 429 answers (each paused the channel for retry_after)
    parked: int = 0
    failed: int = 0  # nobody to deliver to
    unreachable: int = 0
    recovered: int = 0  # rows a dead sender had in flight, sent again
    waited: float = 0.0
    by_channel: dict[str, int] = field(default_factory=dict)

    def count_sent(self, channel: str) -> None:
        self.sent += 1
        self.by_channel[channel] = self.by_channel.get(channel, 0) + 1


async def resolve_target(
    uow: UnitOfWork, note: Notification, city: City | None = None
) -> tuple[str, str, str] | None:
    """(channel, chat_id, language) for a notification, or None if nobody can be reached.
    A staff room reads its department's room language (services.notify.room_language)."""
    if note.department:
        lang = room_language(city, note.department) if city else STAFF_LANGUAGE
        return (note.channel or "", note.chat_id or "", lang)
    if note.citizen_id is None:
        return None
    citizen = await uow.session.get(Citizen, note.citizen_id)
    if citizen is None or citizen.deleted_at is not None:
        return None
    accounts = (
        (
            await uow.session.execute(
                select(ChannelAccount)
                .where(
                    ChannelAccount.citizen_id == note.citizen_id,
                    ChannelAccount.unreachable_at.is_(None),
                )  # type: ignore[union-attr]
                .order_by(ChannelAccount.id.desc())  # type: ignore[union-attr]
            )
        )
        .scalars()
        .all()
    )
    wanted = note.channel or citizen.notify_channel
    chosen = next((a for a in accounts if a.channel == wanted), None) or next(iter(accounts), None)
    if chosen is None or not chosen.chat_id:
        return None
    return (chosen.channel, chosen.chat_id, citizen.language)


async def render(
    uow: UnitOfWork, note: Notification, channel: str, chat_id: str, lang: str, now: datetime
) -> Reply:
    text = i18n.translate(lang, note.key, note.params)
    reply = Reply(text=text)
    if note.buttons:
        buttons = [
            menus.Button(
                i18n.gettext(lang, b["label"]),
                b.get("action", ""),
                b.get("arg", ""),
                b.get("url", ""),
            )
            for b in note.buttons
        ]
        reply.buttons = buttons
        reply.options = "notice"
        hint = picking.notice_hint(lang, channel, reply)
        if hint:
            reply.text = text = f"{text}\n{hint}"
        if any(b.action for b in buttons):
            menu = await menus.store_menu(
                uow,
                channel=channel,
                chat_id=chat_id,
                text=text,
                buttons=buttons,
                now=now,
                citizen_id=note.citizen_id,
            )
            reply.menu = menu.id
    if note.media_file_id is not None:
        stored = await uow.session.get(StoredFile, note.media_file_id)
        if stored is not None:
            kind = "image" if stored.mime.startswith("image/") else "document"
            reply.media = Media(kind, stored.filename or "file", stored.mime, stored.data)
    return reply


class OutboxSender:
    """Delivers notification rows. `drain` is one simple pass (the console, tests); the
    rate-limited sender of `stadtlotse run` is bot/sender/delivery.py's `Delivery`, built on it."""

    def __init__(
        self,
        db: Database,
        city: City,
        channels: Mapping[str, Channel],
        clock: object,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.city = city
        self.channels = channels
        self.clock = clock
        self.max_attempts = max_attempts

    def _now(self) -> datetime:
        return self.clock.now()  # type: ignore[attr-defined, no-any-return]

    async def due_ids(
        self, limit: int = 500, only_chats: set[tuple[str, str]] | None = None
    ) -> list[int]:
        async with self.db.uow() as uow:
            query = (
                select(Notification.id)
                .where(Notification.status == PENDING, Notification.next_attempt_at <= self._now())
                .order_by(Notification.id)
                .limit(limit)
            )
            return [row for row in (await uow.session.execute(query)).scalars()]

    async def send_one(
        self, note_id: int, stats: SendStats, only_chats: set[tuple[str, str]] | None = None
    ) -> None:
        """Render in one short transaction, deliver outside any, record the result in a
        second short one: a slow channel holds no lock."""
        now = self._now()
        async with self.db.uow() as uow:
            note = await uow.session.get(Notification, note_id)
            if note is None or note.status != PENDING:
                return
            target = await resolve_target(uow, note, self.city)
            if target is None:
                note.status = FAILED
                note.last_error = "no reachable account"
                stats.failed += 1
                uow.count_after_commit("send", channel=note.channel or "none", outcome="failed")
                await uow.commit()
                return
            channel_name, chat_id, lang = target
            if only_chats is not None and (channel_name, chat_id) not in only_chats:
                return
            channel = self.channels.get(channel_name)
            if channel is None:
                return  # the channel is not running in this process: leave it pending
            reply = await render(uow, note, channel_name, chat_id, lang, now)
            thread = note.thread or ""
            await uow.commit()  # the menu of the message's buttons
        failure: DeliveryError | None = None
        external_id = ""
        try:
            external_id = await channel.deliver(chat_id, reply, thread=thread)
        except DeliveryError as error:
            failure = error
        async with self.db.uow() as uow:
            note = await uow.session.get(Notification, note_id)
            if note is None or note.status != PENDING:
                return
            note.channel, note.chat_id = channel_name, chat_id
            outcome = "retry"
            if failure is None:
                outcome = "sent"
                note.status = SENT
                note.sent_at = now
                note.external_id = external_id or None
                stats.count_sent(channel_name)
            elif isinstance(failure, RetryAfter):
                outcome = "throttled"
                note.next_attempt_at = now + timedelta(seconds=failure.seconds)
                stats.retried += 1
                stats.waited += failure.seconds
            elif isinstance(failure, Unreachable):
                note.status = FAILED
                note.last_error = f"unreachable: {failure}"[:500]
                await mark_unreachable(uow, channel_name, chat_id, now)
                stats.unreachable += 1
                outcome = "unreachable"
            elif isinstance(failure, Rejected):
                outcome = "parked"
                note.attempts += 1
                note.status = PARKED
                note.last_error = f"rejected: {failure}"[:500]
                stats.parked += 1
            else:
                note.attempts += 1
                note.last_error = str(failure)[:500]
                if note.attempts >= self.max_attempts:
                    outcome = "parked"
                    note.status = PARKED
                    stats.parked += 1
                else:
                    note.next_attempt_at = now + timedelta(seconds=backoff(note.attempts))
                    stats.retried += 1
            uow.count_after_commit("send", channel=channel_name, outcome=outcome)
            await uow.commit()

    async def drain(
        self, only_chats: set[tuple[str, str]] | None = None, limit: int = 500
    ) -> SendStats:
        """Send everything that is due now (one pass, one message at a time)."""
        stats = SendStats()
        for note_id in await self.due_ids(limit):
            await self.send_one(note_id, stats, only_chats)
        return stats


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: 1, 2, 4 ... at most 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


async def mark_unreachable(uow: UnitOfWork, channel: str, chat_id: str, now: datetime) -> None:
    """The person blocked the bot: no more sends to this chat until they write again."""
    await uow.session.execute(
        update(ChannelAccount)
        .where(ChannelAccount.channel == channel, ChannelAccount.chat_id == chat_id)
        .values(unreachable_at=now)
    )


async def counts(db: Database) -> dict[tuple[str, str], int]:
    """(channel, status) -> count, for the operator view."""
    async with db.reader() as uow:
        rows = await uow.session.execute(
            select(Notification.channel, Notification.status, func.count()).group_by(
                Notification.channel, Notification.status
            )
        )
        return {(channel or "-", status): n for channel, status, n in rows.all()}
