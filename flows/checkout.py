"""Paying in chat, the same for every purpose: what is bought (the purpose's text), the amount
and until when the link is valid, the payment page, and with the demo provider "Pay (demo)" /
"Cancel (demo)" right in the chat, so a piped console demo can pay.

    offer_checkout(ctx, payment, ctx.t("Your city voucher worth {value} ...", ...))

What a payment buys happens in its purpose's hooks (services/payments/lifecycle.py), which also
tell the resident through the outbox; the chat answers here only say paid or cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.numbers import id_or_zero
from services.payments import checkout
from services.payments.checkout import Payment

router = Router("payments")


def offer_checkout(ctx: Ctx, payment: Payment, text: str, buttons: Sequence[Button] = ()) -> None:
    """Say `text` with the payment link (valid until the payment expires), the pay and cancel
    choices, and then `buttons` (e.g. back to what is being bought)."""
    assert payment.id is not None
    lines = [
        text,
        ctx.t(
            "Please pay {amount} here (the link is valid until {until}):",
            amount=ctx.money(payment.amount_cents),
            until=ctx.datetime(payment.expires_at),
        ),
    ]
    choices: list[Button] = [Button(ctx.t("Pay now"), url=payment.checkout_url or "")]
    if checkout.is_demo(ctx.env):
        lines.append(
            ctx.t("DEMO: no money moves. You can also pay or cancel right here in the chat.")
        )
        choices += [
            ctx.button("Pay (demo)", "pay.demo", str(payment.id)),
            ctx.button("Cancel (demo)", "pay.cancel", str(payment.id)),
        ]
    else:
        choices.append(ctx.button("Cancel", "pay.cancel", str(payment.id)))
    ctx.say("\n".join(lines), [*choices, *buttons])


def _payment_id(arg: str) -> int:
    return id_or_zero(arg)


@router.action("pay.demo")
async def pay_demo(ctx: Ctx, arg: str) -> None:
    await checkout.pay_here(ctx.uow, ctx.env, ctx.citizen_id, _payment_id(arg), ctx.now)
    ctx.say(
        ctx.t("Paid (demo – no money moved). Thank you!"),
        [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)],
    )


@router.action("pay.cancel")
async def pay_cancel(ctx: Ctx, arg: str) -> None:
    await checkout.cancel(ctx.uow, ctx.env, ctx.citizen_id, _payment_id(arg), ctx.now)
    ctx.say(ctx.t("Cancelled. Nothing was charged."), [back_to_menu(ctx)])
