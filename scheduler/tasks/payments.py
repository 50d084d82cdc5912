"""Checkouts nobody finished expire (the purpose releases what it held)."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import Job, every, register
from services.env import Env
from services.payments import lifecycle as payments
from storage.uow import UnitOfWork


async def expire_payments(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return await payments.expire_due(uow, env, now)


register(Job("payments.expire", every(5), expire_payments, "payments: open checkouts expire"))
