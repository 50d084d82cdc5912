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
    ctx.done()
    ctx.say(intro or ctx.t("What would you like to do?"), main_menu_buttons(ctx))


def back_to_menu(ctx: Ctx) -> Button:
    return ctx.button("Main menu", "menu.main")
