"""What a typed number or label means: the one rule, here and in docs/conversation.md.

1. A typed number picks from the list that answered the person's own last message (the
   conversation's current menu; of several lists in one answer, the last one is numbered).
   Nothing else is numbered, so nothing else can be picked by a number.
2. A notification's options (a new case in a staff room, a deal alert, a campaign) are chosen by
   its button (Telegram), by answering in its thread or with a reaction (Matrix), or by typing
   the option's label with the reference ("Approve AH-2026-000001"); a label alone works while
   only one recent notification offers it. Never by a bare number typed into the conversation.
3. Where a step's answer can itself be a number (amounts, counts, chip numbers, dates, a chat
   relayed to people), its options are not numbered: they are chosen by label or button, and the
   prompt says so. Where it cannot (names, addresses, codes, yes/no), the number picks.
4. Approve, reject and every other irreversible staff or merchant action ask once for a
   confirmation that names the reference and what will happen (the flows do that).

Typed labels match without case, emoji, punctuation and a trailing "(…)" detail.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from flows.context import Ctx
from flows.registry import Step
from flows.types import Button, Reply
from handlers import menus
from services import i18n
from services.i18n import N_
from services.numbers import parse_int
from storage.models.conversation import Menu

RECENT_NOTICES = 10  # notifications of a chat whose options can still be typed
BUTTON_CHANNELS = frozenset({"telegram"})  # channels with real buttons


def typed_number(text: str) -> int | None:
    """'2' -> 2. Only plain ASCII digits count ('²', '٢' and '2.' are text)."""
    return parse_int(text.strip(), high=999)


@functools.lru_cache(maxsize=4096)  # the same few hundred labels, compared on every input
def label_keys(label: str) -> frozenset[str]:
    """The ways a label can be typed: '💳 Wallet' == 'wallet'; 'Whole balance (25,00 €)' also as
    'whole balance'."""
    keys = {_fold(label)}
    if label.rstrip().endswith(")") and "(" in label:
        keys.add(_fold(label[: label.rindex("(")]))
    return frozenset(key for key in keys if key)


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    return " ".join("".join(ch for ch in text.casefold() if ch.isalnum() or ch == " ").split())


def numbers_pick(step: Step | None, ctx: Ctx) -> bool:
    """Does a typed number pick an option in this step (rule 3)?"""
    return step is None or not step.numbers_are_answers(ctx)


@dataclass
class Pick:
    """What a typed text chose: a button, or nothing; `ambiguous` lists the references that
    would make a notification's label unique."""

    button: Button | None = None
    ambiguous: list[str] = field(default_factory=list)
    label: str = ""


def _actionable(menu: Menu) -> list[Button]:
    return [b for b in menus.rows_to_buttons(menu.buttons) if b.action and not b.url]


def pick(text: str, current: Sequence[Menu], notices: Sequence[Menu], *, numbers: bool) -> Pick:
    """Rules 1 and 2. `current`: the menus that answered the person's last message, oldest first;
    `notices`: the chat's recent notification menus, newest first."""
    number = typed_number(text)
    if number is not None:
        if numbers and current:
            options = _actionable(current[-1])
            if 1 <= number <= len(options):
                return Pick(options[number - 1])
        return Pick()
    folded = _fold(text)
    if not folded:
        return Pick()
    for menu in reversed(current):
        for button in _actionable(menu):
            if folded in label_keys(button.label):
                return Pick(button)
    return _pick_notice(folded, notices)


def _pick_notice(folded: str, notices: Sequence[Menu]) -> Pick:
    alone: list[tuple[Button, Menu]] = []
    for menu in notices:
        for button in _actionable(menu):
            for key in label_keys(button.label):
                if folded == key:
                    alone.append((button, menu))
                elif folded.startswith(key + " ") and _names(folded[len(key) + 1 :], button, menu):
                    return Pick(button)
    distinct = {(b.action, b.arg) for b, _m in alone}
    if len(distinct) == 1:
        return Pick(alone[0][0])
    if len(distinct) > 1:
        refs = [reference(m, [b]) or b.arg for b, m in alone]
        return Pick(ambiguous=[r for r in dict.fromkeys(refs) if r], label=alone[0][0].label)
    return Pick()


def _names(rest: str, button: Button, menu: Menu) -> bool:
    """Does the text after a label name this notification (its reference, or words of it)?
    The option's own argument counts however short (a report number: "Übernehmen 7")."""
    if rest and _fold(button.arg) == rest:
        return True
    if len(rest) < 2:
        return False
    return len(rest) >= 3 and rest in _fold(menu.text or "")


def reference(menu: Menu | Reply, buttons: Sequence[Button] | None = None) -> str:
    """The reference a notification can be named by: an option's argument that its text shows
    (a case reference, a conversation number), else ""."""
    text = menu.text or ""
    shown = _fold(text)
    for button in buttons if buttons is not None else _buttons_of(menu):
        if button.action and len(button.arg) >= 3 and _fold(button.arg) in shown:
            return button.arg
    return ""


def _buttons_of(menu: Menu | Reply) -> list[Button]:
    if isinstance(menu, Reply):
        return list(menu.buttons)
    return menus.rows_to_buttons(menu.buttons)


# ---------------------------------------------------------------- how options are shown
def style_answer(replies: Sequence[Reply], *, numbers: bool) -> None:
    """Rule 1 and 3 for one answer: only its last list is numbered, and only where a number
    picks; the other lists are named."""
    with_options = [r for r in replies if any(b.action for b in r.buttons)]
    for reply in with_options:
        reply.options = "named"
    if with_options and numbers:
        with_options[-1].options = "numbered"


def named_hint(lang: str, channel: str) -> str:
    """The line under a question whose answer can be a number (rule 3)."""
    if channel in BUTTON_CHANNELS:
        return i18n.translate(
            lang, N_("Choose an option with its button; a number you type is your answer.")
        )
    return i18n.translate(
        lang, N_("To choose an option, type its name; a number you type is your answer.")
    )


def notice_hint(lang: str, channel: str, reply: Reply) -> str:
    """The line under a notification's options (rule 2): how to choose on this channel."""
    options = [b for b in reply.buttons if b.action and not b.url]
    if not options or channel in BUTTON_CHANNELS:
        return ""
    if channel == "matrix":
        return i18n.translate(
            lang, N_("To choose, react with the option's number or answer in this thread.")
        )
    ref = reference(reply)
    first = options[0].label
    if ref:
        return i18n.translate(
            lang,
            N_('To choose, type the option with the reference, for example "{example}".'),
            {"example": f"{first} {ref}"},
        )
    return i18n.translate(
        lang, N_('To choose, type the option\'s name, for example "{example}".'), {"example": first}
    )


def ambiguous_text(lang: str, found: Pick) -> str:
    examples = ", ".join(f'"{found.label} {ref}"' for ref in found.ambiguous[:3])
    return i18n.translate(
        lang,
        N_(
            'Several messages offer "{label}". Please type it with the reference, '
            "for example {examples}."
        ),
        {"label": found.label, "examples": examples},
    )
