"""Random inputs through every registered command, action, step and deep link, as anyone could
send them: random text and unicode, button tokens that are valid, stale or forged, buttons
with any argument (as an old notification could carry), steps entered with whatever data the
conversation holds, photos, files and places, and time that passes.

Shared by the property test (tests/hardening/test_fuzz.py, driven by hypothesis) and
bench/fuzz.py (20,000 inputs per database, driven by `random`). Every input is checked: no error
logged (an unhandled exception), at least one reply, and the reply in the language of the
person's conversation.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import random
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update

import flows  # noqa: F401  (registers every flow)
from bot.bootstrap import App, build_app
from bot.demo import PEOPLE, fill_demo_data
from bot.settings import Settings
from flows.registry import REGISTRY, Router
from flows.types import Attachment, Button, Inbound, Reply
from handlers import menus
from services import codes, i18n
from services.clock import FrozenClock
from storage.db import Database
from storage.models.conversation import Conversation
from storage.models.identity import ChannelAccount, Citizen

T = TypeVar("T")

TESTS = Path(__file__).resolve().parents[1]  # the tests/ directory

ENGLISH = {"ben", "mara", "bernd"}  # demo people who chat in English
ROOMS = {user: scope for user, _f, _l, role, scope in PEOPLE if role == "staff"}
APOLOGIES = (
    "Sorry, something went wrong on our side.",
    "Sorry, I cannot answer right now.",
)
KINDS = (  # (kind, weight)
    ("text", 26),
    ("press", 26),
    ("stale", 5),
    ("forged", 5),
    ("command", 10),
    ("deeplink", 5),
    ("action", 12),
    ("step", 6),
    ("media", 3),
    ("time", 2),
)
ODD = [
    "", " ", "0", "1", "2", "3", "-1", "²", "³", "٣", "１", "Ⅻ", "𝟗", "9" * 23, str(2**63),
    str(2**63 - 1), "1_000", "1e3", "nan", "12,50", "12.50 €", "0,001", "24.12.2026",
    "31.02.2026", "2026-12-24", "18:00", "ja", "nein", "yes", "no", "/cancel", "abbrechen",
    "zurück", "Hauptmenü", "gutschein", "auktion", "wallet", "veranstaltungen", "hilfe",
    "AH-2026-000001", "L-1", "#1", ":", "1:2", "x:1", "\u202e", "\x00", "\u200b", "👍",
    "😀" * 40, "ß" * 300, "a" * 5000, "Robert'); DROP TABLE citizen;--", "<b>x</b>",
    "Rathausplatz 1, 48683 Ahaus", "Max Mustermann", "max@example.org", "+49 2561 720",
]  # fmt: skip
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x9a\xa0\xd5\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
ATTACHMENTS = [
    Attachment("photo", "photo.png", "image/png", PNG),
    Attachment("document", "scan.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>\n"),
    Attachment("document", "x.exe", "application/octet-stream", b"MZ" + bytes(100)),
    Attachment("photo", "broken.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(50)),
]


class Draw(Protocol):
    """Where the randomness comes from (hypothesis in the test, `random` in the benchmark)."""

    def choice(self, options: Sequence[T]) -> T: ...
    def integer(self, low: int, high: int) -> int: ...
    def text(self) -> str: ...


class RandomDraw:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def text(self) -> str:
        size = self.rng.choice((1, 3, 8, 20, 80))
        alphabet = self.rng.choice(
            (
                string.ascii_letters + string.digits + " ",
                "äöüßÄÖÜ€²³½ .,-",
                "".join(map(chr, range(0x600, 0x6FF))),
                "".join(map(chr, range(0x2000, 0x206F))),
                None,
            )
        )
        if alphabet is None:
            return "".join(chr(self.rng.randrange(1, 0x2FFFF)) for _ in range(size)).replace(
                "\ud800", ""
            )
        return "".join(self.rng.choice(alphabet) for _ in range(size))


def weighted(draw: Draw, table: Sequence[tuple[str, int]]) -> str:
    roll = draw.integer(1, sum(w for _k, w in table))
    for kind, weight in table:
        roll -= weight
        if roll <= 0:
            return kind
    return table[-1][0]


@dataclass
class Outcome:
    kind: str
    said: str  # what was sent, for the report
    replies: list[Reply]
    problem: str = ""  # "" when the input was answered properly


@dataclass
class Counts:
    inputs: int = 0
    problems: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    problem_kinds: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.inputs += 1
        self.kinds[outcome.kind] += 1
        if outcome.problem:
            self.problems += 1
            self.problem_kinds[outcome.problem.split(":")[0]] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{outcome.kind} {outcome.said!r}: {outcome.problem}")


class ErrorLog(logging.Handler):
    """Every record at ERROR and above, or with a traceback, while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


