"""What staff do with a report (staff of its department only): take it, ask the reporter, add
an internal note, close it with a public note, or say it is not ours, with a reason, passing it
on to another department or closing it. The reporter answers questions. Every status change is
a conditional update, a history event, an audit entry and a message to every follower."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from services import i18n, notify
from services.audit import log_action
from services.cases.records import Actor as Staff
from services.city import City
from services.defects import reports
from services.defects.states import (
    DONE,
    IN_PROGRESS,
    LABELS,
    NOT_OURS,
    OPEN_STATES,
    QUESTION,
    REFUSED,
    REVIEW,
    SUBMITTED,
)
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from storage.models.defects import DefectReport
from storage.uow import UnitOfWork, rows_changed

MAX_NOTE = 1000


def clean(text: str, *, at_least: int = 1) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("That was empty. Please write a short answer.")
    if len(cleaned) < at_least:
        raise InvalidInput("Please write a few words for the residents.")
    if len(cleaned) > MAX_NOTE:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=MAX_NOTE)
    return cleaned


async def for_staff(uow: UnitOfWork, staff: Staff, number: str) -> DefectReport:
    report = await reports.get(uow, number)
    if not staff.serves(report.department):
        raise NotAllowed(
            "Only staff of the department responsible can act on report no. {number}. "
            "Nothing was changed.",
            number=report.id,
        )
    return report


async def _move(
    uow: UnitOfWork,
    report: DefectReport,
    allowed: Sequence[str],
    status: str,
    now: datetime,
    **values: Any,
) -> None:
    """Change the status only if it is still one of `allowed` (two staff pressing at once)."""
    changed = await uow.session.execute(
        update(DefectReport)
        .where(DefectReport.id == report.id, col(DefectReport.status).in_(allowed))
        .values(status=status, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        await uow.session.refresh(report)
        raise Conflict(
            "Report no. {number} is already {status}. Nothing was changed.",
            number=report.id,
            status=i18n.word(LABELS.get(report.status, report.status)),
        )
    await uow.session.refresh(report)


async def tell_followers(
    uow: UnitOfWork,
    city: City,
    report: DefectReport,
    key: str,
    now: datetime,
    **params: Any,
) -> int:
    """Every follower hears about the change, rendered in their own language when sent."""
    told = 0
    for citizen_id in await reports.followers(uow, report):
        notify.notify_citizen(
            uow,
            citizen_id,
            key,
            {
                "number": report.id,
                "category": reports.category_word(city, report.category),
                "place": reports.place_text(report),
                **params,
            },
            now=now,
            buttons=[
                notify.button(N_("Show the report"), "defect.show", str(report.id)),
                notify.button(N_("Stop updates"), "defect.unfollow", str(report.id)),
            ],
            ref=f"defect:{report.id}",
        )
        told += 1
    return told


def _audit(uow: UnitOfWork, now: datetime, action: str, report: DefectReport, staff: Staff) -> None:
    log_action(
        uow,
        now,
        action,
        f"defect:{report.id}",
        actor_citizen_id=staff.citizen_id,
        department=report.department,
    )


async def take(
    uow: UnitOfWork, city: City, staff: Staff, number: str, now: datetime
) -> DefectReport:
    report = await for_staff(uow, staff, number)
    await _move(uow, report, (SUBMITTED,), IN_PROGRESS, now, assignee_name=staff.first_name)
    reports.add_event(
        uow, report, "taken", now, actor_id=staff.citizen_id, actor_name=staff.first_name
    )
    _audit(uow, now, "defect.take", report, staff)
    await tell_followers(
        uow,
        city,
        report,
        N_("🛠 Report no. {number} ({category}, {place}) is being dealt with by the {department}."),
        now,
        department=reports.department_word(city, report.department),
    )
    return report


async def accept(
    uow: UnitOfWork, city: City, staff: Staff, number: str, now: datetime
) -> DefectReport:
    """A report in review becomes public (and gets its Open311 service_request_id)."""
    report = await for_staff(uow, staff, number)
    await _move(uow, report, (REVIEW,), SUBMITTED, now)
    reports.add_event(
        uow, report, "accepted", now, actor_id=staff.citizen_id, actor_name=staff.first_name
    )
    _audit(uow, now, "defect.accept", report, staff)
    return report


async def refuse(
    uow: UnitOfWork, city: City, staff: Staff, number: str, reason: str, now: datetime
) -> DefectReport:
    """A report in review is refused (spam, nonsense): it never becomes public."""
    report = await for_staff(uow, staff, number)
    reason = clean(reason)
    await _move(uow, report, (REVIEW,), REFUSED, now, closed_at=now)
    reports.add_event(
        uow,
        report,
        "refused",
        now,
        actor_id=staff.citizen_id,
        actor_name=staff.first_name,
        text=reason,
    )
    _audit(uow, now, "defect.refuse", report, staff)
    return report


async def close(
    uow: UnitOfWork, city: City, staff: Staff, number: str, note: str, now: datetime
) -> DefectReport:
    report = await for_staff(uow, staff, number)
    note = clean(note, at_least=5)
    await _move(
        uow,
        report,
        OPEN_STATES,
        DONE,
        now,
        closed_at=now,
        status_note=note,
        assignee_name=report.assignee_name or staff.first_name,
    )
    reports.add_event(
        uow,
        report,
        "closed",
        now,
        actor_id=staff.citizen_id,
        actor_name=staff.first_name,
        text=note,
        public=True,
    )
    _audit(uow, now, "defect.close", report, staff)
    await tell_followers(
        uow,
        city,
        report,
        N_(
            "✅ Report no. {number} ({category}, {place}) is done.\n{note}\n"
            "Thank you for reporting it!"
        ),
        now,
        note=i18n.written(note, staff.language),
    )
    return report


async def not_ours(
    uow: UnitOfWork,
    city: City,
    staff: Staff,
    number: str,
    reason: str,
    now: datetime,
    *,
    forward_to: str = "",
) -> DefectReport:
    """Not this department's: pass it on to `forward_to` (it stays open there), or, without a
    department, close it as not the town's responsibility. The reason is public."""
    report = await for_staff(uow, staff, number)
    reason = clean(reason, at_least=5)
    if forward_to:
        if city.department(forward_to) is None:
            raise NotFound("There is no department {key}.", key=forward_to[:50])
        if forward_to == report.department:
            raise InvalidInput(
                "Report no. {number} is already with this department.", number=report.id
            )
        await _move(
            uow,
            report,
            OPEN_STATES,
            SUBMITTED,
            now,
            department=forward_to,
            status_note=reason,
            assignee_name=None,
        )
        reports.add_event(
            uow,
            report,
            "forwarded",
            now,
            actor_id=staff.citizen_id,
            actor_name=staff.first_name,
            text=reason,
            public=True,
            department=forward_to,
        )
        _audit(uow, now, "defect.forward", report, staff)
        reports.post_to_room(uow, city, report, now, forwarded=reason)
        await tell_followers(
            uow,
            city,
            report,
            N_(
                "↪️ Report no. {number} ({category}, {place}) was passed on to the "
                "{department}: {reason}"
            ),
            now,
            department=reports.department_word(city, forward_to),
            reason=reason,
        )
        return report
    await _move(uow, report, OPEN_STATES, NOT_OURS, now, closed_at=now, status_note=reason)
    reports.add_event(
        uow,
        report,
        "not_ours",
        now,
        actor_id=staff.citizen_id,
        actor_name=staff.first_name,
        text=reason,
        public=True,
    )
    _audit(uow, now, "defect.not_ours", report, staff)
    await tell_followers(
        uow,
        city,
        report,
        N_(
            "Report no. {number} ({category}, {place}) is not something the town can fix: "
            "{reason}\n"
            "Thank you all the same for reporting it."
        ),
        now,
        reason=reason,
    )
    return report


