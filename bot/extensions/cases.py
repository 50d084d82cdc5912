"""Demo data for forms and cases: a few applications waiting in the staff rooms."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from flows.applications import room_texts
from flows.context import Ctx
from flows.types import Inbound
from services.cases import records as cases
from storage.models.identity import ChannelAccount, Citizen
from storage.uow import UnitOfWork


def demo_cases(today: date) -> list[tuple[str, str, str, dict[str, Any], int]]:
    """(console user, form, department, answers, days ago), dated from `today` (the time
    machine's date when STADTLOTSE_NOW is set)."""
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
            1,
        ),
    ]


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    made = 0
    today = now.astimezone(app.city.tz).date()
    for user, form, department, answers, days in demo_cases(today):
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(
                    ChannelAccount.channel == "console", ChannelAccount.external_id == user
                )
            )
        ).scalar_one_or_none()
        if account is None:
            continue
        citizen = await uow.session.get(Citizen, account.citizen_id)
        assert citizen is not None
        # the room reads the application as if it had been sent through the form
        ctx = Ctx(
            uow=uow,
            now=now,
            env=app.env,
            citizen=citizen,
            account=account,
            inbound=Inbound(channel="console", user_id=user, chat_id=user, kind="text"),
            roles=set(),
        )
        summary, details = room_texts(ctx, form, answers)
        await cases.submit(
            uow,
            app.city,
            citizen_id=account.citizen_id,
            form=form,
            department=department,
            answers=answers,
            summary=summary,
            details=details,
            now=now - timedelta(days=days),
        )
        made += 1
    return f"{made} applications waiting in the staff rooms (ordnung, kita)"
