"""Buying the monthly Sozialticket pass after approval."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from services.cases import transit
from services.cases.rules import rules
from services.errors import NotFound
from services.payments import lifecycle as payments
from storage.models.payments import PAID, Payment

router = Router("transit")


@router.action("transit.buy")
async def buy(ctx: Ctx, ref: str) -> None:
    provider = ctx.env.payments
    if provider is None:
        ctx.say(
            ctx.t(
                "Paying in the chat is not available yet. Please pay the pass at the "
                "Bürgerbüro; your approval stays valid."
            ),
            [back_to_menu(ctx)],
        )
        return
    payment, month = await transit.start_purchase(
        ctx.uow, ctx.city, provider, ctx.citizen_id, ref, ctx.now
    )
    buttons = [ctx.button("Pay now", url=payment.checkout_url or "")]
    if getattr(provider, "demo", False):
        buttons.append(ctx.button("Pay (demo)", "transit.demo_pay", str(payment.id)))
    buttons.append(back_to_menu(ctx))
    ctx.say(
        ctx.t(
            "The Deutschlandticket Sozial for {month} costs {price}. After paying you find "
            "it in your wallet.",
            month=transit.month_label(month),
            price=ctx.money(rules(ctx.city).transit_price_cents),
        ),
        buttons,
    )


@router.action("transit.demo_pay")
async def demo_pay(ctx: Ctx, arg: str) -> None:
    provider = ctx.env.payments
    payment = await ctx.uow.session.get(Payment, int(arg)) if arg.isdigit() else None
    if (
        provider is None
        or not getattr(provider, "demo", False)
        or payment is None
        or payment.citizen_id != ctx.citizen_id
        or payment.purpose != "transit"
    ):
        raise NotFound("This payment is unknown.")
    if not await payments.settle(ctx.uow, ctx.env, payment.id or 0, PAID, ctx.now):
        ctx.say(ctx.t("This payment was already made."), [back_to_menu(ctx)])
        return
    ctx.say(ctx.t("Paid (demo). Your pass is in your wallet."), [back_to_menu(ctx)])
