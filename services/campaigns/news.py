"""News and offers from the town: a resident's explicit consent (GDPR), switched on and off in
chat. No row means no consent; every change is kept with its time (the row and the audit log)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from services import audit
from storage.models.campaigns import NewsConsent
from storage.models.outbox import CANCELLED, PENDING, Notification
from storage.uow import UnitOfWork


async def consent(uow: UnitOfWork, citizen_id: int) -> NewsConsent | None:
    return await uow.session.get(NewsConsent, citizen_id)


async def opted_in(uow: UnitOfWork, citizen_id: int) -> bool:
    found = await consent(uow, citizen_id)
    return found is not None and found.opted_in


async def set_consent(
    uow: UnitOfWork, citizen_id: int, wanted: bool, *, now: datetime, via: str
) -> bool:
    """Switch news and offers on or off; returns whether anything changed. Each change is
    recorded with its time (the consent row and the audit log)."""
    found = await consent(uow, citizen_id)
    if found is None:
        if not wanted:
            return False
        uow.session.add(NewsConsent(citizen_id=citizen_id, opted_in=True, changed_at=now, via=via))
    elif found.opted_in == wanted:
        return False
    else:
        found.opted_in, found.changed_at, found.via = wanted, now, via
    await uow.session.flush()
    if not wanted:  # offers still waiting in the outbox are not sent any more
        await uow.session.execute(
            update(Notification)
            .where(
                col(Notification.citizen_id) == citizen_id,
                col(Notification.status) == PENDING,
                col(Notification.ref).like("campaign:%"),
            )
            .values(status=CANCELLED, last_error="unsubscribed")
            .execution_options(synchronize_session=False)
        )
    audit.log_action(
        uow,
        now,
        "news.opt_in" if wanted else "news.opt_out",
        f"citizen:{citizen_id}",
        actor_citizen_id=citizen_id,
        via=via,
    )
    return True
