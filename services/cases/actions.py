"""What staff and residents do to a case once it is submitted: take, approve, reject, ask,
note (staff of the case's department only), answer, add information, withdraw (the resident).
Every status change is a conditional update, a history event, an audit entry and a message to
the resident, in one transaction."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from services import i18n, notify, workdays
from services.audit import log_action
from services.cases import decisions, transit
from services.cases.records import (
    IN_PRIVATE,
    STATUS_LABELS,
    Actor,
    add_event,
    clean_text,
    department_name,
    find_for_staff,
    find_own,
    resident_language,
    staff_buttons,
    title_of,
    to_room,
)
from services.cases.rules import (
    APPROVED,
    CLOSED,
    IN_PROGRESS,
    OPEN_STATUSES,
    QUESTION,
    REJECTED,
    SUBMITTED,
)
from services.city import City
from services.errors import Conflict, InvalidInput
from services.i18n import N_
from storage.models.cases import Case
from storage.uow import UnitOfWork, rows_changed


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
    if rows_changed(changed) != 1:
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
    media_file_id: int | None = None,
    **params: Any,
) -> None:
    notify.notify_citizen(
        uow,
        case.citizen_id,
        key,
        {"ref": case.reference, "title": i18n.word(title_of(case.form)), **params},
        now=now,
        buttons=[*buttons, notify.button(N_("Show the application"), "case.show", case.reference)],
        media_file_id=media_file_id,
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
    add_event(uow, case, "taken", now, actor_id=actor.citizen_id, actor_name=actor.first_name)
    _audit(uow, now, "case.take", case, actor)
    lang = await resident_language(uow, case.citizen_id)
    _tell_resident(
        uow,
        case,
        N_("Your application {ref} ({title}) is now being handled by {name} ({department})."),
        now,
        name=actor.first_name,
        department=department_name(city, case.department, lang),
    )
    return case


async def approve(
    uow: UnitOfWork,
    city: City,
    actor: Actor,
    ref: str,
    now: datetime,
    *,
    daycare: str | None = None,
    conditions: str = "",
) -> Case:
    """Approve, and decide what the approval carries (services/cases/decisions.py): the dog
    tax and tag number, the chosen daycare, the permit PDF; the resident is told all of it."""
    case = await find_for_staff(uow, actor, ref)
    if case.status in OPEN_STATUSES:
        decisions.check(case, daycare=daycare)
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
    add_event(uow, case, "approved", now, actor_id=actor.citizen_id, actor_name=actor.first_name)
    _audit(uow, now, "case.approve", case, actor)
    if case.form == "transit":
        months = await transit.offered_months(uow, city, case, case.citizen_id, now)
        _tell_resident(
            uow,
            case,
            N_(
                "Good news: your application {ref} ({title}) was approved.\n"
                "You can buy the pass for {months} now."
            )
            if months
            else N_("Good news: your application {ref} ({title}) was approved."),
            now,
            buttons=[notify.button(N_("Buy the monthly pass"), "transit.buy", case.reference)]
            if months
            else (),
            months=" / ".join(transit.month_label(m) for m in months),
        )
        return case
    decision = await decisions.decide(uow, city, case, now, daycare=daycare, conditions=conditions)
    if decision.data:
        case.decision = decision.data
    if decision.file_id is not None:
        add_event(
            uow,
            case,
            "permit",
            now,
            actor_id=actor.citizen_id,
            actor_name=actor.first_name,
            file_id=decision.file_id,
        )
    _tell_resident(
        uow, case, decision.message, now, media_file_id=decision.file_id, **decision.params
    )
    return case


def clean_reason(reason: str) -> str:
    """A rejection's reason as passed on to the resident: a few words at least."""
    cleaned = clean_text(reason)
    if len(cleaned) < 5:
        raise InvalidInput("Please give the resident a reason of a few words.")
    return cleaned


async def reject(
    uow: UnitOfWork, city: City, actor: Actor, ref: str, reason: str, now: datetime
) -> Case:
    case = await find_for_staff(uow, actor, ref)
    reason = clean_reason(reason)
    await _move(uow, case, OPEN_STATUSES, REJECTED, now, closed_at=now)
    add_event(
        uow,
        case,
        "rejected",
        now,
        actor_id=actor.citizen_id,
        actor_name=actor.first_name,
        text=reason,
    )
    _audit(uow, now, "case.reject", case, actor)
    lang = await resident_language(uow, case.citizen_id)
    _tell_resident(
        uow,
        case,
        N_(
            "We are sorry: your application {ref} ({title}) could not be approved.\n"
            "Reason given ({department}): {reason}\n"
            "You can answer or object here until {until}: press the button, or type "
            '"Mensch" to talk to one of our Digitallotsen.'
        ),
        now,
        buttons=[notify.button(N_("Answer or object"), "case.object", case.reference)],
        reason=i18n.written(reason, actor.language),
        department=department_name(city, case.department, lang),
        until=i18n.day(objection_until(city, now)),
    )
    return case


def objection_until(city: City, rejected_at: datetime) -> date:
    """One month after the decision (§ 74 Abs. 1 VwGO, § 70 VwGO), ending on a working day
    (§ 57 Abs. 2 VwGO with § 222 Abs. 2 ZPO)."""
    day = rejected_at.astimezone(city.tz).date()
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = calendar.monthrange(year, month)[1]
    return workdays.next_working_day(city, date(year, month, min(day.day, last)))


