"""Deal alerts in chat: list, start (category, keyword, maximum price), stop."""

from __future__ import annotations

from flows.auction import category_name
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.auction import alerts as auction_alerts
from services.auction import items as auction
from services.auction import keywords
from services.i18n import N_
from services.money import parse_amount
from services.numbers import id_or_zero

router = Router("auction_alerts")
router.add_keywords("auction.alerts", ["schnäppchen", "deal alert", "deal alerts"])


def describe(ctx: Ctx, category: str, keyword: str, max_cents: int) -> str:
    what = category_name(ctx, category) if category else ctx.t("any category")
    if keyword:
        what += f", „{keyword}“"
    return ctx.t("{what}, up to {max}", what=what, max=ctx.money(max_cents))


@router.action("auction.alerts")
async def alerts(ctx: Ctx, arg: str) -> None:
    subs = await auction_alerts.my_subscriptions(ctx.uow, ctx.citizen_id)
    lines = [ctx.t("Deal alerts tell you once per item when its price falls to your limit.")]
    buttons: list[Button] = []
    if subs:
        lines.append(ctx.t("Your alerts:"))
        for sub in subs:
            text = describe(ctx, sub.category, sub.keyword, sub.max_cents)
            lines.append(f"• {text}")
            buttons.append(
                Button(ctx.t("Stop: {alert}", alert=text)[:60], "auction.unsubscribe", str(sub.id))
            )
    else:
        lines.append(ctx.t("You have no deal alerts yet."))
    buttons.append(ctx.button("New deal alert", "auction.alert_new"))
    buttons.append(ctx.button("Back", "auction.home"))
    ctx.say("\n".join(lines), buttons)


@router.action("auction.alert_new")
async def alert_new(ctx: Ctx, arg: str) -> None:
    config = auction.rules(ctx.city)
    if arg and config.category(arg) is not None:
        await _ask_keyword(ctx, arg)
        return
    buttons = [Button(c.name(ctx.lang), "auction.alert_category", c.key) for c in config.categories]
    buttons.append(ctx.button("Any category", "auction.alert_category", "-"))
    buttons.append(ctx.button("Cancel", "auction.alerts"))
    ctx.say(ctx.t("New deal alert: which category?"), buttons)


@router.action("auction.alert_category")
async def alert_category(ctx: Ctx, arg: str) -> None:
    category = "" if arg == "-" else arg
    if category and auction.rules(ctx.city).category(category) is None:
        await alert_new(ctx, "")
        return
    await _ask_keyword(ctx, category)


async def _ask_keyword(ctx: Ctx, category: str) -> None:
    ctx.ask(
        "auction.alert_keyword",
        ctx.t(
            "A keyword the item must mention (e.g. gazelle, iphone, gold)? Type it, or "
            "choose No keyword."
        ),
        [
            ctx.button("No keyword", "auction.alert_nokeyword", category or "-"),
            ctx.button("Cancel", "auction.alerts"),
        ],
        category=category,
    )


@router.step("auction.alert_keyword")
async def alert_keyword(ctx: Ctx) -> None:
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type the keyword as text, or choose No keyword."))
        return
    keyword = keywords.clean_keyword(ctx.inbound.text)
    _ask_max(ctx, str(ctx.data.get("category", "")), keyword)


@router.action("auction.alert_nokeyword")
async def alert_no_keyword(ctx: Ctx, arg: str) -> None:
    _ask_max(ctx, "" if arg == "-" else arg, "")


def _ask_max(ctx: Ctx, category: str, keyword: str) -> None:
    ctx.ask(
        "auction.alert_max",
        ctx.t("Up to which price? Type an amount, e.g. 50,00."),
        [ctx.button("Cancel", "auction.alerts")],
        category=category,
        keyword=keyword,
    )


@router.step("auction.alert_max")
async def alert_max(ctx: Ctx) -> None:
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type the amount as text, for example 45,00."))
        return
    max_cents = parse_amount(ctx.inbound.text)
    category, keyword = str(ctx.data.get("category", "")), str(ctx.data.get("keyword", ""))
    sub, matching = await auction_alerts.subscribe(
        ctx.uow,
        ctx.city,
        ctx.citizen_id,
        category=category,
        keyword=keyword,
        max_cents=max_cents,
        now=ctx.now,
    )
    ctx.done()
    lines = [
        ctx.t(
            "Deal alert on: {alert}. You get one message per item when its price falls that low.",
            alert=describe(ctx, category, keyword, max_cents),
        )
    ]
    buttons = []
    if matching:
        lines.append(ctx.t("Already that cheap now:"))
        day = auction.today(ctx.city, ctx.now)
        for item in matching:
            price = ctx.money(auction.price_for_day(item, day))
            buttons.append(Button(f"{item.title[:40]} – {price}", "auction.item", str(item.id)))
    buttons += [
        ctx.button("Stop this alert", "auction.unsubscribe", str(sub.id)),
        ctx.button("My deal alerts", "auction.alerts"),
        back_to_menu(ctx),
    ]
    ctx.say("\n".join(lines), buttons)


@router.action("auction.unsubscribe")
async def unsubscribe(ctx: Ctx, arg: str) -> None:
    sub = await auction_alerts.unsubscribe(ctx.uow, ctx.citizen_id, id_or_zero(arg))
    ctx.say(
        ctx.t(
            "Deal alert stopped: {alert}.",
            alert=describe(ctx, sub.category, sub.keyword, sub.max_cents),
        ),
        [ctx.button("My deal alerts", "auction.alerts"), back_to_menu(ctx)],
    )


__all__ = ["N_"]
