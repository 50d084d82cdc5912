"""Send limits of a chat channel as token buckets: the bot overall, each private chat, each group.

The limiter never sleeps; it says how long to wait (`wait`) and books a send (`take`). The clock
is a parameter (monotonic seconds), so tests move time by hand. A 429 from the channel pauses the
whole channel (`pause`): Telegram's `retry_after` is the only hint how long its flood control
lasts, and sending on regardless only extends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class Limits:
    """Messages per second overall, per private chat, per minute per group; bursts in messages.

    The bursts are kept small on purpose: a smooth stream stays inside the server's buckets even
    when both sides run at the same nominal rate."""

    global_per_second: float | None = 30.0
    private_per_second: float | None = 1.0
    group_per_minute: float | None = 20.0
    global_burst: float | None = None  # default: 1/20 of a second's worth, at least 1
    private_burst: float = 1.0
    group_burst: float = 3.0

    @classmethod
    def unlimited(cls) -> Limits:
        return cls(None, None, None)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_second)
            self.stamp = now

    def wait(self, now: float, cost: float) -> float:
        self.refill(now)
        missing = min(cost, self.capacity) - self.tokens
        return 0.0 if missing <= 1e-9 else missing / self.per_second


class RateLimiter:
    """Token buckets for one channel. Keys are chat ids; `group` says which limit applies."""

    def __init__(self, limits: Limits, clock: Monotonic = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._global: _Bucket | None = None
        if limits.global_per_second:
            burst = limits.global_burst or max(1.0, limits.global_per_second / 20)
            self._global = _Bucket(burst, limits.global_per_second, burst, clock())
        self._chats: dict[str, _Bucket] = {}
        self._paused_until = 0.0
        self._chat_paused: dict[str, float] = {}

    def _chat(self, chat_id: str, group: bool, now: float) -> _Bucket | None:
        bucket = self._chats.get(chat_id)
        if bucket is not None:
            return bucket
        lim = self.limits
        if group and lim.group_per_minute:
            bucket = _Bucket(lim.group_burst, lim.group_per_minute / 60, lim.group_burst, now)
        elif not group and lim.private_per_second:
            bucket = _Bucket(lim.private_burst, lim.private_per_second, lim.private_burst, now)
        else:
            return None
        self._chats[chat_id] = bucket
        return bucket

    def global_wait(self, cost: float = 1.0) -> float:
        """Seconds until the channel as a whole may send `cost` messages."""
        now = self.clock()
        wait = max(0.0, self._paused_until - now)
        if self._global is not None:
            wait = max(wait, self._global.wait(now, cost))
        return wait

    def chat_wait(self, chat_id: str, group: bool, cost: float = 1.0) -> float:
        """Seconds until this chat may receive `cost` messages (ignoring the global limit)."""
        now = self.clock()
        wait = max(0.0, self._chat_paused.get(chat_id, 0.0) - now)
        bucket = self._chat(chat_id, group, now)
        if bucket is not None:
            wait = max(wait, bucket.wait(now, cost))
        return wait

    def wait(self, chat_id: str, group: bool, cost: float = 1.0) -> float:
        return max(self.global_wait(cost), self.chat_wait(chat_id, group, cost))

    def take(self, chat_id: str, group: bool, cost: float = 1.0) -> None:
        """Book `cost` messages now. Direct answers book without waiting (the buckets may go
        into debt), so queued notifications make room for them."""
        now = self.clock()
        for bucket in (self._global, self._chat(chat_id, group, now)):
            if bucket is not None:
                bucket.refill(now)
                bucket.tokens -= cost

    def pause(self, seconds: float, chat_id: str | None = None) -> None:
        """The channel answered 429: nothing goes out for `seconds` (to this chat, or at all)."""
        until = self.clock() + seconds
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._chat_paused[chat_id] = max(self._chat_paused.get(chat_id, 0.0), until)

    def forget_idle(self) -> None:
        """Drop full chat buckets (they hold no information), so memory stays bounded."""
        now = self.clock()
        for bucket in self._chats.values():
            bucket.refill(now)
        self._chats = {c: b for c, b in self._chats.items() if b.tokens < b.capacity}
        self._chat_paused = {c: t for c, t in self._chat_paused.items() if t > now}
