"""The rate-limited outbox sender of `stadtlotse run`.

Notifications are claimed in batches (status `sending`, rendered in the recipient's language),
sent concurrently within each channel's limits (bot/sender/ratelimit.py) — one message at a time per
chat, in order — and their results written back in small batches. What a dead sender left in
`sending` is sent again when the next one starts: only those few can reach someone twice.

Retries: a 429 pauses the channel for `retry_after` and the message goes again; network errors
retry with exponential backoff (the channel pauses when many fail in a row); a blocked chat
marks the account unreachable and fails what was queued for it; a refused message, or one that
failed `max_attempts` times, is parked for operators (`stadtlotse outbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from bot.channel import Channel, DeliveryError, Rejected, RetryAfter, Unreachable
from bot.sender.outbox import (
    STAFF_LANGUAGE,
    OutboxSender,
    SendStats,
    backoff,
    mark_unreachable,
    render,
)
from bot.sender.ratelimit import RateLimiter
from flows.types import Reply
from services.city import City
from services.notify import room_language
from storage.db import Database
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import FAILED, PARKED, PENDING, SENT, Notification
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)

SENDING = "sending"
LOCK_KEY = 7_212_001  # PostgreSQL advisory lock: one sender among replicas
TRIP_AFTER = 5  # network failures in a row that pause the whole channel


class Timer(Protocol):
    def monotonic(self) -> float: ...

    async def wait(self, event: asyncio.Event, seconds: float, *, busy: bool) -> None:
        """Return when `event` is set or `seconds` passed. `busy`: sends are in flight
        (a test timer waits for them instead of moving its clock)."""
        ...


class RealTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def wait(self, event: asyncio.Event, seconds: float, *, busy: bool) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(0.0, seconds))


@dataclass
class Item:
    id: int
    channel: str
    chat_id: str
    group: bool
    reply: Reply
    thread: str
    attempts: int
    cost: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.chat_id)


@dataclass
class _Chat:
    items: deque[Item]
    ready_at: float = 0.0
    busy: bool = False
    scheduled: bool = False


class Delivery:
    def __init__(
        self,
        outbox: OutboxSender,
        *,
        until_idle: bool = False,
        timer: Timer | None = None,
        concurrency: int = 16,
        batch: int | None = None,
        poll_interval: float = 0.5,
        flush_interval: float = 0.02,
        flush_size: int = 100,
        lock: bool = True,
        on_progress: Callable[[SendStats], Awaitable[None] | None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.db: Database = outbox.db
        self.channels: dict[str, Channel] = dict(outbox.channels)
        self.until_idle = until_idle
        self.timer = timer or RealTimer()
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.flush_interval = flush_interval
        self.flush_size = flush_size
        self.lock = lock
        self.on_progress = on_progress
        self.stats = SendStats()
        rate = sum(self._rate(name) for name in self.channels) or 1000.0
        self.batch = batch or int(max(20, min(1000, rate)))
        self.low_water = max(concurrency, self.batch // 2)
        self._chats: dict[tuple[str, str], _Chat] = {}
        self._heaps: dict[str, list[tuple[float, int, tuple[str, str]]]] = {
            name: [] for name in self.channels
        }
        self._seq = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._queued = 0
        self._results: list[dict[str, Any]] = []
        self._blocked_chats: list[tuple[str, str]] = []
        self._unreachable: set[tuple[str, str]] = set()
        self._first_result_at: float | None = None
        self._failures_in_row: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._exhausted_at: float | None = None
        self._tidied_at = self.timer.monotonic()

    def _rate(self, name: str) -> float:
        limiter = self._limiter(name)
        rate = limiter.limits.global_per_second if limiter is not None else None
        return float(rate) if rate else 0.0

    def _limiter(self, name: str) -> RateLimiter | None:
        limiter = getattr(self.channels.get(name), "limiter", None)
        return limiter if isinstance(limiter, RateLimiter) else None

    def _now(self) -> datetime:
        return self.outbox._now()

    # ------------------------------------------------------------------ the loop
    async def run(self) -> SendStats:
        async with self._sole_sender():
            self.stats.recovered = await recover(self.db)
            if self.stats.recovered:
                log.warning(
                    "%d notifications were in flight when the last sender stopped: sent again "
                    "(they may arrive twice)",
                    self.stats.recovered,
                )
            try:
                await self._loop()
            finally:
                await self._shutdown()
        return self.stats

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # a send finishing from here on wakes the wait below
            now = self.timer.monotonic()
            if self._queued < self.low_water and (
                self._exhausted_at is None or (self._poll_due(now) and self._may_poll())
            ):
                claimed, seen = await self._claim(self.batch)
                self._exhausted_at = None if seen >= self.batch else now
                for item in claimed:
                    self._enqueue(item)
                now = self.timer.monotonic()
            next_at = self._dispatch(now)
            if now - self._tidied_at > 30:  # full buckets of idle chats carry no information
                self._tidied_at = now
                for name in self.channels:
                    limiter = self._limiter(name)
                    if limiter is not None:
                        limiter.forget_idle()
            if self._results and (
                len(self._results) >= self.flush_size
                or not self._inflight
                or now - (self._first_result_at or now) >= self.flush_interval
            ):
                await self._flush()
            if (
                self.until_idle
                and self._exhausted_at is not None
                and not self._queued
                and not self._inflight
                and not self._results
            ):
                return
            if self._exhausted_at is not None and self._may_poll():
                next_at = min(next_at, self._exhausted_at + self.poll_interval)
            if self._results:
                next_at = min(next_at, (self._first_result_at or now) + self.flush_interval)
            busy = any(not task.done() for task in self._inflight)
            await self.timer.wait(self._wake, max(0.0, next_at - self.timer.monotonic()), busy=busy)

    def _poll_due(self, now: float) -> bool:
        return self._exhausted_at is None or now - self._exhausted_at >= self.poll_interval

    def _may_poll(self) -> bool:
        """Look for new rows; a run `until_idle` looks again only once its queue is empty."""
        return self._queued < self.low_water and (not self.until_idle or self._queued == 0)

    def _enqueue(self, item: Item) -> None:
        chat = self._chats.get(item.key)
        if chat is None:
            chat = self._chats[item.key] = _Chat(deque())
        chat.items.append(item)
        self._queued += 1
        self._schedule(item.key, chat)

    def _schedule(self, key: tuple[str, str], chat: _Chat) -> None:
        if chat.items and not chat.busy and not chat.scheduled:
            chat.scheduled = True
            heapq.heappush(self._heaps[key[0]], (chat.ready_at, next(self._seq), key))
        elif not chat.items and not chat.busy:
            self._chats.pop(key, None)

    def _dispatch(self, now: float) -> float:
        """Start every send the limits allow now; return when to look again."""
        next_at = now + 60.0
        for name, heap in self._heaps.items():
            limiter = self._limiter(name)
            while heap and len(self._inflight) < self.concurrency:
                ready_at, _seq, key = heap[0]
                if ready_at > now:
                    next_at = min(next_at, ready_at)
                    break
                chat = self._chats[key]
                item = chat.items[0]
                if limiter is not None:
                    wait = limiter.global_wait(item.cost)
                    if wait > 0:
                        next_at = min(next_at, now + wait)
                        break
                    wait = limiter.chat_wait(item.chat_id, item.group, item.cost)
                    if wait > 0:
                        heapq.heapreplace(heap, (now + wait, next(self._seq), key))
                        continue
                    limiter.take(item.chat_id, item.group, item.cost)
                heapq.heappop(heap)
                chat.scheduled = False
                chat.busy = True
                task = asyncio.create_task(self._send(item, chat))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
        return next_at

    # ------------------------------------------------------------------ one message
    def _observe(self, channel: str, outcome: str) -> None:
        """stadtlotse_sends_total{channel, outcome} (bot/metrics.py)."""
        self.db.observer.count("send", channel=channel, outcome=outcome)

    async def _send(self, item: Item, chat: _Chat) -> None:
        try:
            channel = self.channels[item.channel]
            external_id = await channel.deliver(item.chat_id, item.reply, thread=item.thread)
        except RetryAfter as wait:
            self.stats.throttled += 1
            self._observe(item.channel, "throttled")
            self.stats.waited += wait.seconds
            limiter = self._limiter(item.channel)
            if limiter is not None:
                limiter.pause(wait.seconds)
            self._retry(item, chat, wait.seconds)
        except Unreachable as error:
            self._unreachable.add(item.key)
            self._blocked_chats.append(item.key)
            self.stats.unreachable += 1
            self._observe(item.channel, "unreachable")
            self._finish(item, chat, FAILED, f"unreachable: {error}")
        except Rejected as error:
            item.attempts += 1
            self.stats.parked += 1
            self._observe(item.channel, "parked")
            self._finish(item, chat, PARKED, f"rejected: {error}")
        except DeliveryError as error:
            self._network_failure(item, chat, str(error) or type(error).__name__)
        except Exception as error:  # a bug in a channel must not stop the sender
            log.exception("channel %s failed on notification %s", item.channel, item.id)
            self._network_failure(item, chat, f"{type(error).__name__}: {error}")
        else:
            self._failures_in_row[item.channel] = 0
            self.stats.count_sent(item.channel)
            self._observe(item.channel, "sent")
            self._finish(item, chat, SENT, None, external_id or None)
        finally:
            self._wake.set()

    def _network_failure(self, item: Item, chat: _Chat, error: str) -> None:
        item.attempts += 1
        failures = self._failures_in_row[item.channel] = (
            self._failures_in_row.get(item.channel, 0) + 1
        )
        if item.attempts >= self.outbox.max_attempts:
            self.stats.parked += 1
            self._observe(item.channel, "parked")
            self._finish(item, chat, PARKED, error)
            return
        self.stats.retried += 1
        self._observe(item.channel, "retry")
        delay = backoff(item.attempts) * random.uniform(0.8, 1.2)
        limiter = self._limiter(item.channel)
        if failures >= TRIP_AFTER and limiter is not None:
            limiter.pause(min(60.0, backoff(failures - TRIP_AFTER + 1)))  # the channel is down
        self._record(item, PENDING_IN_MEMORY, error)
        self._retry(item, chat, delay)

    def _retry(self, item: Item, chat: _Chat, delay: float) -> None:
        chat.busy = False
        chat.ready_at = self.timer.monotonic() + delay
        self._schedule(item.key, chat)

    def _finish(
        self,
        item: Item,
        chat: _Chat,
        status: str,
        error: str | None,
        external_id: str | None = None,
    ) -> None:
        chat.items.popleft()
        self._queued -= 1
        chat.busy = False
        chat.ready_at = 0.0
        self._record(item, status, error, external_id)
        if status == FAILED and item.key in self._unreachable:
            while chat.items:  # everything else queued for a blocked chat fails with it
                other = chat.items.popleft()
                self._queued -= 1
                self.stats.unreachable += 1
                self._record(other, FAILED, "unreachable: blocked earlier in this run")
            self._unreachable.discard(item.key)
        self._schedule(item.key, chat)

    def _record(
        self, item: Item, status: str, error: str | None, external_id: str | None = None
    ) -> None:
        now = self._now()
        self._results.append(
            {
                "id": item.id,
                "status": SENDING if status == PENDING_IN_MEMORY else status,
                "attempts": item.attempts,
                "last_error": error[:500] if error else None,
                "sent_at": now if status == SENT else None,
                "external_id": external_id,
            }
        )
        if self._first_result_at is None:
            self._first_result_at = self.timer.monotonic()

    # ------------------------------------------------------------------ database
    async def _flush(self) -> None:
        rows, self._results = self._results, []
        blocked, self._blocked_chats = self._blocked_chats, []
        self._first_result_at = None
        now = self._now()
        async with self.db.uow() as uow:
            await uow.session.execute(update(Notification), rows)
            for channel, chat_id in blocked:
                await mark_unreachable(uow, channel, chat_id, now)
            await uow.commit()
        if self.on_progress is not None:
            result = self.on_progress(self.stats)
            if result is not None:
                await result

    async def _claim(self, limit: int) -> tuple[list[Item], int]:
        """Claim up to `limit` due rows; returns the items to send and how many rows were seen."""
        now = self._now()
        running = list(self.channels)
        async with self.db.uow() as uow:
            query = (
                select(Notification)
                .where(
                    Notification.status == PENDING,
                    Notification.next_attempt_at <= now,
                    or_(Notification.channel.is_(None), Notification.channel.in_(running)),
                )
                .order_by(Notification.id)
                .limit(limit)
            )
            if uow.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            notes = list((await uow.session.execute(query)).scalars())
            if not notes:
                return [], 0
            targets = await resolve_targets(uow, notes, self.outbox.city)
            items: list[Item] = []
            for note in notes:
                target = targets.get(note.id or 0)
                if target is None:
                    note.status = FAILED
                    note.last_error = "no reachable account"
                    self.stats.failed += 1
                    self._observe(note.channel or "none", "failed")
                    continue
                channel_name, chat_id, lang = target
                note.channel, note.chat_id = channel_name, chat_id
                channel = self.channels.get(channel_name)
                if channel is None:
                    continue  # the resident uses a channel not running here: left pending
                reply = await render(uow, note, channel_name, chat_id, lang, now)
                note.status = SENDING
                cost = getattr(channel, "cost", None)
                items.append(
                    Item(
                        id=note.id or 0,
                        channel=channel_name,
                        chat_id=chat_id,
                        group=chat_id.startswith("-") or note.department is not None,
                        reply=reply,
                        thread=note.thread or "",
                        attempts=note.attempts,
                        cost=int(cost(reply)) if callable(cost) else 1,
                    )
                )
            await uow.commit()
        return items, len(notes)

    async def _shutdown(self) -> None:
        """Cancelled or done: let sends in flight finish, write results, hand back the rest."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=10)
        with contextlib.suppress(Exception):
            if self._results:
                await asyncio.shield(self._flush())
            waiting = [item.id for chat in self._chats.values() for item in chat.items]
            if waiting:
                async with self.db.uow() as uow:
                    await uow.session.execute(
                        update(Notification)
                        .where(col(Notification.id).in_(waiting), Notification.status == SENDING)
                        .values(status=PENDING)
                    )
                    await asyncio.shield(uow.commit())

    @contextlib.asynccontextmanager
    async def _sole_sender(self) -> AsyncIterator[None]:
        """On PostgreSQL, one replica sends (advisory lock); the others wait their turn."""
        if not self.lock or self.db.is_sqlite:
            yield
            return
        async with self.db.engine.connect() as conn:
            while not await _try_lock(conn):
                log.info("another replica is sending notifications; waiting")
                await asyncio.sleep(5)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_KEY})"))


