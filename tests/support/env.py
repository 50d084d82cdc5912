"""An Env for service tests that call payment hooks or use cases directly."""

from __future__ import annotations

from datetime import UTC, datetime

from services.city import City, load_city
from services.clock import Clock, FrozenClock
from services.env import Env
from services.payments.provider import PaymentProvider

_CITY = load_city()


def env_with(
    payments: PaymentProvider | None = None, *, city: City | None = None, clock: Clock | None = None
) -> Env:
    return Env(
        city or _CITY,
        clock or FrozenClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        payments=payments,
    )
