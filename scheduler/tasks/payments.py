"""Payments: open checkouts expire (the purpose releases what it held); refunds that were
booked but could not be sent are sent again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from scheduler.jobs import Job, every, register
from services.env import Env
from services.payments import lifecycle as payments
from services.payments import provider_calls
from storage.models.payments import Payment
from storage.uow import UnitOfWork


async def expire_payments(uow: UnitOfWork, env: Env, now: datetime) -> object:
    return await payments.expire_due(uow, env, now)


async def send_refunds(uow: UnitOfWork, env: Env, now: datetime) -> object:
    """The provider is asked after this job's transaction, never inside it."""
    unsent = await uow.session.execute(
        select(func.count()).where(col(Payment.refund_sent_cents) < col(Payment.refunded_cents))
    )
    due = int(unsent.scalar_one())
    if due:
        uow.after_transaction(lambda: provider_calls.send_refunds(uow.fresh, env))
    return f"{due} refunds to send"


register(Job("payments.expire", every(5), expire_payments, "payments: open checkouts expire"))
register(Job("payments.refunds", every(5), send_refunds, "payments: send refunds not yet sent"))
