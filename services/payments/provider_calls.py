"""The only places that talk to the payment provider. Each call happens outside any database
transaction — a provider that hangs holds no row lock and, on SQLite, not the write lock, so
other residents go on — and its result is recorded in a short transaction of its own:

1. read what is to be done (a short transaction),
2. ask the provider (no transaction),
3. record the answer (a short transaction, conditional on nothing having changed meanwhile).

A crash between 2 and 3 is repaired by asking again: providers treat a repeated call for the
same payment as the same request (see services/payments/provider.py). Unsent refunds are
sent again by the `payments.refunds` job; a checkout nobody opened expires
(`payments.expire`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services.env import Env
from services.errors import Conflict
from services.payments.provider import Checkout, ProviderUnavailable, remember_object
from storage.models.payments import CREATED, Payment
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

UnitsOfWork = Callable[[], UnitOfWork]  # opens a fresh unit of work (Database.uow)


async def open_checkout(uows: UnitsOfWork, env: Env, payment_id: int, now: datetime) -> Checkout:
    """The provider's checkout page for an open payment (made the first time the resident
    opens the pay link, the same one after that). Raises ProviderUnavailable when the provider
    cannot be reached, Conflict when the payment is no longer open."""
    provider = env.payments
    async with uows() as uow:
        payment = await uow.session.get(Payment, payment_id)
        if payment is None or payment.status != CREATED or payment.expires_at <= now:
            raise Conflict("This payment link has expired. Nothing was charged.")
        if provider is None or payment.provider != provider.name:
            raise ProviderUnavailable(
                "The payment service cannot be reached right now. Nothing was charged. "
                "Please try again in a few minutes."
            )
        uow.session.expunge(payment)  # a plain value for the provider from here on
    try:
        checkout = await provider.create_checkout(payment)
    except ProviderUnavailable:
        raise
    except Exception as error:  # a provider that fails in its own way: the same answer
        log.warning("checkout for payment %s failed: %s", payment_id, error)
        raise ProviderUnavailable(
            "The payment service cannot be reached right now. Nothing was charged. "
            "Please try again in a few minutes."
        ) from error
    if payment.provider_ref != checkout.provider_ref:
        async with uows() as uow:
            await uow.session.execute(
                update(Payment)
                .where(col(Payment.id) == payment_id, col(Payment.provider_ref).is_(None))
                .values(provider_ref=checkout.provider_ref)
                .execution_options(synchronize_session=False)
            )
            await remember_object(
                uow, provider.name, checkout.provider_ref, "checkout", payment_id, now
            )
            await uow.commit()
    return checkout


async def send_refunds(
    uows: UnitsOfWork, env: Env, payment_ids: Sequence[int] | None = None, limit: int = 100
) -> int:
    """Pay out refunds that were booked but not yet sent (all of them, or those of
    `payment_ids`). Returns how many were sent; one that fails stays for the next run."""
    provider = env.payments
    if provider is None:
        return 0
    async with uows() as uow:
        query = select(Payment).where(
            col(Payment.refund_sent_cents) < col(Payment.refunded_cents),
            col(Payment.provider) == provider.name,
        )
        if payment_ids is not None:
            query = query.where(col(Payment.id).in_(list(payment_ids)))
        due = list((await uow.session.execute(query.order_by(Payment.id).limit(limit))).scalars())
        uow.session.expunge_all()
    sent = 0
    for payment in due:
        amount = payment.refunded_cents - payment.refund_sent_cents
        try:
            refund_ref = await provider.refund(payment, amount)
        except Exception as error:  # unreachable or refused: stays booked, sent again later
            log.warning("refund of payment %s (%s cents) not sent: %s", payment.id, amount, error)
            continue
        assert payment.id is not None
        async with uows() as uow:
            await uow.session.execute(
                update(Payment)
                .where(
                    col(Payment.id) == payment.id,
                    col(Payment.refund_sent_cents) == payment.refund_sent_cents,
                )
                .values(refund_sent_cents=payment.refund_sent_cents + amount)
                .execution_options(synchronize_session=False)
            )
            if refund_ref:
                await remember_object(
                    uow, provider.name, refund_ref, "refund", payment.id, env.now()
                )
            await uow.commit()
        sent += 1
    return sent
