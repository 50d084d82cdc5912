"""City vouchers: expiry at the end of their validity, reminders before it."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import Job, daily, register
from services.env import Env
from services.wallet import vouchers
from storage.uow import UnitOfWork


async def expire(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return f"{await vouchers.expire_vouchers(uow, now, env.city)} vouchers expired"


async def remind(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return f"{await vouchers.remind_expiring(uow, now, env.city)} reminders written"


register(Job("vouchers.expire", daily(0, 20), expire, "vouchers: expire at the end of validity"))
register(Job("vouchers.remind", daily(9, 0), remind, "vouchers: remind before expiry"))
