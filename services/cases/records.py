"""Cases: every submitted application, its status, history, department and staff actions.

Residents see only their own cases (anything else is "not found", never "not yours"); staff act
only on cases of their own department. Every status change writes a history event, an audit
entry and a notification to the resident, in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from services import i18n, log_context, notify, workdays
from services.audit import log_action
from services.cases.rules import (
    APPROVED,
    CLOSED,
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
from services.errors import InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from storage.models.cases import Case as Case
from storage.models.cases import CaseEvent as CaseEvent
from storage.models.cases import NumberCounter
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
# The kinds of application that become cases: form key -> title (msgid). The form of each
# (flows/apply_*.py) carries the same title; flows/applications.py checks that at import.
FORM_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "dogtax": N_("Dog tax registration"),
        "business": N_("Business registration"),
        "space": N_("Special use of public space"),
        "daycare": N_("Daycare registration"),
        "transit": N_("Subsidised transit ticket"),
    }
)
MAX_TEXT = 2000


@dataclass(frozen=True)
class Actor:
    """A staff member acting in a room: who, with which roles."""

    citizen_id: int
    first_name: str
    roles: frozenset[tuple[str, str]]
    language: str = "de"  # what they write (reasons, questions) is in this language

    def serves(self, department: str) -> bool:
        return ("staff", department) in self.roles


def title_of(form: str) -> str:
    return FORM_TITLES.get(form, form)


def clean_text(value: str) -> str:
    """Free text from staff or the resident: trimmed, single line unless it has breaks."""
    cleaned = " ".join(value.split()) if "\n" not in value else value.strip()
    if not cleaned:
        raise InvalidInput("That was empty. Please write a short answer.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=MAX_TEXT)
    return cleaned


def add_event(
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


async def resident_language(uow: UnitOfWork, citizen_id: int) -> str:
    citizen = await uow.session.get(Citizen, citizen_id)
    return citizen.language if citizen else "de"


def department_name(city: City, key: str, lang: str) -> str:
    found = city.department(key)
    return found.name(lang) if found else key


# ---------------------------------------------------------------- submitting
# Other capabilities look at every new case (trust: marks "identity check pending" where the
# form needs an identity checked in person and the resident has none yet).
SubmitHook = Callable[[UnitOfWork, City, Case, datetime], Awaitable[None]]
_ON_SUBMIT: list[SubmitHook] = []


def on_submit(hook: SubmitHook) -> SubmitHook:
    _ON_SUBMIT.append(hook)
    return hook


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
    details: str = "",
) -> Case:
    """A new case. `summary`: what any staff room may read (no personal data); `details`:
    every answer, for rooms the configuration calls private."""
    if city.department(department) is None:
        raise ValueError(f"unknown department {department!r}")
    form_rules = rules(city)
    days = form_rules.processing_days.get(form)
    local_today = now.astimezone(city.tz).date()
    number = await next_number(uow, form_rules.reference_prefix, local_today.year)
    case = Case(
        reference=reference(form_rules.reference_prefix, local_today.year, number),
        citizen_id=citizen_id,
        form=form,
        department=department,
        status=SUBMITTED,
        answers=dict(answers),
        summary=summary[:300],
        expected_on=workdays.deadline(city, local_today, days) if days else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(case)
    await uow.session.flush()
    assert case.id is not None
    add_event(uow, case, "submitted", now, actor_id=citizen_id)
    for file_id in files:
        add_event(uow, case, "file", now, actor_id=citizen_id, file_id=file_id)
    for hook in _ON_SUBMIT:
        await hook(uow, city, case, now)
    log_action(uow, now, "case.submit", f"case:{case.reference}", actor_citizen_id=citizen_id)
    post_to_room(uow, city, case, now, details)
    return case


async def next_number(uow: UnitOfWork, series: str, year: int) -> int:
    """The next number of a series in a year: 1 for the first of a new year. One statement
    (insert, or add one on conflict) so parallel submissions never get the same number."""
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    counter = NumberCounter.__table__  # type: ignore[attr-defined]
    statement = (
        insert(counter)
        .values(series=series, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[counter.c.series, counter.c.year],
            set_={"last": counter.c.last + 1},
        )
        .returning(counter.c.last)
    )
    return int((await uow.session.execute(statement)).scalar_one())


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


def to_room(
    uow: UnitOfWork,
    city: City,
    case: Case,
    key: str,
    params: dict[str, Any],
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    personal: dict[str, Any] | None = None,
) -> None:
    """A message about `case` into its department's rooms. `personal` parameters (what the
    resident wrote, their answers) replace those of `params` in private rooms only."""
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
        personal=personal,
    )
    for note in notes:  # the room's copy holds personal data: erased with the resident's
        note.citizen_id = case.citizen_id


IN_PRIVATE = notify.IN_PRIVATE


def post_to_room(uow: UnitOfWork, city: City, case: Case, now: datetime, details: str = "") -> None:
    params: dict[str, Any] = {
        "ref": case.reference,
        "title": i18n.word(title_of(case.form)),
        "summary": "\n".join(
            filter(
                None,
                [
                    case.summary or "",
                    i18n.gettext(notify.room_language(city, case.department), IN_PRIVATE),
                ],
            )
        ),
        "expected": i18n.day(case.expected_on) if case.expected_on else "–",
    }
    to_room(
        uow,
        city,
        case,
        N_("📥 New application {ref}: {title}\n{summary}\nDecision expected by {expected}."),
        params,
        now,
        staff_buttons(case),
        personal={"summary": "\n".join(filter(None, [case.summary, details]))} if details else None,
    )


# ---------------------------------------------------------------- finding
async def find_own(uow: UnitOfWork, citizen_id: int, ref_text: str) -> Case:
    """The resident's own case by its reference; someone else's is simply not found."""
    ref = normalise_reference(ref_text)
    case: Case | None = None
    if ref:
        case = (
            await uow.session.execute(select(Case).where(Case.reference == ref))
        ).scalar_one_or_none()
    if case is None or case.citizen_id != citizen_id:
        raise NotFound("No application of yours has the reference {ref}.", ref=ref_text[:40])
    log_context.add(case=case.reference)  # the rest of this input's log lines name the case
    return case


async def find_for_staff(uow: UnitOfWork, actor: Actor, ref_text: str) -> Case:
    ref = normalise_reference(ref_text)
    case: Case | None = None
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
    log_context.add(case=case.reference)  # the rest of this input's log lines name the case
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


def age_days(case: Case, today: date, city: City) -> int:
    return (today - case.created_at.astimezone(city.tz).date()).days
