"""Checkouts nobody finished expire. Registered only once services.payments.lifecycle has expire_due
(added with the wallet capability)."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import Job, every, register
from services.city import City
from services.payments import lifecycle as payments
from storage.uow import UnitOfWork


async def expire_payments(uow: UnitOfWork, now: datetime, city: City) -> object:
    return await payments.expire_due(uow, now)  # type: ignore[attr-defined]


if hasattr(payments, "expire_due"):
    register(Job("payments.expire", every(5), expire_payments, "payments: open checkouts expire"))
