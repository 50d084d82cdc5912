"""The auction's jobs: the daily step after midnight, and lapsing unpaid reservations."""

from __future__ import annotations

from datetime import datetime

from scheduler.jobs import Job, Trigger, daily, every, register
from services.auction import buying as auction_buy
from services.auction import daily as auction_day
from services.auction import wishes as auction_wishes
from services.auction.items import rules
from services.city import City
from services.env import Env
from storage.uow import UnitOfWork


async def daily_step(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return await auction_day.daily_step(uow, env.city, now)


async def expire_reservations(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return f"{await auction_wishes.expire_reservations(uow, env.city, now)} reservations lapsed"


async def refund_late(uow: UnitOfWork, env: Env, now: datetime) -> object:
    if env.payments is None:
        return "no payment provider wired"
    refunded = await auction_buy.refund_late_payments(uow, env, now)
    return f"{refunded} late payments refunded"


def after_midnight(city: City) -> Trigger:
    at = rules(city).step_time()
    return daily(at.hour, at.minute)


register(
    Job(
        "auction.daily",
        after_midnight,
        daily_step,
        "auction: prices, wish awards, deal alerts, items that end",
    )
)
register(
    Job("auction.reservations", every(1), expire_reservations, "auction: unpaid reservations lapse")
)
register(
    Job(
        "auction.late_refunds",
        every(10),
        refund_late,
        "auction: refund payments that came after the reservation lapsed",
    )
)
