"""`stadtlotse demo-data`: a believable Ahaus in an empty database.

The core adds demo people with roles (console accounts, so `stadtlotse chat --user NAME` acts as
them); capabilities add their own data through their extension's `demo` function."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import extensions
from bot.bootstrap import App
from services.identity import accounts as identity
from storage.models.identity import Citizen

PEOPLE = [
    # console user, first name, last name, role, scope
    ("anna", "Anna", "Schulte", None, ""),
    ("ben", "Ben", "Terhaar", None, ""),
    ("petra", "Petra", "Wessels", "staff", "buergerbuero"),
    ("stefan", "Stefan", "Kock", "staff", "steuern"),
    ("olga", "Olga", "Brinkhaus", "staff", "ordnung"),
    ("kira", "Kira", "Elskamp", "staff", "kita"),
    ("frank", "Frank", "Hesselink", "staff", "fundbuero"),
    ("lotte", "Lotte", "Niehues", "staff", "lotsen"),
    ("mara", "Mara", "Overesch", "marketing", ""),
    ("carla", "Carla", "Bünker", "merchant", "cafe-am-schloss"),
    ("bernd", "Bernd", "Schmitz", "merchant", "buchhandlung-schmitz"),
    ("olaf", "Olaf", "Rottmann", "organiser", ""),
    ("admin", "Ada", "Hüsing", "admin", ""),
]


async def fill_demo_data(app: App) -> str:
    now = app.clock.now()
    lines = []
    async with app.db.uow() as uow:
        existing = (
            await uow.session.execute(select(func.count()).select_from(Citizen))
        ).scalar_one()
        if existing:
            return "The database is not empty: demo data is only added to an empty database."
        for user, first, last, role, scope in PEOPLE:
            citizen, _account = await identity.contact(
                uow, channel="console", external_id=user, chat_id=user, now=now, display_name=first
            )
            citizen.first_name, citizen.last_name = first, last
            citizen.town, citizen.postal_code = "Ahaus", "48683"
            citizen.email = f"{user}@example.org"
            if role and not (role in ("staff", "merchant") and not scope):
                assert citizen.id is not None
                await identity.grant_role(uow, citizen.id, role, scope, now=now, by="demo-data")
        lines.append(
            f"{len(PEOPLE)} people (console users: " + ", ".join(p[0] for p in PEOPLE) + ")"
        )
        lines.append(
            f"{len(app.city.departments)} departments and {len(app.city.merchants)} "
            "merchants from the city configuration"
        )
        # DEMO_ORDER (default 50): what others build on comes first (trust: verified residents)
        ordered = sorted(extensions.modules(), key=lambda m: getattr(m, "DEMO_ORDER", 50))
        for module in ordered:
            demo = getattr(module, "demo", None)
            if demo is not None:
                lines.append(await demo(app, uow, now))
        await uow.commit()
    return "Demo data added:\n- " + "\n- ".join(lines)
