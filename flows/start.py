"""Start, menu, help, cancel and language: available in every chat, on every channel."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import show_main_menu
from flows.registry import REGISTRY, Router
from flows.types import Button
from services.i18n import N_
from services.identity import accounts as identity

router = Router("start")
router.add_keywords(
    "menu.main", ["menu", "menü", "hauptmenü", "start", "hallo", "hello", "hi", "moin"]
)
router.add_keywords("help.show", ["help", "hilfe", "?"])
router.add_keywords("language.choose", ["sprache", "language"])
router.add_keywords("language.set", ["english", "englisch"], "en")
router.add_keywords("language.set", ["deutsch", "german"], "de")
router.menu(N_("Language / Sprache"), "language.choose", order=900)


@router.command("start", help=N_("welcome and main menu"))
async def start(ctx: Ctx, args: str) -> None:
    name = ctx.citizen.first_name or ctx.inbound.display_name
    greeting = (
        ctx.t(
            "Hello {name}, welcome to Stadtlotse, the digital city guide of {city}.",
            name=name,
            city=ctx.city.name,
        )
        if name
        else ctx.t(
            "Hello, welcome to Stadtlotse, the digital city guide of {city}.", city=ctx.city.name
        )
    )
    ctx.say(
        greeting
        + "\n"
        + ctx.t(
            "Choose from the menu, or just tell me what you need, "
            'for example "voucher" or "dog tax".'
        )
    )
    show_main_menu(ctx)


@router.command("menu", help=N_("show the main menu"))
async def menu_command(ctx: Ctx, args: str) -> None:
    show_main_menu(ctx)


@router.action("menu.main")
async def menu_action(ctx: Ctx, arg: str) -> None:
    show_main_menu(ctx)


@router.command("help", help=N_("what I can do"))
async def help_command(ctx: Ctx, args: str) -> None:
    await show_help(ctx, args)


@router.action("help.show")
async def show_help(ctx: Ctx, arg: str) -> None:
    lines = [
        ctx.t("I am Stadtlotse, the digital city guide of {city}. Commands:", city=ctx.city.name)
    ]
    for command, description in REGISTRY.help_lines():
        lines.append(f"/{command} – {ctx.t(description)}")
    lines.append(
        ctx.t(
            "You can always type a number or the name of an option, or words like "
            '"voucher", "wallet", "dog tax" or "lost and found".'
        )
    )
    show_main_menu(ctx, "\n".join(lines))


@router.command("cancel", help=N_("stop what you are doing"))
async def cancel(ctx: Ctx, args: str) -> None:
    had_step = bool(ctx.step) or bool(ctx.data)
    ctx.done()
    show_main_menu(
        ctx,
        ctx.t("Cancelled. Nothing more was changed.")
        if had_step
        else ctx.t("There was nothing to cancel."),
    )


@router.command("language", "sprache", help=N_("choose Deutsch or English"))
async def language_command(ctx: Ctx, args: str) -> None:
    if args.strip():
        await set_language(ctx, args.strip().lower()[:2])
        return
    await choose_language(ctx, "")


@router.action("language.choose")
async def choose_language(ctx: Ctx, arg: str) -> None:
    ctx.say(
        ctx.t("Which language would you like?"),
        [
            Button("Deutsch", "language.set", "de"),
            Button("English", "language.set", "en"),
        ],
    )


@router.action("language.set")
async def set_language(ctx: Ctx, arg: str) -> None:
    identity.set_language(ctx.citizen, arg)
    show_main_menu(
        ctx,
        ctx.t("I will speak English with you from now on.")
        if arg == "en"
        else ctx.t("I will speak German with you from now on."),
    )
