"""Demo data for forms and cases: a few applications waiting in the staff rooms."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from services.cases import records as cases
from storage.models.identity import ChannelAccount
from storage.uow import UnitOfWork


def demo_cases(today: date) -> list[tuple[str, str, str, dict[str, Any], str, int]]:
    """(console user, form, department, answers, summary, days ago), dated from `today` (the
    time machine's date when STADTLOTSE_NOW is set)."""
    moving = (today + timedelta(days=23)).isoformat()
    born = date(today.year - 2, 3, 15).isoformat()
    start = date(today.year + 1, 8, 1).isoformat()
    return [
        (
            "ben",
            "space",
            "ordnung",
            {
                "purpose": "removal",
                "place": "Wallstraße 7, 48683 Ahaus",
                "first_day": moving,
                "last_day": moving,
                "area": 15.0,
                "phone": "02561 98765",
            },
            f"removal: Wallstraße 7, 48683 Ahaus, {moving} – {moving}, 15.0 m²",
            3,
        ),
        (
            "anna",
            "daycare",
            "kita",
            {
                "child_first": "Mia",
                "child_last": "Schulte",
                "child_birth": born,
                "start": start,
                "hours": "35",
                "choices": "2",
                "daycare_1": "st-marien",
                "daycare_2": "regenbogen",
                "siblings": None,
                "parent_name": "Anna Schulte",
                "parent_phone": "02561 12345",
                "parent_email": "anna@example.org",
            },
            f"Mia Schulte, geb. {born}, ab {start}, 35 h: st-marien > regenbogen",
            1,
        ),
    ]


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    made = 0
    today = now.astimezone(app.city.tz).date()
    for user, form, department, answers, summary, days in demo_cases(today):
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(
                    ChannelAccount.channel == "console", ChannelAccount.external_id == user
                )
            )
        ).scalar_one_or_none()
        if account is None:
            continue
        await cases.submit(
            uow,
            app.city,
            citizen_id=account.citizen_id,
            form=form,
            department=department,
            answers=answers,
            summary=summary,
            now=now - timedelta(days=days),
        )
        made += 1
    return f"{made} applications waiting in the staff rooms (ordnung, kita)"
