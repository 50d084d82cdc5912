"""Start, menu, help, cancel and language: available in every chat, on every channel."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import show_main_menu, staff_room
from flows.registry import REGISTRY, Router
from flows.types import Button
from services import notify
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
    department = staff_room(ctx)
    if department is not None:
        found = ctx.city.department(department)
        lines = [
            ctx.t(
                "Commands in the room of {department}:",
                department=found.name(ctx.lang) if found else department,
            )
        ]
    else:
        lines = [
            ctx.t(
                "I am Stadtlotse, the digital city guide of {city}. Commands:", city=ctx.city.name
            )
        ]
    for command, description in REGISTRY.help_lines():
        if _for_this_person(ctx, command, in_room=department is not None):
            lines.append(f"/{command} – {ctx.t(description)}")
    if department is not None:
        lines.append(
            ctx.t("For your own requests (vouchers, applications …) write to me in a direct chat.")
        )
    else:
        lines.append(
            ctx.t(
                "You can always type a number or the name of an option, or words like "
                '"voucher", "wallet", "dog tax" or "lost and found".'
            )
        )
    show_main_menu(ctx, "\n".join(lines))


ROOM_BASICS = {"help", "cancel", "language"}


def _for_this_person(ctx: Ctx, command: str, *, in_room: bool) -> bool:
    """/help lists what this person may use here: in a direct chat the resident's commands and
    those of their roles (staff, merchant, organiser, marketing ...); in a staff room the
    basics and the staff's commands."""
    action = REGISTRY.command(command)
    roles = action.roles if action is not None else frozenset()
    mine = any(ctx.has_role(role) for role in roles)
    if in_room:
        return command in ROOM_BASICS or mine
    return not roles or mine


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
    said = (
        ctx.t("I will speak English with you from now on.")
        if arg == "en"
        else ctx.t("I will speak German with you from now on.")
    )
    department = staff_room(ctx)
    found = ctx.city.department(department) if department else None
    if found is not None:
        room_lang = notify.room_language(ctx.city, found.key)
        name = found.name(ctx.lang)
        said += "\n" + (
            ctx.t(
                "Notifications in this room stay in English, as {department} has configured it; "
                "your answers and the details I send you privately are in your language.",
                department=name,
            )
            if room_lang == "en"
            else ctx.t(
                "Notifications in this room stay in German, as {department} has configured it; "
                "your answers and the details I send you privately are in your language.",
                department=name,
            )
        )
    show_main_menu(ctx, said)
