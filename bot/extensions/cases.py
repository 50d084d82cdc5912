"""Demo data for forms and cases: a few applications waiting in the staff rooms."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from services.cases import records as cases
from storage.models.identity import ChannelAccount
from storage.uow import UnitOfWork

DEMO_CASES = [
    # console user, form, department, answers, summary, days ago
    (
        "ben",
        "space",
        "ordnung",
        {
            "purpose": "removal",
            "place": "Wallstraße 7, 48683 Ahaus",
            "first_day": "2026-12-18",
            "last_day": "2026-12-18",
            "area": 15.0,
            "phone": "02561 98765",
        },
        "removal: Wallstraße 7, 48683 Ahaus, 2026-12-18 – 2026-12-18, 15.0 m²",
        3,
    ),
    (
        "anna",
        "daycare",
        "kita",
        {
            "child_first": "Mia",
            "child_last": "Schulte",
            "child_birth": "2024-03-15",
            "start": "2027-08-01",
            "hours": "35",
            "choices": "2",
            "daycare_1": "st-marien",
            "daycare_2": "regenbogen",
            "siblings": None,
            "parent_name": "Anna Schulte",
            "parent_phone": "02561 12345",
            "parent_email": "anna@example.org",
        },
        "Mia Schulte, geb. 2024-03-15, ab 2027-08-01, 35 h: st-marien > regenbogen",
        1,
    ),
]


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    made = 0
    for user, form, department, answers, summary, days in DEMO_CASES:
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
