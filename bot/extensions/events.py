"""Events: demo data for `stadtlotse demo-data` (the organiser is the console user "olaf")."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from services.events import booking as events
from storage.models.identity import ChannelAccount
from storage.uow import UnitOfWork

# title, description, place, days from today, start, hours, price in cents, places
DEMO_EVENTS = [
    (
        "Weihnachtsmarkt-Konzert im Schlosspark",
        "Der Ahauser Musikverein und der Kinderchor St. Mariä Himmelfahrt spielen "
        "Weihnachtslieder vor dem Schloss. Glühwein und Kinderpunsch am Stand.",
        "Schlosspark Ahaus, Sümmermannplatz 1, 48683 Ahaus",
        16,
        time(18, 0),
        2,
        1200,
        200,
    ),
    (
        'Stadtführung "Ahauser Geschichte"',
        "Vom Wasserschloss über die Marienkirche zum Textilmuseum: 90 Minuten zu Fuß durch "
        "700 Jahre Ahaus. Treffpunkt vor der Touristinfo.",
        "Touristinfo Ahaus, Oldenkottplatz 2, 48683 Ahaus",
        4,
        time(14, 0),
        1.5,
        800,
        25,
    ),
    (
        "Kinder-Theater in der Stadthalle: Die kleine Hexe",
        "Theater für Kinder ab 4 Jahren nach Otfried Preußler, etwa 60 Minuten ohne Pause.",
        "Stadthalle Ahaus, Hof zum Ahaus 2, 48683 Ahaus",
        10,
        time(15, 0),
        1,
        600,
        150,
    ),
    (
        "Digital-Sprechstunde in der Stadtbücherei",
        "Fragen zu Smartphone, Tablet und Stadtlotse? Die Digitallotsen helfen, kostenlos. "
        "Bitte das eigene Gerät mitbringen.",
        "Stadtbücherei Ahaus, Rathausplatz 3, 48683 Ahaus",
        2,
        time(10, 0),
        2,
        0,
        12,
    ),
]


async def _console_citizen(uow: UnitOfWork, user: str) -> int | None:
    found = await uow.session.execute(
        select(ChannelAccount.citizen_id).where(
            ChannelAccount.channel == "console", ChannelAccount.external_id == user
        )
    )
    return found.scalar_one_or_none()


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    organiser = await _console_citizen(uow, "olaf")
    if organiser is None:
        return "events: no demo organiser (console user olaf), no events added"
    rules = app.city.section("events", events.EventRules)
    tz = app.city.tz
    today = now.astimezone(tz).date()
    created = []
    for title, description, place, days, start, hours, price, places in DEMO_EVENTS:
        starts_at = datetime.combine(today + timedelta(days=days), start, tzinfo=tz)
        draft = events.EventDraft(
            title=title,
            description=description,
            place=place,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            booking_deadline=starts_at - timedelta(hours=2),
            price_cents=price,
            capacity=places,
        )
        created.append(await events.create_event(uow, organiser, draft, rules, now))
    anna = await _console_citizen(uow, "anna")
    if anna is not None:
        free = created[-1]
        assert free.id is not None
        await events.book(
            uow, app.env, citizen_id=anna, event_id=free.id, quantity=1, rules=rules, now=now
        )
    return (
        f"{len(created)} events by olaf (organiser), one free ticket in anna's wallet"
        if anna is not None
        else f"{len(created)} events by olaf (organiser)"
    )
