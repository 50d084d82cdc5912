"""The audit log: every change made by staff, merchants, marketing and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models.outbox import AuditEntry
from storage.uow import UnitOfWork


def log_action(
    uow: UnitOfWork,
    now: datetime,
    action: str,
    subject: str = "",
    *,
    actor_citizen_id: int | None = None,
    actor: str = "",
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor_citizen_id=actor_citizen_id,
        actor=actor or (f"citizen:{actor_citizen_id}" if actor_citizen_id else "system"),
        action=action,
        subject=subject,
        details=details,
    )
    uow.session.add(entry)
    return entry
