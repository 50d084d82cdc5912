"""Events: reminders the day before, lapsed holds, refunds for payments that came too late."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import Job, daily, every, register
from services.env import Env
from services.events import booking as events
from services.events import tickets as event_tickets
from storage.uow import UnitOfWork


async def remind(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return f"{await event_tickets.remind_upcoming(uow, now, tz=env.city.tz)} reminders written"


async def release(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return f"{await events.release_lapsed(uow, env, now)} holds released"


async def refund_late(uow: UnitOfWork, env: Env, now: datetime) -> object:
    if env.payments is None:
        return "no payment provider wired"
    refunded = await event_tickets.refund_late_payments(uow, env, now)
    return f"{refunded} late payments refunded"


register(Job("events.remind", daily(10, 0), remind, "events: remind ticket holders the day before"))
register(Job("events.holds", every(5), release, "events: unpaid holds release their places"))
register(
    Job("events.late_refunds", every(10), refund_late, "events: refund payments that came too late")
)
