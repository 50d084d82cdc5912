"""The main menu: entries every capability registers, shown by role."""

from __future__ import annotations

from flows.context import Ctx
from flows.registry import REGISTRY
from flows.types import Button


def main_menu_buttons(ctx: Ctx) -> list[Button]:
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
