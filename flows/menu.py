"""The main menu: entries every capability registers, shown by role."""

from __future__ import annotations

from flows.context import Ctx
from flows.registry import REGISTRY
from flows.types import Button
from services import notify


def staff_room(ctx: Ctx) -> str | None:
    """The department whose staff room this chat is (None in a direct chat)."""
    if not ctx.inbound.is_group:
        return None
    return notify.room_department(ctx.city, ctx.inbound.channel, ctx.inbound.chat_id)


def room_menu_buttons(ctx: Ctx, department: str) -> list[Button]:
    """What a staff room offers instead of the resident's main menu."""
    return [
        ctx.button("Open cases", "staff.queue", department),
        ctx.button("Commands", "help.show"),
        ctx.button("Language / Sprache", "language.choose"),
    ]


def main_menu_buttons(ctx: Ctx) -> list[Button]:
    department = staff_room(ctx)
    if department is not None:
        return room_menu_buttons(ctx, department)
    buttons = []
    for entry in REGISTRY.menu_entries():
        if entry.roles and not any(ctx.has_role(role) for role in entry.roles):
            continue
        buttons.append(ctx.button(entry.label, entry.action, entry.arg))
    return buttons


def show_main_menu(ctx: Ctx, intro: str | None = None) -> None:
    """The main menu under `intro` (an apology, "did not understand"); shown again later
    (after an error) it has its plain header, never the intro of back then."""
    ctx.done()
    header = ctx.t("What would you like to do?")
    ctx.say(intro or header, main_menu_buttons(ctx))
    ctx.replies[-1].again = header


def back_to_menu(ctx: Ctx) -> Button:
    return ctx.button("Main menu", "menu.main")
