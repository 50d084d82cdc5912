"""The language walk: every command, button action and form of REGISTRY in one language, with
typical and invalid inputs, collecting every text the person sees (and the notifications that
arrive meanwhile). `foreign_sentences` finds sentences in the other language by their function
words: German sentences say "der, und, Sie, nicht ...", English ones "the, and, you, not ...".

Content that exists in one language only (event titles and texts, names of shops, daycares,
auction items, what people typed) is taken out first: it is collected from the database and
the city configuration (`content_of`), and text the app marks as German content
("… (in German)") is taken out as well."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import build_app
from bot.demo import fill_demo_data
from bot.settings import Settings
from flows.forms import FORMS
from flows.registry import REGISTRY
from handlers import menus
from services.clock import FrozenClock
from services.identity import accounts as identity
from storage.db import Database
from storage.models.conversation import Menu
from tests.support.chat import Transcript

GERMAN = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "und",
        "ist",
        "sind",
        "sie",
        "ihr",
        "ihre",
        "ihren",
        "ihrem",
        "ihnen",
        "bitte",
        "nicht",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "mit",
        "für",
        "von",
        "zu",
        "zum",
        "zur",
        "auf",
        "wird",
        "werden",
        "wurde",
        "wurden",
        "kann",
        "können",
        "noch",
        "oder",
        "nur",
        "bei",
        "aus",
        "nach",
        "über",
        "hier",
        "auch",
        "schon",
        "jetzt",
        "wir",
        "uns",
        "es",
        "gibt",
        "haben",
        "hat",
        "diese",
        "dieser",
        "dieses",
        "keine",
        "kein",
        "welche",
        "welcher",
        "wann",
        "wie",
        "wo",
        "möchten",
        "geben",
        "tippen",
        "wählen",
        "senden",
        "danke",
        "gültig",
        "bis",
        "heute",
        "morgen",
        "tage",
        "tag",
    ]
)
ENGLISH = frozenset(
    [
        "the",
        "and",
        "is",
        "are",
        "you",
        "your",
        "please",
        "not",
        "of",
        "for",
        "with",
        "from",
        "to",
        "this",
        "that",
        "these",
        "have",
        "has",
        "been",
        "will",
        "would",
        "can",
        "cannot",
        "could",
        "there",
        "here",
        "which",
        "what",
        "when",
        "where",
        "who",
        "how",
        "choose",
        "type",
        "send",
        "thank",
        "thanks",
        "valid",
        "until",
        "today",
        "tomorrow",
        "day",
        "days",
        "no",
        "yes",
        "were",
        "it",
        "its",
        "our",
        "we",
        "they",
        "their",
        "was",
        "be",
        "by",
    ]
)
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")
MARKED = re.compile(r"“[^”]*” \(in German\)|„[^“]*“ \(auf Englisch\)")
NOISE = re.compile(r"https?://\S+|/[a-z_]+|\b[A-Z0-9]{4}(?:-[A-Z0-9]{4})+\b|AH-\d{4}-\d+")


def sentences(text: str) -> Iterable[str]:
    for line in text.splitlines():
        for part in re.split(r"(?<=[.!?:])\s+", line):
            if part.strip():
                yield part.strip()


def counts(sentence: str) -> tuple[int, int]:
    words = [w.casefold() for w in WORD.findall(sentence)]
    return sum(w in GERMAN for w in words), sum(w in ENGLISH for w in words)


def foreign_sentences(text: str, lang: str, content: Iterable[str] = ()) -> list[str]:
    """Sentences of `text` written in the other language than `lang`."""
    cleaned = MARKED.sub(" ", text)
    for known in sorted(content, key=len, reverse=True):
        if len(known) >= 3:
            cleaned = cleaned.replace(known, " ")
    cleaned = NOISE.sub(" ", cleaned)
    found = []
    for sentence in sentences(cleaned):
        german, english = counts(sentence)
        if lang == "de" and english >= 2 and english > german:
            found.append(sentence)
        if lang == "en" and german >= 2 and german > english:
            found.append(sentence)
    return found


async def content_of(db: Database, city: Any) -> set[str]:
    """Names that exist in one language only (titles, places, shops, daycares): they may stand
    in any sentence. Longer texts in one language (descriptions, campaign texts) are not
    here: an English reader must see them marked as German (services.i18n.content)."""
    from storage.models import auction, campaigns, events

    texts: set[str] = {m.name for m in city.merchants} | {m.address for m in city.merchants}
    async with db.uow() as uow:
        for event in (await uow.session.execute(select(events.Event))).scalars():
            texts |= {event.title, event.place or ""}
        for item in (await uow.session.execute(select(auction.AuctionItem))).scalars():
            texts.add(item.title)
        for campaign in (await uow.session.execute(select(campaigns.Campaign))).scalars():
            texts.add(campaign.name)
    from services.cases.rules import rules

    texts |= {d.name for d in rules(city).daycares}
    return {t for t in texts if t}


# would end the walker's account, its chat or its language
SKIPPED_COMMANDS = {"deleteme", "link", "language", "sprache"}
SKIPPED_ACTIONS = ("delete", "forget", "link.", "privacy.erase", "language.set")
INPUTS = ["x", "31.02.2020", "-5", "12,5", "Anna Schulte"]


class Walk:
    def __init__(self, chat: Transcript, user: str) -> None:
        self.chat, self.user = chat, user
        self.seen: list[tuple[str, str]] = []
        self.visited: set[tuple[str, str]] = set()
        self.queue: list[tuple[str, str]] = []
        self.rooms: list[tuple[str, str]] = []  # (room, what it read), in the room's language

    def record(self, where: str, text: str) -> None:
        self.seen.append((where, text))
        for reply in self.chat.last.get(self.user, []):
            for button in reply.buttons:
                key = (button.action, button.arg)
                if button.action and key not in self.visited and key not in self.queue:
                    self.queue.append(key)

    async def send(self, where: str, line: str) -> None:
        self.record(where, await self.chat.send(self.user, line))

    async def press(self, action: str, arg: str) -> None:
        """Press a button with this action, as on a notification (a detached menu)."""
        async with self.chat.db.uow() as uow:
            menu = await menus.store_menu(
                uow,
                channel="console",
                chat_id=self.user,
                text="",
                buttons=[menus.Button("walk", action, arg)],
                now=self.chat.clock.now(),
            )
            await uow.commit()
        self.record(f"[{action} {arg}]", await self.chat.choose(self.user, menus.pack(menu.id, 0)))

    async def notifications(self) -> None:
        self.record("notifications", await self.chat.notifications(self.user))


async def walk_everything(tmp_path: Path, clock: FrozenClock, lang: str) -> tuple[Walk, set[str]]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / f'walk-{lang}.db'}")
    await db.create_all()
    app = build_app(Settings(database_url=db.url), clock=clock, db=db)
    try:
        await fill_demo_data(app)
        chat = Transcript(db, app.city, clock, media_dir=tmp_path / "media")
        user = f"walker-{lang}"
        walk = Walk(chat, user)
        await chat.send(user, "/start")
        await chat.send(user, f"/language {lang}")
        async with db.uow() as uow:
            account = await identity.find_account(uow, "console", user)
            assert account is not None
            citizen = await identity.citizen(uow, account.citizen_id)
            assert citizen is not None
            citizen.first_name, citizen.last_name = "Wanda", "Walker"
            citizen.street, citizen.postal_code, citizen.town = "Marktstraße 5", "48683", "Ahaus"
            citizen.email, citizen.phone = "wanda@example.org", "02561 12345"
            now = clock.now()
            grants = [("staff", d.key) for d in app.city.departments]
            grants += [("merchant", m.key) for m in app.city.merchants]
            grants += [("organiser", ""), ("marketing", ""), ("admin", "")]
            for role, scope in grants:
                await identity.grant_role(uow, account.citizen_id, role, scope, now=now, by="walk")
            await uow.commit()
        for router in REGISTRY.routers.values():
            for name in router.commands:
                if name in SKIPPED_COMMANDS:
                    continue
                await walk.send(f"/{name}", f"/{name}")
                await walk.send(f"/{name} …", INPUTS[0])
                await walk.send(f"/{name} 12345", f"/{name} 12345")
                await walk.send("/cancel", "/cancel")
        for key in FORMS:
            await walk.press("form.open", key)
            for _ in range(20):  # every field: wrong answers first, then one that fits
                before = len(walk.seen)
                for line in INPUTS:
                    await walk.send(f"form {key}", line)
                if len(walk.seen) == before:
                    break
            await walk.send("/cancel", "/cancel")
        budget = 600
        while walk.queue and budget:
            action, arg = walk.queue.pop(0)
            walk.visited.add((action, arg))
            if any(part in action for part in SKIPPED_ACTIONS) or not REGISTRY.action(action):
                continue
            budget -= 1
            await walk.press(action, arg)
            await walk.send(f"[{action}] input", INPUTS[0])
            await walk.send("/cancel", "/cancel")
        await walk.notifications()
        for department in app.city.departments:
            if department.rooms.console:
                room = f"room:{department.rooms.console}"
                walk.rooms.append((room, await chat.notifications(room)))
        async with db.uow() as uow:
            orphans = (await uow.session.execute(select(Menu.id))).scalars().all()
            assert orphans is not None
        return walk, await content_of(db, app.city)
    finally:
        await app.close()
