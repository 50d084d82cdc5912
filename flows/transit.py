"""Buying the monthly Sozialticket pass after approval."""

from __future__ import annotations

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.cases import transit
from services.cases.rules import rules
from services.i18n import N_

router = Router("transit")
MONTH_LABELS = (N_("This month ({month})"), N_("Next month ({month})"))


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
    if ctx.env.payments is None:
        await buy(ctx, ref)
        return
    await _checkout(ctx, ref, month)


async def _checkout(ctx: Ctx, ref: str, month: str) -> None:
    payment, month = await transit.start_purchase(
        ctx.uow, ctx.env, ctx.citizen_id, ref, ctx.now, month
    )
    text = ctx.t(
        "The Deutschlandticket Sozial for {month} costs {price}. After paying you find "
        "it in your wallet.",
        month=transit.month_label(month),
        price=ctx.money(rules(ctx.city).transit_price_cents),
    )
    offer_checkout(ctx, payment, text, [back_to_menu(ctx)])