PENDING_IN_MEMORY = "retry"  # failed once, tried again by this sender: stays `sending` in the DB


async def _try_lock(conn: AsyncConnection) -> bool:
    result = await conn.execute(text(f"SELECT pg_try_advisory_lock({LOCK_KEY})"))
    await conn.commit()
    return bool(result.scalar())


async def recover(db: Database) -> int:
    """Rows a dead sender had claimed go back to the queue; returns how many."""
    async with db.uow() as uow:
        result = await uow.session.execute(
            update(Notification).where(Notification.status == SENDING).values(status=PENDING)
        )
        await uow.commit()
    return rows_changed(result)


async def resolve_targets(
    uow: UnitOfWork, notes: list[Notification], city: City | None = None
) -> dict[int, tuple[str, str, str] | None]:
    """(channel, chat_id, language) per notification, for a whole batch in two queries."""
    citizen_ids = {n.citizen_id for n in notes if n.citizen_id is not None and not n.department}
    citizens: dict[int, Citizen] = {}
    accounts: dict[int, list[ChannelAccount]] = {}
    if citizen_ids:
        for known in (
            await uow.session.execute(select(Citizen).where(col(Citizen.id).in_(citizen_ids)))
        ).scalars():
            citizens[known.id or 0] = known
        for account in (
            await uow.session.execute(
                select(ChannelAccount)
                .where(
                    col(ChannelAccount.citizen_id).in_(citizen_ids),
                    ChannelAccount.unreachable_at.is_(None),
                )
                .order_by(ChannelAccount.id.desc())
            )
        ).scalars():
            accounts.setdefault(account.citizen_id, []).append(account)
    targets: dict[int, tuple[str, str, str] | None] = {}
    for note in notes:
        if note.department:
            lang = room_language(city, note.department) if city else STAFF_LANGUAGE
            targets[note.id or 0] = (note.channel or "", note.chat_id or "", lang)
            continue
        citizen = citizens.get(note.citizen_id or 0)
        if citizen is None or citizen.deleted_at is not None:
            targets[note.id or 0] = None
            continue
        own = accounts.get(citizen.id or 0, [])
        wanted = note.channel or citizen.notify_channel
        chosen = next((a for a in own if a.channel == wanted), None) or next(iter(own), None)
        targets[note.id or 0] = (
            (chosen.channel, chosen.chat_id, citizen.language)
            if chosen is not None and chosen.chat_id
            else None
        )
    return targets
