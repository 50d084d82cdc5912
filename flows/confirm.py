"""One confirmation before an irreversible staff or merchant action (handlers/picking.py, rule 4).

The question names the reference and what will happen; "yes" runs the action with its argument,
"no" goes back. A number typed here picks (the answer is yes or no); anything else typed asks
again. Extra `data` stays in the conversation for the action (a typed reason, a question).
"""

from __future__ import annotations

from typing import Any

from flows.context import Ctx
from flows.menu import show_main_menu
from flows.registry import Router
from flows.types import Button

router = Router("confirm")
STEP = "confirm.pending"


def ask_confirmation(
    ctx: Ctx,
    question: str,
    yes: Button,
    no: Button,
    /,
    **data: Any,
) -> None:
    """`question` and the labels are already translated."""
    ctx.ask(
        STEP,
        question,
        [yes, no],
        confirm={
            "question": question,
            "buttons": [[b.label, b.action, b.arg] for b in (yes, no)],
        },
        **data,
    )


@router.step(STEP, free_text=False)
async def typed_instead(ctx: Ctx) -> None:
    pending = ctx.data.get("confirm") or {}
    buttons = [Button(label, action, arg) for label, action, arg in pending.get("buttons", [])]
    if not buttons:  # nothing to confirm any more (an old conversation state)
        show_main_menu(ctx)
        return
    ctx.say(ctx.t("Please answer with one of the options."))
    ctx.ask(STEP, str(pending.get("question", "")), buttons)
