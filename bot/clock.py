"""The real clock, or the time machine when STADTLOTSE_NOW is set."""

from __future__ import annotations

from datetime import UTC, datetime

from services.clock import Clock, FrozenClock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def make_clock(frozen_at: datetime | None) -> Clock:
    return FrozenClock(frozen_at) if frozen_at is not None else SystemClock()
