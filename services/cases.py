"""Cases: every submitted application, its status, history, department and staff actions.

Residents see only their own cases (anything else is "not found", never "not yours"); staff act
only on cases of their own department. Every status change writes a history event, an audit
entry and a notification to the resident, in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from services import i18n, notify
from services.audit import log_action
from services.case_rules import (
    APPROVED,
    CLOSED,
    FINAL_STATUSES,
    IN_PROGRESS,
    OPEN_STATUSES,
    QUESTION,
    REJECTED,
    SUBMITTED,
    normalise_reference,
    reference,
    rules,
)
from services.city import City
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from storage.models.cases import Case, CaseEvent
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

STATUS_LABELS = {
    SUBMITTED: N_("submitted"),
    IN_PROGRESS: N_("in progress"),
    QUESTION: N_("question to you"),
    APPROVED: N_("approved"),
    REJECTED: N_("rejected"),
    CLOSED: N_("closed"),
}
FORM_TITLES: dict[str, str] = {}  # form key -> msgid, filled by the forms that submit cases
MAX_TEXT = 2000


@dataclass(frozen=True)
class Actor:
    """A staff member acting in a room: who, with which roles."""

    citizen_id: int
    first_name: str
    roles: frozenset[tuple[str, str]]

    def serves(self, department: str) -> bool:
        return ("staff", department) in self.roles


def title_of(form: str) -> str:
    return FORM_TITLES.get(form, form)


def _text(value: str, what: str = "text") -> str:
    cleaned = " ".join(value.split()) if "\n" not in value else value.strip()
    if not cleaned:
        raise InvalidInput("That was empty. Please write a short answer.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=MAX_TEXT)
    return cleaned


def _event(
    uow: UnitOfWork,
    case: Case,
    kind: str,
    now: datetime,
    *,
    actor_id: int | None = None,
    actor_name: str | None = None,
    text: str | None = None,
    file_id: int | None = None,
    internal: bool = False,
) -> CaseEvent:
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        citizen_id=case.citizen_id,
        at=now,
        actor_id=actor_id,
        actor_name=actor_name,
        kind=kind,
        status=case.status,
        text=text,
        file_id=file_id,
        internal=internal,
    )
    uow.session.add(event)
    return event


async def _language(uow: UnitOfWork, citizen_id: int) -> str:
    citizen = await uow.session.get(Citizen, citizen_id)
    return citizen.language if citizen else "de"


def department_name(city: City, key: str, lang: str) -> str:
    found = city.department(key)
    return found.name(lang) if found else key


# ---------------------------------------------------------------- submitting
async def submit(
    uow: UnitOfWork,
    city: City,
    *,
    citizen_id: int,
    form: str,
    department: str,
    answers: dict[str, Any],
    summary: str,
    now: datetime,
    files: Sequence[int] = (),
) -> Case:
    if city.department(department) is None:
        raise ValueError(f"unknown department {department!r}")
    form_rules = rules(city)
    days = form_rules.processing_days.get(form)
    local_today = now.astimezone(city.tz).date()
    case = Case(
        reference=f"new-{uuid.uuid4().hex}",
        citizen_id=citizen_id,
        form=form,
        department=department,
        status=SUBMITTED,
        answers=dict(answers),
        summary=summary[:300],
        expected_on=local_today + timedelta(days=days) if days else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(case)
    await uow.session.flush()
    assert case.id is not None
    case.reference = reference(form_rules.reference_prefix, local_today.year, case.id)
    _event(uow, case, "submitted", now, actor_id=citizen_id)
    for file_id in files:
        _event(uow, case, "file", now, actor_id=citizen_id, file_id=file_id)
    log_action(uow, now, "case.submit", f"case:{case.reference}", actor_citizen_id=citizen_id)
    post_to_room(uow, city, case, now)
    return case


def staff_buttons(case: Case) -> list[dict[str, str]]:
    ref = case.reference
    buttons = [notify.button(N_("Take"), "staff.take", ref)] if case.status == SUBMITTED else []
    return [
        *buttons,
        notify.button(N_("Approve"), "staff.approve", ref),
        notify.button(N_("Reject"), "staff.reject", ref),
        notify.button(N_("Ask the resident"), "staff.ask", ref),
        notify.button(N_("Add a note"), "staff.note", ref),
        notify.button(N_("Details"), "staff.details", ref),
    ]


def _to_room(
    uow: UnitOfWork,
    city: City,
    case: Case,
    key: str,
    params: dict[str, Any],
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
) -> None:
    notes = notify.notify_department(
        uow,
        city,
        case.department,
        key,
        params,
        now=now,
        buttons=buttons,
        thread=case.reference,
        ref=f"case:{case.reference}",
    )
    for note in notes:  # the room's copy holds personal data: erased with the resident's
        note.citizen_id = case.citizen_id


def post_to_room(uow: UnitOfWork, city: City, case: Case, now: datetime) -> None:
    params: dict[str, Any] = {
        "ref": case.reference,
        "title": i18n.word(title_of(case.form)),
        "summary": case.summary or "",
        "expected": i18n.day(case.expected_on) if case.expected_on else "–",
    }
    _to_room(
        uow,
        city,
        case,
        N_("📥 New application {ref}: {title}\n{summary}\nDecision expected by {expected}."),
        params,
        now,
        staff_buttons(case),
    )


# ---------------------------------------------------------------- finding
async def find_own(uow: UnitOfWork, citizen_id: int, ref_text: str) -> Case:
    """The resident's own case by its reference; someone else's is simply not found."""
    ref = normalise_reference(ref_text)
    case = None
    if ref:
        case = (
            await uow.session.execute(select(Case).where(Case.reference == ref))
        ).scalar_one_or_none()
    if case is None or case.citizen_id != citizen_id:
        raise NotFound("No application of yours has the reference {ref}.", ref=ref_text[:40])
    return case


async def find_for_staff(uow: UnitOfWork, actor: Actor, ref_text: str) -> Case:
    ref = normalise_reference(ref_text)
    case = None
    if ref:
        case = (
            await uow.session.execute(select(Case).where(Case.reference == ref))
        ).scalar_one_or_none()
    if case is None:
        raise NotFound("There is no case {ref}.", ref=ref_text[:40])
    if not actor.serves(case.department):
        raise NotAllowed(
            "Only staff of the department responsible can act on case {ref}. Nothing was changed.",
            ref=case.reference,
        )
    return case


async def list_own(uow: UnitOfWork, citizen_id: int, limit: int = 20) -> list[Case]:
    result = await uow.session.execute(
        select(Case)
        .where(Case.citizen_id == citizen_id)
        .order_by(col(Case.created_at).desc(), col(Case.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def history(uow: UnitOfWork, case: Case, *, for_staff: bool) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case.id)
    if not for_staff:
        query = query.where(col(CaseEvent.internal).is_(False))
    result = await uow.session.execute(query.order_by(CaseEvent.at, CaseEvent.id))
    return list(result.scalars())


async def queue(uow: UnitOfWork, department: str, limit: int = 20) -> tuple[list[Case], int]:
    """A department's open cases, oldest first, and how many are open in all."""
    where = (Case.department == department, col(Case.status).in_(OPEN_STATUSES))
    total = (
        await uow.session.execute(select(func.count()).select_from(Case).where(*where))
    ).scalar_one()
    result = await uow.session.execute(
        select(Case).where(*where).order_by(Case.created_at, Case.id).limit(limit)
    )
    return list(result.scalars()), int(total)


