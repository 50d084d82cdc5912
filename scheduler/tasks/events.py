"""Events: reminders the day before, lapsed holds, refunds for payments that came too late."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import CONTEXT, Job, daily, every, register
from services.city import City
from services.events import booking as events
from services.events import tickets as event_tickets
from storage.uow import UnitOfWork


async def remind(uow: UnitOfWork, now: datetime, city: City) -> object:
    return f"{await event_tickets.remind_upcoming(uow, now, tz=city.tz)} reminders written"


async def release(uow: UnitOfWork, now: datetime, city: City) -> object:
    return f"{await events.release_lapsed(uow, now)} holds released"


async def refund_late(uow: UnitOfWork, now: datetime, city: City) -> object:
    deps = CONTEXT.get("deps")
    provider = getattr(deps, "payments", None)
    if provider is None:
        return "no payment provider wired"
    return f"{await event_tickets.refund_late_payments(uow, provider, now)} late payments refunded"


register(Job("events.remind", daily(10, 0), remind, "events: remind ticket holders the day before"))
register(Job("events.holds", every(5), release, "events: unpaid holds release their places"))
register(
    Job("events.late_refunds", every(10), refund_late, "events: refund payments that came too late")
)
