"""Half-filled forms: one draft per resident and form, kept until it is sent or discarded, so
a resident can leave in the middle and go on later on any channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from storage.models.conversation import FormDraft
from storage.uow import UnitOfWork


async def find(uow: UnitOfWork, citizen_id: int, form: str) -> FormDraft | None:
    result = await uow.session.execute(
        select(FormDraft).where(FormDraft.citizen_id == citizen_id, FormDraft.form == form)
    )
    return result.scalar_one_or_none()


async def answers(uow: UnitOfWork, citizen_id: int, form: str) -> dict[str, Any] | None:
    """The answers so far, or None when there is no draft."""
    draft = await find(uow, citizen_id, form)
    return dict(draft.answers) if draft is not None else None


async def save(
    uow: UnitOfWork,
    citizen_id: int,
    form: str,
    given: Mapping[str, Any],
    current: str,
    now: datetime,
) -> None:
    draft = await find(uow, citizen_id, form)
    if draft is None:
        draft = FormDraft(citizen_id=citizen_id, form=form, updated_at=now)
        uow.session.add(draft)
    draft.answers = dict(given)
    draft.field = current
    draft.updated_at = now


async def discard(uow: UnitOfWork, citizen_id: int, form: str) -> None:
    await uow.session.execute(
        delete(FormDraft).where(FormDraft.citizen_id == citizen_id, FormDraft.form == form)
    )
