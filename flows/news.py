"""News and offers from the town: residents switch them on and off (/news, a keyword, the
profile, and the Unsubscribe button under every campaign message, whose action is `news.off`)."""

from __future__ import annotations

from flows.context import Ctx
from flows.identity import profile_entry
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.campaigns import news
from services.i18n import N_

router = Router("news")
router.add_keywords("news.show", ["angebote", "newsletter", "news", "neuigkeiten"])


def _news_text(ctx: Ctx, on: bool) -> str:
    lines = [
        ctx.t(
            "News and offers from {city}: with this switched on, the town's marketing may send "
            "you news and offers in this chat now and then – for example vouchers to claim at "
            "events and in the seasons. We use nothing but your chat for it, and you can switch "
            "it off at any time.",
            city=ctx.city.name,
        ),
        ctx.t("Currently: on.") if on else ctx.t("Currently: off."),
    ]
    return "\n\n".join(lines)


@router.command("news", "angebote", help=N_("news and offers from the town: on or off"))
async def news_command(ctx: Ctx, args: str) -> None:
    word = args.strip().casefold()
    if word in ("on", "an", "ein", "ja", "yes"):
        await news_on(ctx, "command")
    elif word in ("off", "aus", "nein", "no", "stop"):
        await news_off(ctx, "command")
    else:
        await show_news(ctx, "")


@router.action("news.show")
async def show_news(ctx: Ctx, arg: str) -> None:
    on = await news.opted_in(ctx.uow, ctx.citizen_id)
    toggle = (
        ctx.button("Switch off", "news.off", "menu")
        if on
        else ctx.button("Yes, send me news and offers", "news.on", "menu")
    )
    ctx.say(
        _news_text(ctx, on),
        [toggle, ctx.button("My profile", "profile.show"), back_to_menu(ctx)],
    )


@router.action("news.on")
async def news_on(ctx: Ctx, via: str) -> None:
    await news.set_consent(ctx.uow, ctx.citizen_id, True, now=ctx.now, via=_via(via))
    ctx.say(
        ctx.t(
            "Thank you! You will now get news and offers from {city}. "
            "Switch it off at any time with /news.",
            city=ctx.city.name,
        ),
        [ctx.button("My profile", "profile.show"), back_to_menu(ctx)],
    )


@router.action("news.off")
async def news_off(ctx: Ctx, via: str) -> None:
    """Also the "Unsubscribe" button under every campaign message."""
    await news.set_consent(ctx.uow, ctx.citizen_id, False, now=ctx.now, via=_via(via))
    ctx.say(
        ctx.t(
            "Done: you get no more news and offers from {city}. Vouchers you already "
            "claimed stay in your wallet. Switch it on again at any time with /news.",
            city=ctx.city.name,
        ),
        [ctx.button("My profile", "profile.show"), back_to_menu(ctx)],
    )


def _via(arg: str) -> str:
    return arg if arg in ("command", "profile", "button", "menu") else "menu"


@profile_entry
async def _profile_line(ctx: Ctx) -> tuple[str, Button]:
    on = await news.opted_in(ctx.uow, ctx.citizen_id)
    state = ctx.t("on") if on else ctx.t("off")
    return (
        ctx.t("News and offers: {state}", state=state),
        ctx.button("News and offers", "news.show"),
    )