def _heads(templates: list[str]) -> set[str]:
    """The literal beginning of each message (up to its first parameter or line break)."""
    found = set()
    for template in templates:
        head = template.split("{", 1)[0].split("\n", 1)[0].strip()
        if len(head) >= 16:
            found.add(head)
    return found


class LanguageCheck:
    """Tells whether a line is the beginning of a message of the other language."""

    def __init__(self) -> None:
        english, german = [], []
        for msgid, msgstr in i18n._catalogue("de").items():
            ids = [msgid]
            strings = [msgstr] if isinstance(msgstr, str) else list(msgstr)
            if msgstr != msgid:
                english += ids
                german += strings
        english_heads, german_heads = _heads(english), _heads(german)
        shared = english_heads & german_heads
        self.foreign = {
            "de": self._index(english_heads - shared),
            "en": self._index(german_heads - shared),
        }

    @staticmethod
    def _index(heads: set[str]) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for head in heads:
            index.setdefault(head[:16], []).append(head)
        return index

    def foreign_line(self, lang: str, replies: Sequence[Reply]) -> str:
        index = self.foreign.get(lang, {})
        lines = [line.strip() for r in replies for line in r.text.splitlines()]
        lines += [b.label.strip() for r in replies for b in r.buttons]
        for line in lines:
            for head in index.get(line[:16], ()):
                if line.startswith(head):
                    return line
        return ""