async def case_files(uow: UnitOfWork, case: Case) -> list[int]:
    result = await uow.session.execute(
        select(CaseEvent.file_id).where(
            CaseEvent.case_id == case.id, col(CaseEvent.file_id).is_not(None)
        )
    )
    return [int(f) for f in result.scalars() if f is not None]


# ---------------------------------------------------------------- staff actions
async def _move(
    uow: UnitOfWork, case: Case, allowed: Sequence[str], status: str, now: datetime, **values: Any
) -> None:
    """Change the status only if it is still one of `allowed` (two staff pressing at once)."""
    changed = await uow.session.execute(
        update(Case)
        .where(Case.id == case.id, col(Case.status).in_(allowed))
        .values(status=status, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await uow.session.refresh(case)
        raise Conflict(
            "Case {ref} is already {status}. Nothing was changed.",
            ref=case.reference,
            status=i18n.word(STATUS_LABELS.get(case.status, case.status)),
        )
    await uow.session.refresh(case)


def _tell_resident(
    uow: UnitOfWork,
    case: Case,
    key: str,
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    **params: Any,
) -> None:
    notify.notify_citizen(
        uow,
        case.citizen_id,
        key,
        {"ref": case.reference, "title": i18n.word(title_of(case.form)), **params},
        now=now,
        buttons=[*buttons, notify.button(N_("Show the application"), "case.show", case.reference)],
        ref=f"case:{case.reference}",
    )


def _audit(uow: UnitOfWork, now: datetime, action: str, case: Case, actor: Actor) -> None:
    log_action(
        uow,
        now,
        action,
        f"case:{case.reference}",
        actor_citizen_id=actor.citizen_id,
        department=case.department,
    )


async def take(uow: UnitOfWork, city: City, actor: Actor, ref: str, now: datetime) -> Case:
    case = await find_for_staff(uow, actor, ref)
    await _move(
        uow,
        case,
        (SUBMITTED,),
        IN_PROGRESS,
        now,
        assignee_id=actor.citizen_id,
        assignee_name=actor.first_name,
    )
    _event(uow, case, "taken", now, actor_id=actor.citizen_id, actor_name=actor.first_name)
    _audit(uow, now, "case.take", case, actor)
    lang = await _language(uow, case.citizen_id)
    _tell_resident(
        uow,
        case,
        N_("Your application {ref} ({title}) is now being handled by {name} ({department})."),
        now,
        name=actor.first_name,
        department=department_name(city, case.department, lang),
    )
    return case


async def approve(uow: UnitOfWork, city: City, actor: Actor, ref: str, now: datetime) -> Case:
    case = await find_for_staff(uow, actor, ref)
    await _move(
        uow,
        case,
        OPEN_STATUSES,
        APPROVED,
        now,
        closed_at=now,
        assignee_id=case.assignee_id or actor.citizen_id,
        assignee_name=case.assignee_name or actor.first_name,
    )
    _event(uow, case, "approved", now, actor_id=actor.citizen_id, actor_name=actor.first_name)
    _audit(uow, now, "case.approve", case, actor)
    extra = [notify.button(N_("Buy the monthly pass"), "transit.buy", case.reference)]
    _tell_resident(
        uow,
        case,
        N_("Good news: your application {ref} ({title}) was approved."),
        now,
        buttons=extra if case.form == "transit" else (),
    )
    return case


async def reject(
    uow: UnitOfWork, city: City, actor: Actor, ref: str, reason: str, now: datetime
) -> Case:
    case = await find_for_staff(uow, actor, ref)
    reason = _text(reason)
    if len(reason) < 5:
        raise InvalidInput("Please give the resident a reason of a few words.")
    await _move(uow, case, OPEN_STATUSES, REJECTED, now, closed_at=now)
    _event(
        uow,
        case,
        "rejected",
        now,
        actor_id=actor.citizen_id,
        actor_name=actor.first_name,
        text=reason,
    )
    _audit(uow, now, "case.reject", case, actor)
    lang = await _language(uow, case.citizen_id)
    _tell_resident(
        uow,
        case,
        N_(
            "We are sorry: your application {ref} ({title}) could not be approved.\n"
            "Reason given ({department}): {reason}\n"
            'If you have questions, just reply in your application or type "Mensch" '
            "to talk to one of our Digitallotsen."
        ),
        now,
        reason=reason,
        department=department_name(city, case.department, lang),
    )
    return case


async def ask(
    uow: UnitOfWork, city: City, actor: Actor, ref: str, question: str, now: datetime
) -> Case:
    case = await find_for_staff(uow, actor, ref)
    question = _text(question)
    await _move(
        uow,
        case,
        OPEN_STATUSES,
        QUESTION,
        now,
        assignee_id=case.assignee_id or actor.citizen_id,
        assignee_name=case.assignee_name or actor.first_name,
    )
    _event(
        uow,
        case,
        "question",
        now,
        actor_id=actor.citizen_id,
        actor_name=actor.first_name,
        text=question,
    )
    _audit(uow, now, "case.ask", case, actor)
    _tell_resident(
        uow,
        case,
        N_("{name} has a question about your application {ref} ({title}):\n{question}"),
        now,
        buttons=[notify.button(N_("Answer"), "case.answer", case.reference)],
        name=actor.first_name,
        question=question,
    )
    return case


async def note(uow: UnitOfWork, actor: Actor, ref: str, text: str, now: datetime) -> Case:
    case = await find_for_staff(uow, actor, ref)
    _event(
        uow,
        case,
        "note",
        now,
        actor_id=actor.citizen_id,
        actor_name=actor.first_name,
        text=_text(text),
        internal=True,
    )
    case.updated_at = now
    _audit(uow, now, "case.note", case, actor)
    return case


# ---------------------------------------------------------------- the resident's side
async def answer(
    uow: UnitOfWork,
    city: City,
    citizen_id: int,
    ref: str,
    now: datetime,
    *,
    text: str | None = None,
    file: dict[str, Any] | None = None,
) -> Case:
    """The resident answers the open question, or adds information to an open case."""
    case = await find_own(uow, citizen_id, ref)
    if case.status not in OPEN_STATUSES:
        raise Conflict(
            "Application {ref} is already {status}; nothing can be added any more.",
            ref=case.reference,
            status=i18n.word(STATUS_LABELS[case.status]),
        )
    was_question = case.status == QUESTION
    if was_question:
        back = IN_PROGRESS if case.assignee_id else SUBMITTED
        await _move(uow, case, (QUESTION,), back, now)
    else:
        case.updated_at = now
    cleaned = _text(text) if text is not None else None
    file_id = int(file["file_id"]) if file else None
    kind = "answer" if was_question else "info"
    _event(uow, case, kind, now, actor_id=citizen_id, text=cleaned, file_id=file_id)
    log_action(uow, now, f"case.{kind}", f"case:{case.reference}", actor_citizen_id=citizen_id)
    shown = cleaned or (str(file.get("filename") or "") if file else "")
    _to_room(
        uow,
        city,
        case,
        N_("💬 The resident answered about {ref}: {text}")
        if was_question
        else N_("📎 New information from the resident about {ref}: {text}"),
        {"ref": case.reference, "text": shown},
        now,
        [b for b in staff_buttons(case) if b["action"] != "staff.take"]
        + ([notify.button(N_("Files"), "staff.files", case.reference)] if file_id else []),
    )
    return case


async def withdraw(uow: UnitOfWork, city: City, citizen_id: int, ref: str, now: datetime) -> Case:
    case = await find_own(uow, citizen_id, ref)
    await _move(uow, case, OPEN_STATUSES, CLOSED, now, closed_at=now)
    _event(uow, case, "withdrawn", now, actor_id=citizen_id)
    log_action(uow, now, "case.withdraw", f"case:{case.reference}", actor_citizen_id=citizen_id)
    _tell_resident(uow, case, N_("Your application {ref} ({title}) was withdrawn and closed."), now)
    _to_room(
        uow,
        city,
        case,
        N_("↩️ The resident withdrew application {ref}."),
        {"ref": case.reference},
        now,
    )
    return case


def is_final(case: Case) -> bool:
    return case.status in FINAL_STATUSES


def age_days(case: Case, today: date, city: City) -> int:
    return (today - case.created_at.astimezone(city.tz).date()).days
