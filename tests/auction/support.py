"""Helpers for auction tests: people, a listed item with a photo, a fake payment provider."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from PIL import Image

from services.auction import items as auction
from services.city import City
from services.identity import accounts as identity
from services.payments.provider import Checkout
from storage.db import Database
from storage.models.auction import AuctionItem
from storage.models.outbox import StoredFile
from storage.models.payments import Payment


def png(colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


async def person(db: Database, user: str, now: datetime, role: str = "", scope: str = "") -> int:
    async with db.uow() as uow:
        citizen, _account = await identity.contact(
            uow,
            channel="console",
            external_id=user,
            chat_id=user,
            now=now,
            display_name=user,
            language_hint="en",
        )
        assert citizen.id is not None
        if role:
            await identity.grant_role(uow, citizen.id, role, scope, now=now, by="test")
        await uow.commit()
        return citizen.id


async def list_item(
    db: Database,
    city: City,
    staff_id: int,
    now: datetime,
    *,
    title: str = "Damenfahrrad Gazelle, blau",
    category: str = "fahrrad",
    start: int = 10_000,
    floor: int = 4_000,
) -> int:
    async with db.uow() as uow:
        photo = StoredFile(
            citizen_id=staff_id,
            purpose="form",
            filename="bike.png",
            mime="image/png",
            size=10,
            sha256="x",
            data=png(),
            created_at=now,
        )
        uow.session.add(photo)
        await uow.session.flush()
        item = await auction.list_item(
            uow,
            city,
            staff_id,
            auction.NewItem(
                title=title,
                description="found near the station",
                category=category,
                found_place="Bahnhof Ahaus",
                found_on=date(2026, 1, 10),
                notice_on=date(2026, 2, 1),
                start_cents=start,
                floor_cents=floor,
                photo_file_id=photo.id,
            ),
            {("staff", "fundbuero")},
            now,
        )
        await uow.commit()
        assert item.id is not None
        return item.id


async def item(db: Database, item_id: int) -> AuctionItem:
    async with db.uow() as uow:
        found = await uow.session.get(AuctionItem, item_id)
        assert found is not None
        uow.session.expunge(found)
        return found


@dataclass
class FakeProvider:
    """Implements services.payments.provider.PaymentProvider without any network."""

    name: str = "fake"
    demo: bool = True
    refunds: list[tuple[int, int]] = field(default_factory=list)

    async def create_checkout(self, payment: Payment) -> Checkout:
        return Checkout(url=f"https://pay.example/{payment.id}", provider_ref=f"fake-{payment.id}")

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        self.refunds.append((payment.id or 0, amount_cents))
        return f"refund-{payment.id}"
