"""Buying the monthly Sozialticket pass after approval."""

from __future__ import annotations

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from services.cases import transit
from services.cases.rules import rules

router = Router("transit")


@router.action("transit.buy")
async def buy(ctx: Ctx, ref: str) -> None:
    if ctx.env.payments is None:
        ctx.say(
            ctx.t(
                "Paying in the chat is not available yet. Please pay the pass at the "
                "Bürgerbüro; your approval stays valid."
            ),
            [back_to_menu(ctx)],
        )
        return
    payment, month = await transit.start_purchase(ctx.uow, ctx.env, ctx.citizen_id, ref, ctx.now)
    text = ctx.t(
        "The Deutschlandticket Sozial for {month} costs {price}. After paying you find "
        "it in your wallet.",
        month=transit.month_label(month),
        price=ctx.money(rules(ctx.city).transit_price_cents),
    )
    offer_checkout(ctx, payment, text, [back_to_menu(ctx)])