class Fuzzer:
    def __init__(self, app: App, clock: FrozenClock) -> None:
        self.app = app
        self.clock = clock
        self.errors = ErrorLog()
        self.language = LanguageCheck()
        self.keys = itertools.count(1)
        self.last: dict[tuple[str, str], list[Reply]] = {}
        self.old_tokens: list[str] = []
        routers = [r for r in REGISTRY.routers.values() if _of_the_product(r)]
        self.commands = sorted({n for r in routers for n in r.commands})
        self.actions = sorted({n for r in routers for n in r.actions})
        self.steps = sorted({n for r in routers for n in r.steps})
        self.deeplinks = sorted({n for r in routers for n in r.deeplinks})
        self.chats = [(user, user, False) for user, *_rest in PEOPLE]
        self.chats += [(user, f"room:{room}", True) for user, room in ROOMS.items()]
        self.chats += [("stranger", "room:buergerbuero", True), ("newbie", "newbie", False)]
        self.ids: list[str] = [str(n) for n in range(1, 30)]
        self.entered = ""  # the step an input of kind "step" was sent to

    @classmethod
    async def start(cls, db: Database, start: datetime) -> Fuzzer:
        settings = Settings(payments="demo", _env_file=None)  # type: ignore[call-arg]
        clock = FrozenClock(start)
        app = build_app(settings, clock=clock, db=db)
        await fill_demo_data(app)
        async with db.uow() as uow:
            english = select(ChannelAccount.citizen_id).where(
                ChannelAccount.channel == "console",
                ChannelAccount.external_id.in_(sorted(ENGLISH)),  # type: ignore[attr-defined]
            )
            await uow.session.execute(
                update(Citizen).where(Citizen.id.in_(english)).values(language="en")  # type: ignore[union-attr]
            )
            await uow.commit()
        fuzzer = cls(app, clock)
        logging.getLogger().addHandler(fuzzer.errors)
        return fuzzer

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        await self.app.close()

    # ------------------------------------------------------------------ one input
    async def one(self, draw: Draw) -> Outcome:
        kind = weighted(draw, KINDS)
        user, chat, is_group = draw.choice(self.chats)
        if kind == "time":
            self.clock.advance(timedelta(minutes=draw.choice((1, 31, 61, 60 * 25, 60 * 24 * 8))))
            kind = "text"
        inbound = await self._inbound(draw, kind, user, chat, is_group)
        before = len(self.errors.records)
        language = await self._language(inbound)
        replies = await self.app.dispatcher.handle(inbound)
        said = inbound.text or inbound.command or inbound.choice or f"<{inbound.kind}>"
        if inbound.command:
            said = f"/{inbound.command} {inbound.text}".strip()
        if kind == "step":
            said = f"[{self.entered}] {said}"
        outcome = Outcome(kind, f"{user}@{chat}: {said[:120]}", replies)
        outcome.problem = await self._problem(
            inbound, replies, self.errors.records[before:], language
        )
        self._remember(chat, replies)
        return outcome

    async def _problem(
        self,
        inbound: Inbound,
        replies: list[Reply],
        errors: list[logging.LogRecord],
        before: str,
    ) -> str:
        """Why the answer is wrong ("" when it is right). Its language is the conversation's
        after the input, or before it (the answer to /deleteme, to a switch of language)."""
        if errors:
            first = errors[0]
            where = (
                f" ({first.exc_info[0].__name__})" if first.exc_info and first.exc_info[0] else ""
            )
            return f"error logged: {first.getMessage()[:160]}{where}"
        if not any(r.text.strip() or r.media or r.buttons for r in replies):
            return "no reply"
        texts = " ".join(r.text for r in replies)
        for apology in APOLOGIES:
            if apology in texts or i18n.translate("de", apology) in texts:
                return f"apology: {apology}"
        after = await self._language(inbound)
        foreign = self.language.foreign_line(after, replies)
        if foreign and self.language.foreign_line(before, replies):
            return f"not in {after}: {foreign[:100]!r}"
        return ""

    async def _language(self, inbound: Inbound) -> str:
        async with self.app.db.uow() as uow:
            found = await uow.session.execute(
                select(Citizen.language)
                .join(ChannelAccount, ChannelAccount.citizen_id == Citizen.id)  # type: ignore[arg-type]
                .where(
                    ChannelAccount.channel == inbound.channel,
                    ChannelAccount.external_id == inbound.user_id,
                )
            )
            return i18n.normalise_language(found.scalar_one_or_none())

    def _remember(self, chat: str, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.menu:
                for index in range(len(reply.buttons)):
                    self.old_tokens.append(menus.pack(reply.menu, index))
                    for button in reply.buttons:
                        if button.arg and len(self.ids) < 400 and button.arg not in self.ids:
                            self.ids.append(button.arg)
        if len(self.old_tokens) > 2000:
            del self.old_tokens[:1000]
        if replies:
            self.last[("console", chat)] = replies

    # ------------------------------------------------------------------ building inputs
    async def _inbound(
        self, draw: Draw, kind: str, user: str, chat: str, is_group: bool
    ) -> Inbound:
        base: dict[str, Any] = {
            "channel": "console",
            "user_id": user,
            "chat_id": chat,
            "key": f"fuzz{next(self.keys)}",
            "is_group": is_group,
            "display_name": user.capitalize(),
        }
        if kind == "press":
            token = self._current_token(draw, chat)
            if token:
                return Inbound(kind="choice", choice=token, **base)
            kind = "text"
        if kind == "stale" and self.old_tokens:
            return Inbound(kind="choice", choice=draw.choice(self.old_tokens), **base)
        if kind in ("forged", "stale"):
            return Inbound(kind="choice", choice=self._forged(draw), **base)
        if kind == "command":
            name = draw.choice(self.commands)
            return Inbound(kind="command", command=name, text=self._argument(draw), **base)
        if kind == "deeplink":
            rest = f"{draw.choice(self.deeplinks)}-{self._argument(draw)}"
            return Inbound(kind="command", command="start", text=rest, **base)
        if kind == "action":
            token = await self._any_action(draw, chat)
            return Inbound(kind="choice", choice=token, **base)
        if kind == "step":
            self.entered = await self._enter_step(draw, user, chat)
            return Inbound(kind="text", text=self._text(draw, chat), **base)
        if kind == "media":
            if draw.integer(0, 4) == 0:
                place = (draw.choice((52.07, 0.0, 90.0, -91.0)), draw.choice((7.0, 180.5, 6.99)))
                return Inbound(kind="location", location=place, **base)
            attachment = draw.choice(ATTACHMENTS)
            return Inbound(kind="media", attachments=(attachment,), **base)
        return Inbound(kind="text", text=self._text(draw, chat), **base)

    def _current_token(self, draw: Draw, chat: str) -> str:
        shown = [r for r in self.last.get(("console", chat), []) if r.menu and r.buttons]
        if not shown:
            return ""
        reply = draw.choice(shown)
        return menus.pack(reply.menu, draw.integer(0, len(reply.buttons) - 1))

    def _forged(self, draw: Draw) -> str:
        menu = draw.choice(self.old_tokens).partition(":")[0] if self.old_tokens else "ABCDEFGHJKMN"
        return draw.choice(
            (
                f"{menu}:{draw.choice(('999', '-1', '²', '٣', '', '9' * 23, '0'))}",
                f"{codes.new_code(10)}:0",
                draw.text(),
                f"{menu}:{draw.integer(0, 12)}",
                ":".join((menu, "1", "2")),
            )
        )

    def _argument(self, draw: Draw) -> str:
        return draw.choice(
            (
                "",
                draw.choice(ODD),
                draw.choice(self.ids),
                f"{draw.choice(self.ids)}:{draw.choice(self.ids)}",
                codes.new_code(12),
                codes.new_code(7),
                draw.text(),
                f"{draw.choice(ODD)} {draw.text()}",
            )
        )

    def _text(self, draw: Draw, chat: str) -> str:
        labels = [b.label for r in self.last.get(("console", chat), []) for b in r.buttons]
        options: list[Callable[[], str]] = [
            lambda: draw.choice(ODD),
            draw.text,
            lambda: self._argument(draw),
            lambda: codes.display(codes.new_code(12)),
            lambda: str(draw.integer(1, 12)),
        ]
        if labels:
            options.append(lambda: draw.choice(labels))
            options.append(lambda: draw.choice(labels).upper() + draw.choice(("", " 1", "!")))
        return draw.choice(options)()

    async def _any_action(self, draw: Draw, chat: str) -> str:
        """A button for any action with any argument, as an old notification might carry."""
        button = Button("?", draw.choice(self.actions), self._argument(draw))
        async with self.app.db.uow() as uow:
            menu = await menus.store_menu(
                uow,
                channel="console",
                chat_id=chat,
                text="",
                buttons=[button],
                now=self.clock.now(),
            )
            await uow.commit()
        return menus.pack(menu.id, 0)

    async def _enter_step(self, draw: Draw, user: str, chat: str) -> str:
        """The conversation waits in any step, with whatever data it holds (or an old deploy
        left behind)."""
        step = draw.choice(self.steps)
        data: dict[str, Any] = draw.choice(
            ({}, {"item": 1}, {"event": 1}, {"voucher": 1, "merchant": "x"}, {"field": "x"})
        )
        async with self.app.db.uow() as uow:
            await uow.session.execute(
                update(Conversation)
                .where(
                    Conversation.channel == "console",
                    Conversation.chat_id == chat,
                    Conversation.user_id == user,
                )
                .values(step=step, data=data, version=Conversation.version + 1)
            )
            await uow.commit()
        return step


def _of_the_product(router: Router) -> bool:
    """Not a router a test module registered (one that crashes on purpose, say)."""
    handlers = [a.handler for a in (*router.actions.values(), *router.commands.values())]
    handlers += [s.handler for s in router.steps.values()] + list(router.deeplinks.values())
    return not any(_in_tests(h) for h in handlers)


def _in_tests(handler: Any) -> bool:
    """Written in a file under tests/ (a test directory without __init__.py imports its
    modules by their bare name, so the module's name alone does not say it)."""
    code = getattr(inspect.unwrap(handler), "__code__", None)
    filename = Path(code.co_filename).resolve() if code else Path()
    return handler.__module__.startswith("tests.") or TESTS in filename.parents


def report(counts: Counts) -> str:
    lines = [f"{counts.inputs} inputs, {counts.problems} problems"]
    lines.append("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.kinds.items())))
    if counts.problem_kinds:
        lines.append(
            "problems: " + ", ".join(f"{k} {n}" for k, n in counts.problem_kinds.most_common())
        )
    lines += counts.examples
    return "\n".join(lines)
