"""Fixtures for wallet, voucher and payment tests: a transcript with the demo provider, and
residents with roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.payments.demo import DemoProvider
from flows.types import Inbound
from handlers import menus
from services.city import City
from services.clock import FrozenClock
from services.identity import accounts as identity
from storage.db import Database
from tests.support.chat import Transcript

PUBLIC_URL = "http://127.0.0.1:8080"


@pytest.fixture
def demo_provider() -> DemoProvider:
    return DemoProvider(PUBLIC_URL)


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


class PlainTranscript(Transcript):
    """Babel puts a no-break space before €; the transcripts compare with a plain space."""

    async def handle(self, inbound: Inbound) -> str:
        return (await super().handle(inbound)).replace("\xa0", " ").replace("\u202f", " ")

    async def press(self, user: str, label: str, *, room: str = "", reply: int = -1) -> str:
        chat_id = f"room:{room}" if room else user
        candidates = [r for r in self.last.get(chat_id, []) if r.menu]
        assert candidates, f"no buttons in the last answer to {chat_id}"
        target = candidates[reply]
        for index, button in enumerate(target.buttons):
            if label.casefold() in plain(button.label).casefold():
                return await self.choose(user, menus.pack(target.menu, index), room=room)
        raise AssertionError(f"no button {label!r} in {[b.label for b in target.buttons]}")

    async def notifications(self, user_or_room: str) -> str:
        shown = await super().notifications(user_or_room)
        return shown.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def chat(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path, demo_provider: DemoProvider
) -> Transcript:
    english = city.model_copy(update={"default_language": "en"})  # transcripts read in English
    return PlainTranscript(
        db,
        english,
        clock,
        media_dir=tmp_path / "media",
        public_url=PUBLIC_URL,
        payments=demo_provider,
    )


async def resident(
    db: Database, clock: FrozenClock, user: str, role: str = "", scope: str = ""
) -> int:
    """A console resident (as after /start), optionally with a role."""
    async with db.uow() as uow:
        citizen, _account = await identity.contact(
            uow,
            channel="console",
            external_id=user,
            chat_id=user,
            now=clock.now(),
            display_name=user.title(),
            default_language="en",
        )
        assert citizen.id is not None
        if role:
            await identity.grant_role(uow, citizen.id, role, scope, now=clock.now(), by="test")
        await uow.commit()
        return citizen.id
