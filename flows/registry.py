"""Where flows declare what they answer to: commands, button actions, input steps, menu entries,
free-text keywords and deep links. One `Router` per capability; all meet in `REGISTRY`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.context import Ctx

ActionHandler = Callable[["Ctx", str], Awaitable[None]]
StepHandler = Callable[["Ctx"], Awaitable[None]]
Visible = Callable[["Ctx"], bool]
NumbersRule = bool | Callable[["Ctx"], bool]


@dataclass(frozen=True)
class Action:
    name: str
    handler: ActionHandler
    roles: frozenset[str] = frozenset()  # any of these roles (in any scope) may run it


@dataclass(frozen=True)
class Step:
    name: str
    handler: StepHandler
    # True: the answer can itself be a number (amounts, counts, dates, chat relayed to people),
    # so a typed number is input and the options are named, not numbered (handlers/picking.py);
    # False: a number cannot be the answer (codes, names, yes/no), so it picks an option;
    # a function decides per question (a form's current field).
    free_text: NumbersRule = True

    def numbers_are_answers(self, ctx: Ctx) -> bool:
        return self.free_text(ctx) if callable(self.free_text) else self.free_text


@dataclass(frozen=True)
class MenuEntry:
    label: str  # msgid
    action: str
    order: int = 100
    roles: frozenset[str] = frozenset()
    arg: str = ""


@dataclass
class Router:
    name: str
    actions: dict[str, Action] = field(default_factory=dict)
    commands: dict[str, Action] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    menu_entries: list[MenuEntry] = field(default_factory=list)
    keywords: dict[str, tuple[str, str]] = field(default_factory=dict)
    deeplinks: dict[str, ActionHandler] = field(default_factory=dict)
    help_lines: list[tuple[str, str]] = field(default_factory=list)  # (command, msgid)

    def __post_init__(self) -> None:
        REGISTRY.include(self)

    def action(
        self, name: str, roles: Iterable[str] = ()
    ) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            _unique(self.actions, name, "action")
            self.actions[name] = Action(name, handler, frozenset(roles))
            return handler

        return register

    def command(
        self, *names: str, roles: Iterable[str] = (), help: str = ""
    ) -> Callable[[ActionHandler], ActionHandler]:
        """`/name args`: the handler gets the text after the command."""

        def register(handler: ActionHandler) -> ActionHandler:
            for name in names:
                _unique(self.commands, name, "command")
                self.commands[name] = Action(name, handler, frozenset(roles))
            if help:
                self.help_lines.append((names[0], help))
            return handler

        return register

    def step(
        self, name: str, *, free_text: NumbersRule = True
    ) -> Callable[[StepHandler], StepHandler]:
        """A question waiting for the person's next message (text, photo, file or location).
        `free_text`: can the answer be a number? (see `Step.free_text`)"""

        def register(handler: StepHandler) -> StepHandler:
            _unique(self.steps, name, "step")
            self.steps[name] = Step(name, handler, free_text)
            return handler

        return register

    def deeplink(self, prefix: str) -> Callable[[ActionHandler], ActionHandler]:
        """`/start <prefix>-<rest>` (Telegram deep links, QR codes): handler gets `rest`."""

        def register(handler: ActionHandler) -> ActionHandler:
            _unique(self.deeplinks, prefix, "deep link")
            self.deeplinks[prefix] = handler
            return handler

        return register

    def menu(
        self,
        label: str,
        action: str,
        *,
        order: int = 100,
        roles: Iterable[str] = (),
        keywords: Iterable[str] = (),
        arg: str = "",
    ) -> None:
        """An entry of the main menu; `keywords` typed as free text open it too (the intent
        layer, flows/intent.py, reads them besides its own table)."""
        self.menu_entries.append(MenuEntry(label, action, order, frozenset(roles), arg))
        self.add_keywords(action, keywords, arg)

    def add_keywords(self, action: str, words: Iterable[str], arg: str = "") -> None:
        """Words that lead to `action` when typed as free text (flows/intent.py)."""
        for word in words:
            self.keywords[word.casefold()] = (action, arg)


def _unique(table: dict[str, object], name: str, kind: str) -> None:
    if name in table:
        raise ValueError(f"{kind} {name!r} registered twice")


class Registry:
    def __init__(self) -> None:
        self.routers: dict[str, Router] = {}

    def include(self, router: Router) -> None:
        if router.name in self.routers:
            raise ValueError(f"router {router.name!r} registered twice")
        self.routers[router.name] = router

    def _find(self, attribute: str, name: str) -> object | None:
        for router in self.routers.values():
            found: object | None = getattr(router, attribute).get(name)
            if found is not None:
                return found
        return None

    def action(self, name: str) -> Action | None:
        found = self._find("actions", name)
        return found if isinstance(found, Action) else None

    def command(self, name: str) -> Action | None:
        found = self._find("commands", name)
        return found if isinstance(found, Action) else None

    def step(self, name: str) -> Step | None:
        found = self._find("steps", name)
        return found if isinstance(found, Step) else None

    def deeplink(self, prefix: str) -> ActionHandler | None:
        for router in self.routers.values():
            if prefix in router.deeplinks:
                return router.deeplinks[prefix]
        return None

    def menu_entries(self) -> list[MenuEntry]:
        entries = [e for r in self.routers.values() for e in r.menu_entries]
        return sorted(entries, key=lambda e: (e.order, e.label))

    def help_lines(self) -> list[tuple[str, str]]:
        """The basics (start, menu, help, cancel, language) first, then every capability."""
        first = self.routers.get("start")
        rest = [r for name, r in self.routers.items() if name != "start"]
        ordered = ([first] if first else []) + rest
        return [line for r in ordered for line in r.help_lines]


REGISTRY = Registry()