async def object_to(
    uow: UnitOfWork,
    city: City,
    citizen_id: int,
    ref: str,
    now: datetime,
    *,
    text: str | None = None,
    file: dict[str, Any] | None = None,
) -> Case:
    """The resident answers a rejection or objects to it, inside the case: recorded, and the
    department sees it with a button to reopen the case."""
    case = await find_own(uow, citizen_id, ref)
    if case.status != REJECTED:
        raise Conflict(
            "Application {ref} is {status}; an objection is only possible after a rejection.",
            ref=case.reference,
            status=i18n.word(STATUS_LABELS[case.status]),
        )
    rejected_at = case.closed_at or case.updated_at
    if now.astimezone(city.tz).date() > objection_until(city, rejected_at):
        raise Conflict(
            "The month for an objection to {ref} ended on {until}. Please apply again, or type "
            '"Mensch" to talk to one of our Digitallotsen.',
            ref=case.reference,
            until=i18n.day(objection_until(city, rejected_at)),
        )
    cleaned = clean_text(text) if text is not None else None
    file_id = int(file["file_id"]) if file else None
    case.updated_at = now
    add_event(uow, case, "objection", now, actor_id=citizen_id, text=cleaned, file_id=file_id)
    log_action(uow, now, "case.object", f"case:{case.reference}", actor_citizen_id=citizen_id)
    shown = cleaned or (str(file.get("filename") or "") if file else "")
    to_room(
        uow,
        city,
        case,
        N_("⚖️ The resident answers the rejection of {ref} / objects: {text}"),
        {"ref": case.reference, "text": i18n.word(IN_PRIVATE)},
        now,
        [
            notify.button(N_("Reopen the case"), "staff.reopen", case.reference),
            notify.button(N_("Details"), "staff.details", case.reference),
            *([notify.button(N_("Files"), "staff.files", case.reference)] if file_id else []),
        ],
        personal={"text": shown},
    )
    return case


async def reopen(uow: UnitOfWork, city: City, actor: Actor, ref: str, now: datetime) -> Case:
    """Staff take a rejected case up again after the resident's answer or objection."""
    case = await find_for_staff(uow, actor, ref)
    await _move(
        uow,
        case,
        (REJECTED,),
        IN_PROGRESS,
        now,
        closed_at=None,
        assignee_id=actor.citizen_id,
        assignee_name=actor.first_name,
    )
    add_event(uow, case, "reopened", now, actor_id=actor.citizen_id, actor_name=actor.first_name)
    _audit(uow, now, "case.reopen", case, actor)
    _tell_resident(
        uow,
        case,
        N_("Your application {ref} ({title}) is being looked at again by {name}."),
        now,
        name=actor.first_name,
    )
    return case


async def ask(
    uow: UnitOfWork, city: City, actor: Actor, ref: str, question: str, now: datetime
) -> Case:
    case = await find_for_staff(uow, actor, ref)
    question = clean_text(question)
    await _move(
        uow,
        case,
        OPEN_STATUSES,
        QUESTION,
        now,
        assignee_id=case.assignee_id or actor.citizen_id,
        assignee_name=case.assignee_name or actor.first_name,
    )
    add_event(
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
        question=i18n.written(question, actor.language),
    )
    return case


async def note(uow: UnitOfWork, actor: Actor, ref: str, text: str, now: datetime) -> Case:
    case = await find_for_staff(uow, actor, ref)
    add_event(
        uow,
        case,
        "note",
        now,
        actor_id=actor.citizen_id,
        actor_name=actor.first_name,
        text=clean_text(text),
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
    cleaned = clean_text(text) if text is not None else None
    file_id = int(file["file_id"]) if file else None
    kind = "answer" if was_question else "info"
    add_event(uow, case, kind, now, actor_id=citizen_id, text=cleaned, file_id=file_id)
    log_action(uow, now, f"case.{kind}", f"case:{case.reference}", actor_citizen_id=citizen_id)
    shown = cleaned or (str(file.get("filename") or "") if file else "")
    to_room(
        uow,
        city,
        case,
        N_("💬 The resident answered about {ref}: {text}")
        if was_question
        else N_("📎 New information from the resident about {ref}: {text}"),
        {"ref": case.reference, "text": i18n.word(IN_PRIVATE)},
        now,
        [b for b in staff_buttons(case) if b["action"] != "staff.take"]
        + ([notify.button(N_("Files"), "staff.files", case.reference)] if file_id else []),
        personal={"text": shown},
    )
    return case


async def withdraw(uow: UnitOfWork, city: City, citizen_id: int, ref: str, now: datetime) -> Case:
    case = await find_own(uow, citizen_id, ref)
    await _move(uow, case, OPEN_STATUSES, CLOSED, now, closed_at=now)
    add_event(uow, case, "withdrawn", now, actor_id=citizen_id)
    log_action(uow, now, "case.withdraw", f"case:{case.reference}", actor_citizen_id=citizen_id)
    _tell_resident(uow, case, N_("Your application {ref} ({title}) was withdrawn and closed."), now)
    to_room(
        uow,
        city,
        case,
        N_("↩️ The resident withdrew application {ref}."),
        {"ref": case.reference},
        now,
    )
    return case
