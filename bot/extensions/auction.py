"""Wiring of the lost-and-found auction: the city for payment hooks, and demo items."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from services.auction import buying, pickup  # noqa: F401  (register payments and the wallet)
from services.auction import items as auction
from services.identity import accounts as identity
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App


def _picture(kind: str, colour: str) -> bytes:
    image = Image.new("RGB", (480, 360), "#f4f1ea")
    draw = ImageDraw.Draw(image)
    if kind == "bike":
        for cx in (130, 350):
            draw.ellipse([cx - 80, 170, cx + 80, 330], outline="#333", width=8)
        draw.line([(130, 250), (215, 150), (300, 250), (130, 250)], fill=colour, width=10)
        draw.line([(215, 150), (350, 250)], fill=colour, width=10)
        draw.line([(300, 250), (290, 120), (330, 110)], fill="#333", width=8)
        draw.line([(200, 135), (240, 135)], fill="#333", width=10)
    elif kind == "phone":
        draw.rounded_rectangle([170, 40, 310, 320], radius=24, fill="#222")
        draw.rectangle([182, 70, 298, 280], fill=colour)
        draw.ellipse([228, 290, 252, 314], outline="#888", width=3)
    elif kind == "ring":
        draw.ellipse([150, 120, 330, 300], outline=colour, width=22)
        draw.polygon([(240, 60), (270, 100), (240, 130), (210, 100)], fill="#bfe6ff")
    else:  # keys
        draw.ellipse([90, 140, 170, 220], outline="#777", width=10)
        for offset, tint in ((0, colour), (40, "#b08d3c")):
            draw.ellipse([160, 120 + offset, 230, 190 + offset], fill=tint)
            draw.rectangle([225, 145 + offset, 400, 165 + offset], fill=tint)
            draw.rectangle([360, 165 + offset, 375, 185 + offset], fill=tint)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


DEMO_ITEMS = [
    # title, description, category, place, picture, colour, start €, floor €, days ago
    (
        "Damenfahrrad Gazelle, blau",
        "28 Zoll, 7 Gänge, Korb vorne, leichte Kratzer",
        "fahrrad",
        "Bahnhof Ahaus, Fahrradständer",
        "bike",
        "#2a6fb0",
        180,
        40,
        12,
    ),
    (
        "Kinderfahrrad Puky, rot",
        "20 Zoll, gut erhalten, Klingel fehlt",
        "fahrrad",
        "Schulzentrum, Fuistingstraße",
        "bike",
        "#c0392b",
        60,
        15,
        3,
    ),
    (
        "Smartphone Samsung Galaxy A52",
        "Display unbeschädigt, auf Werkseinstellungen zurückgesetzt",
        "handy",
        "Stadtpark, Parkbank am Teich",
        "phone",
        "#3d8f6a",
        120,
        30,
        20,
    ),
    (
        "Goldring mit kleinem Stein",
        "585er Gold, Ringgröße 54",
        "schmuck",
        "Freibad Ahaus, Umkleide",
        "ring",
        "#d4a017",
        90,
        35,
        7,
    ),
    (
        "Schlüsselbund mit Fahrradschlüssel",
        "3 Schlüssel, Anhänger Borussia",
        "schluessel",
        "Marktplatz",
        "keys",
        "#9aa0a6",
        10,
        5,
        1,
    ),
]


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    account = await identity.find_account(uow, "console", "frank")
    if account is None:
        return "auction: no lost property staff in the demo people, no items"
    staff = account.citizen_id
    for title, text, category, place, kind, colour, start, floor, ago in DEMO_ITEMS:
        data = _picture(kind, colour)
        photo = StoredFile(
            citizen_id=staff,
            purpose="form",
            filename=f"{kind}.png",
            mime="image/png",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            created_at=now,
        )
        uow.session.add(photo)
        await uow.session.flush()
        listed_at = now - timedelta(days=ago)
        found = date(listed_at.year - 1, listed_at.month, 1)
        await auction.list_item(
            uow,
            app.city,
            staff,
            auction.NewItem(
                title=title,
                description=text,
                category=category,
                found_place=place,
                found_on=found,
                notice_on=found + timedelta(days=20),
                start_cents=start * 100,
                floor_cents=floor * 100,
                photo_file_id=photo.id,
            ),
            {("staff", auction.LISTING_DEPARTMENT)},
            listed_at,
        )
    return (
        f"{len(DEMO_ITEMS)} lost-and-found auction items (bikes, a phone, a ring, keys), "
        "listed 1 to 20 days ago"
    )
