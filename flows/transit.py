"""Buying the monthly Sozialticket pass after approval."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.cases import transit
from services.cases.rules import rules
from services.errors import NotFound
from services.i18n import N_
from services.payments import lifecycle as payments
from storage.models.payments import PAID, Payment

router = Router("transit")
MONTH_LABELS = (N_("This month ({month})"), N_("Next month ({month})"))


@router.action("transit.buy")
async def buy(ctx: Ctx, ref: str) -> None:
    provider = ctx.deps.payments
    if provider is None:
        ctx.say(
            ctx.t(
                "Paying in the chat is not available yet. Please pay the pass at the "
                "Bürgerbüro; your approval stays valid."
            ),
            [back_to_menu(ctx)],
        )
        return
    months = await transit.months_to_buy(ctx.uow, ctx.city, ctx.citizen_id, ref, ctx.now)
    if len(months) == 1:
        await _checkout(ctx, ref, months[0])
        return
    ctx.say(
        ctx.t(
            "For which month would you like the Deutschlandticket Sozial? Each costs {price}.",
            price=ctx.money(rules(ctx.city).transit_price_cents),
        ),
        [
            *(
                Button(
                    ctx.t(MONTH_LABELS[n], month=transit.month_label(month)),
                    "transit.buy_month",
                    f"{ref}|{month}",
                )
                for n, month in enumerate(months)
            ),
            back_to_menu(ctx),
        ],
    )


@router.action("transit.buy_month")
async def buy_month(ctx: Ctx, arg: str) -> None:
    ref, _sep, month = arg.partition("|")
    if ctx.deps.payments is None:
        await buy(ctx, ref)
        return
    await _checkout(ctx, ref, month)


async def _checkout(ctx: Ctx, ref: str, month: str) -> None:
    provider = ctx.deps.payments
    assert provider is not None
    payment, month = await transit.start_purchase(
        ctx.uow, ctx.city, provider, ctx.citizen_id, ref, ctx.now, month
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
    provider = ctx.deps.payments
    payment = await ctx.uow.session.get(Payment, int(arg)) if arg.isdigit() else None
    if (
        provider is None
        or not getattr(provider, "demo", False)
        or payment is None
        or payment.citizen_id != ctx.citizen_id
        or payment.purpose != "transit"
    ):
        raise NotFound("This payment is unknown.")
    if not await payments.settle(ctx.uow, payment.id or 0, PAID, ctx.now):
        ctx.say(ctx.t("This payment was already made."), [back_to_menu(ctx)])
        return
    ctx.say(ctx.t("Paid (demo). Your pass is in your wallet."), [back_to_menu(ctx)])