async def ask(
    uow: UnitOfWork, city: City, staff: Staff, number: str, question: str, now: datetime
) -> DefectReport:
    report = await for_staff(uow, staff, number)
    if report.citizen_id is None:
        raise Conflict(
            "Report no. {number} came through the Open311 interface: there is nobody to ask "
            "in the chat.",
            number=report.id,
        )
    question = clean(question)
    await _move(
        uow,
        report,
        OPEN_STATES,
        QUESTION,
        now,
        assignee_name=report.assignee_name or staff.first_name,
    )
    reports.add_event(
        uow,
        report,
        "question",
        now,
        actor_id=staff.citizen_id,
        actor_name=staff.first_name,
        text=question,
    )
    _audit(uow, now, "defect.ask", report, staff)
    notify.notify_citizen(
        uow,
        report.citizen_id,
        N_(
            "{name} ({department}) has a question about your report no. {number} "
            "({category}, {place}):\n{question}"
        ),
        {
            "name": staff.first_name,
            "department": reports.department_word(city, report.department),
            "number": report.id,
            "category": reports.category_word(city, report.category),
            "place": reports.place_text(report),
            "question": i18n.written(question, staff.language),
        },
        now=now,
        buttons=[notify.button(N_("Answer"), "defect.answer", str(report.id))],
        ref=f"defect:{report.id}",
    )
    return report


async def note(
    uow: UnitOfWork, staff: Staff, number: str, text: str, now: datetime
) -> DefectReport:
    report = await for_staff(uow, staff, number)
    reports.add_event(
        uow,
        report,
        "note",
        now,
        actor_id=staff.citizen_id,
        actor_name=staff.first_name,
        text=clean(text),
    )
    report.updated_at = now
    _audit(uow, now, "defect.note", report, staff)
    return report


async def answer(
    uow: UnitOfWork, city: City, citizen_id: int, number: str, text: str, now: datetime
) -> DefectReport:
    """The reporter answers the staff's question; the report goes back to whoever handles it."""
    report = await reports.get(uow, number)
    if report.citizen_id != citizen_id:
        raise NotFound("There is no report no. {number}.", number=number[:20])
    if report.status != QUESTION:
        raise Conflict("There is no open question about report no. {number}.", number=report.id)
    cleaned = clean(text)
    back = IN_PROGRESS if report.assignee_name else SUBMITTED
    await _move(uow, report, (QUESTION,), back, now)
    reports.add_event(uow, report, "answer", now, citizen_id=citizen_id, text=cleaned)
    log_action(uow, now, "defect.answer", f"defect:{report.id}", actor_citizen_id=citizen_id)
    reports.to_room(
        uow,
        city,
        report,
        N_("💬 The reporter answered about report no. {number}: {text}"),
        {"text": i18n.word(notify.IN_PRIVATE)},
        now,
        [b for b in reports.staff_buttons(report) if b["action"] != "defect.take"],
        personal={"text": cleaned},
    )
    return report
