"""Event tests: a small fake payment provider, transcripts wired to it, helpers to set people up."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.city import City
from services.clock import FrozenClock
from services.events import booking as svc
from services.identity import accounts as identity
from services.payments.provider import Checkout
from storage.db import Database
from storage.models.events import Event
from storage.models.identity import ChannelAccount
from storage.models.payments import Payment
from tests.support.chat import Transcript


class FakeProvider:
    """Implements the payment provider protocol; remembers checkouts and refunds."""

    name = "fake"

    def __init__(self, *, demo: bool = True) -> None:
        self.demo = demo
        self.checkouts: list[int] = []
        self.refunds: list[tuple[int, int]] = []
        self.fail_refunds = False
        self.fail_checkouts = False

    async def create_checkout(self, payment: Payment) -> Checkout:
        if self.fail_checkouts:
            raise ConnectionError("provider down")
        assert payment.id is not None
        self.checkouts.append(payment.id)
        return Checkout(f"https://pay.example/checkout/{payment.id}", f"fake_{payment.id}")

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        if self.fail_refunds:
            raise RuntimeError("provider down")
        assert payment.id is not None
        self.refunds.append((payment.id, amount_cents))
        return f"re_{payment.id}_{len(self.refunds)}"


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def pay_chat(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path, provider: FakeProvider
) -> Transcript:
    return Transcript(db, city, clock, media_dir=tmp_path / "media", payments=provider)


@pytest.fixture
def rules(city: City) -> svc.EventRules:
    return city.section("events", svc.EventRules)


async def citizen_id(db: Database, user: str) -> int:
    async with db.uow() as uow:
        found = await uow.session.execute(
            select(ChannelAccount.citizen_id).where(
                ChannelAccount.channel == "console", ChannelAccount.external_id == user
            )
        )
        return int(found.scalar_one())


async def make_organiser(chat: Transcript, user: str = "olaf") -> int:
    await chat.send(user, "/start")
    cid = await citizen_id(chat.db, user)
    async with chat.db.uow() as uow:
        await identity.grant_role(uow, cid, "organiser", "", now=chat.clock.now(), by="test")
        await uow.commit()
    return cid


async def make_event(
    db: Database,
    organiser: int,
    now: datetime,
    *,
    title: str = "Weihnachtskonzert",
    price: int = 0,
    capacity: int = 10,
    days: int = 10,
    deadline_hours: int = 2,
) -> int:
    starts = now + timedelta(days=days)
    async with db.uow() as uow:
        event = await svc.create_event(
            uow,
            organiser,
            svc.EventDraft(
                title=title,
                place="Schlosspark Ahaus",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                booking_deadline=starts - timedelta(hours=deadline_hours),
                price_cents=price,
                capacity=capacity,
            ),
            svc.EventRules(),
            now,
        )
        await uow.commit()
        assert event.id is not None
        return event.id


async def load_event(db: Database, event_id: int) -> Event:
    async with db.uow() as uow:
        event = await uow.session.get(Event, event_id)
        assert event is not None
        uow.session.expunge(event)  # keep its values after the session ends
        return event
