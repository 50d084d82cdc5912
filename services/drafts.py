"""Half-filled forms: one draft per resident and form, kept until it is sent or discarded, so
a resident can leave in the middle and go on later on any channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from storage.models.conversation import FormDraft
from storage.uow import UnitOfWork

_TABLE = cast(Table, FormDraft.__table__)  # type: ignore[attr-defined]
# statements built once: building and keying one per call cost more than running it
_THE_DRAFT = (_TABLE.c.citizen_id == bindparam("d_citizen"), _TABLE.c.form == bindparam("d_form"))
_FIND = select(FormDraft).where(*_THE_DRAFT)
_DISCARD = delete(_TABLE).where(*_THE_DRAFT)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("d_id"))
    .values(
        answers=bindparam("d_answers", type_=_TABLE.c.answers.type),
        field=bindparam("d_field"),
        updated_at=bindparam("d_at", type_=_TABLE.c.updated_at.type),
    )
)


def _key(citizen_id: int, form: str) -> tuple[str, int, str]:
    return ("form_draft", citizen_id, form)


def remember(uow: UnitOfWork, citizen_id: int, form: str, draft: FormDraft | None) -> None:
    """The draft (or that there is none) as read by someone else in this unit of work: the
    dispatcher reads it with the conversation, so a form step does not read it again."""
    uow.memo[_key(citizen_id, form)] = draft


async def find(uow: UnitOfWork, citizen_id: int, form: str) -> FormDraft | None:
    key = _key(citizen_id, form)
    if key in uow.memo:
        found: FormDraft | None = uow.memo[key]
        return found
    result = await uow.session.execute(_FIND, {"d_citizen": citizen_id, "d_form": form})
    draft = result.scalar_one_or_none()
    uow.memo[key] = draft
    return draft


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
    answers = dict(given)
    if draft is None or draft.id is None:  # new (written with the unit's next flush)
        if draft is None:
            draft = FormDraft(citizen_id=citizen_id, form=form, updated_at=now)
            uow.session.add(draft)
            remember(uow, citizen_id, form, draft)
        draft.answers, draft.field, draft.updated_at = answers, current, now
        return
    # a draft that exists: one prepared UPDATE instead of the ORM's change tracking and flush,
    # and the object told these are its stored values (so nothing is flushed for it again)
    await uow.session.execute(
        _UPDATE, {"d_id": draft.id, "d_answers": answers, "d_field": current, "d_at": now}
    )
    for name, value in (("answers", answers), ("field", current), ("updated_at", now)):
        set_committed_value(draft, name, value)


async def discard(uow: UnitOfWork, citizen_id: int, form: str) -> None:
    known = uow.memo.get(_key(citizen_id, form))
    if known is not None and known in uow.session:  # the ORM must not write it again
        uow.session.expunge(known)
    await uow.session.execute(_DISCARD, {"d_citizen": citizen_id, "d_form": form})
    remember(uow, citizen_id, form, None)
