"""The checkout a resident sees in the chat, the same for every purpose (voucher, event ticket,
auction item, transit pass): the open payment, paying it right in the chat when the provider is
the demo provider, and cancelling it. What a payment buys happens in its purpose's hooks
(`on_paid`, `on_failed`, see services/payments/lifecycle.py), never here."""

from __future__ import annotations

from datetime import datetime

from services.env import Env
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.payments import lifecycle
from storage.models.payments import CANCELLED, CREATED, EXPIRED, PAID
from storage.models.payments import Payment as Payment
from storage.uow import UnitOfWork

STATUS_MESSAGES = {
    PAID: N_("This payment is already paid."),
    CANCELLED: N_("This payment was cancelled. Nothing was charged."),
    EXPIRED: N_("This payment link has expired. Nothing was charged."),
}


def is_demo(env: Env) -> bool:
    return env.payments is not None and env.payments.demo


async def open_payment(uow: UnitOfWork, payment_id: int | None, now: datetime) -> Payment | None:
    """The payment if it can still be paid (created, not expired), else None."""
    payment = await uow.session.get(Payment, payment_id) if payment_id else None
    if payment is None or payment.status != CREATED or payment.expires_at <= now:
        return None
    return payment


async def own_payment(
    uow: UnitOfWork, env: Env, citizen_id: int, payment_id: int, now: datetime
) -> Payment:
    """The resident's payment, with a checkout that ran out marked expired on the way (its
    purpose then releases what it held)."""
    payment = await uow.session.get(Payment, payment_id)
    if payment is None or payment.citizen_id != citizen_id:
        raise NotFound("This payment is unknown.")
    if payment.status == CREATED and payment.expires_at <= now:
        await lifecycle.settle(uow, env, payment_id, EXPIRED, now)
        await uow.session.refresh(payment)
    return payment


async def pay_here(
    uow: UnitOfWork, env: Env, citizen_id: int, payment_id: int, now: datetime
) -> Payment:
    """ "Pay (demo)" in the chat: settles the payment as paid. Only with the demo provider, and
    only for a payment made with it."""
    if not is_demo(env):
        raise NotAllowed("Please pay on the payment page.")
    payment = await own_payment(uow, env, citizen_id, payment_id, now)
    assert env.payments is not None
    if payment.provider != env.payments.name:
        raise Conflict("This payment cannot be paid here.")
    if payment.status != CREATED or not await lifecycle.settle(uow, env, payment_id, PAID, now):
        await uow.session.refresh(payment)
        raise _status_error(payment, N_("This payment cannot be paid here."))
    await uow.session.refresh(payment)
    return payment


async def cancel(
    uow: UnitOfWork, env: Env, citizen_id: int, payment_id: int, now: datetime
) -> Payment:
    """The resident does not want to pay after all: the purpose releases what it held."""
    payment = await own_payment(uow, env, citizen_id, payment_id, now)
    if payment.status == PAID:
        raise Conflict(
            "This payment is already paid and cannot be cancelled. An unused voucher can be "
            "refunded in its details."
        )
    if not await lifecycle.settle(uow, env, payment_id, CANCELLED, now):
        raise _status_error(payment, N_("This payment cannot be cancelled."))
    await uow.session.refresh(payment)
    return payment


def _status_error(payment: Payment, fallback: str) -> DomainError:
    """Why the payment cannot be paid or cancelled; a checkout found expired stays expired."""
    return Conflict(STATUS_MESSAGES.get(payment.status, fallback)).keeping_changes()
