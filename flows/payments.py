"""Paying in chat: the checkout link, and with the demo provider "Pay (demo)" / "Cancel (demo)"
right in the chat, so a piped console demo can pay."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.i18n import N_
from services.payments import lifecycle as payments
from storage.models.payments import CANCELLED, CREATED, EXPIRED, PAID, Payment

router = Router("payments")

STATUS_MESSAGES = {
    PAID: N_("This payment is already paid."),
    CANCELLED: N_("This payment was cancelled. Nothing was charged."),
    EXPIRED: N_("This payment link has expired. Nothing was charged."),
}


def is_demo(ctx: Ctx) -> bool:
    return ctx.env.payments is not None and ctx.env.payments.demo


def offer_checkout(ctx: Ctx, payment: Payment, text: str) -> None:
    """Say `text` with the payment link (valid 30 minutes) and, in demo mode, the two choices."""
    assert payment.id is not None
    lines = [
        text,
        ctx.t(
            "Please pay {amount} here (the link is valid until {until}):",
            amount=ctx.money(payment.amount_cents),
            until=ctx.datetime(payment.expires_at),
        ),
    ]
    buttons: list[Button] = [Button(ctx.t("Pay now"), url=payment.checkout_url or "")]
    if is_demo(ctx):
        lines.append(
            ctx.t("DEMO: no money moves. You can also pay or cancel right here in the chat.")
        )
        buttons += [
            ctx.button("Pay (demo)", "pay.demo", str(payment.id)),
            ctx.button("Cancel (demo)", "pay.cancel", str(payment.id)),
        ]
    else:
        buttons.append(ctx.button("Cancel", "pay.cancel", str(payment.id)))
    ctx.say("\n".join(lines), buttons)


async def _own_payment(ctx: Ctx, arg: str) -> Payment | None:
    payment = await ctx.uow.session.get(Payment, int(arg)) if arg.isdigit() else None
    if payment is None or payment.citizen_id != ctx.citizen_id:
        ctx.say(ctx.t("This payment is unknown."), [back_to_menu(ctx)])
        return None
    if payment.status == CREATED and payment.expires_at <= ctx.now:
        await payments.settle(ctx.uow, ctx.env, payment.id or 0, EXPIRED, ctx.now)
        await ctx.uow.session.refresh(payment)
    return payment


@router.action("pay.demo")
async def pay_demo(ctx: Ctx, arg: str) -> None:
    if not is_demo(ctx):
        ctx.say(ctx.t("Please pay on the payment page."), [back_to_menu(ctx)])
        return
    payment = await _own_payment(ctx, arg)
    if payment is None:
        return
    if (
        payment.provider != "demo"
        or payment.status != CREATED
        or not await payments.settle(ctx.uow, ctx.env, payment.id or 0, PAID, ctx.now)
    ):
        ctx.say(ctx.t(STATUS_MESSAGES.get(payment.status, N_("This payment cannot be paid here."))))
        return
    ctx.say(ctx.t("Paid (demo – no money moved). Thank you!"))


@router.action("pay.cancel")
async def pay_cancel(ctx: Ctx, arg: str) -> None:
    payment = await _own_payment(ctx, arg)
    if payment is None:
        return
    if payment.status == PAID:
        ctx.say(
            ctx.t(
                "This payment is already paid and cannot be cancelled. An unused voucher can "
                "be refunded in its details."
            ),
            [ctx.button("Wallet", "wallet.show")],
        )
        return
    if not await payments.settle(ctx.uow, ctx.env, payment.id or 0, CANCELLED, ctx.now):
        ctx.say(ctx.t(STATUS_MESSAGES.get(payment.status, N_("This payment cannot be cancelled."))))
        return
    ctx.say(ctx.t("Cancelled. Nothing was charged."), [back_to_menu(ctx)])
