"""The human helper (Digitallotse): a resident's messages go to the helpdesk room as one thread
per resident; staff answers go back to the resident's chat; either side can end it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from services import notify
from services.audit import log_action
from services.cases.records import Actor
from services.city import City
from services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from services.numbers import parse_int
from storage.models.cases import HelperSession
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

HELPDESK = "lotsen"
OPEN, CLOSED = "open", "closed"
MAX_TEXT = 2000


def thread_ref(session: HelperSession) -> str:
    return f"L-{session.id}"


def parse_ref(text: str) -> int | None:
    cleaned = text.strip().upper().removeprefix("L-").removeprefix("L")
    return parse_int(cleaned, low=1, high=999_999_999)


def _clean(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("That was empty. Please write a short answer.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=MAX_TEXT)
    return cleaned


async def current(uow: UnitOfWork, citizen_id: int) -> HelperSession | None:
    result = await uow.session.execute(
        select(HelperSession)
        .where(HelperSession.citizen_id == citizen_id, HelperSession.status == OPEN)
        .order_by(col(HelperSession.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def _resident_name(uow: UnitOfWork, citizen_id: int) -> str:
    citizen = await uow.session.get(Citizen, citizen_id)
    return (citizen.first_name if citizen else None) or f"#{citizen_id}"


def _room_buttons(session: HelperSession) -> list[dict[str, str]]:
    ref = str(session.id)
    return [
        notify.button(N_("Reply"), "helper.reply", ref),
        notify.button(N_("End the conversation"), "helper.close", ref),
    ]


def _to_room(
    uow: UnitOfWork, city: City, session: HelperSession, key: str, now: datetime, **params: str
) -> None:
    notes = notify.notify_department(
        uow,
        city,
        HELPDESK,
        key,
        {"ref": thread_ref(session), **params},
        now=now,
        buttons=_room_buttons(session) if session.status == OPEN else (),
        thread=thread_ref(session),
        ref=f"helper:{session.id}",
    )
    for note in notes:  # erased with the resident's data (/deleteme)
        note.citizen_id = session.citizen_id


async def start(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> tuple[HelperSession, bool]:
    """The resident's open session, or a new one announced in the helpdesk room."""
    found = await current(uow, citizen_id)
    if found is not None:
        return found, False
    session = HelperSession(citizen_id=citizen_id, opened_at=now, last_at=now)
    uow.session.add(session)
    await uow.session.flush()
    name = await _resident_name(uow, citizen_id)
    _to_room(
        uow, city, session, N_("🙋 {name} would like to talk to a person ({ref})."), now, name=name
    )
    log_action(uow, now, "helper.start", f"helper:{session.id}", actor_citizen_id=citizen_id)
    return session, True


async def from_resident(
    uow: UnitOfWork, city: City, citizen_id: int, text: str, now: datetime
) -> HelperSession:
    session = await current(uow, citizen_id)
    if session is None:
        raise Conflict("This conversation with our helpers has ended.")
    cleaned = _clean(text)
    session.messages += 1
    session.last_at = now
    name = await _resident_name(uow, citizen_id)
    _to_room(uow, city, session, N_("💬 {name} ({ref}): {text}"), now, name=name, text=cleaned)
    return session


async def _staff_session(uow: UnitOfWork, actor: Actor, ref: str) -> HelperSession:
    if not actor.serves(HELPDESK):
        raise NotAllowed("Only the Digitallotsen can answer here. Nothing was changed.")
    number = parse_ref(ref)
    session = await uow.session.get(HelperSession, number) if number else None
    if session is None:
        raise NotFound("There is no conversation {ref}.", ref=ref[:20])
    if session.status != OPEN:
        raise Conflict("This conversation has already ended.")
    return session


async def check_staff(uow: UnitOfWork, actor: Actor, ref: str) -> HelperSession:
    return await _staff_session(uow, actor, ref)


async def from_staff(
    uow: UnitOfWork, actor: Actor, ref: str, text: str, now: datetime
) -> HelperSession:
    session = await _staff_session(uow, actor, ref)
    cleaned = _clean(text)
    first_reply = session.helper_id is None
    if first_reply:
        await uow.session.execute(
            update(HelperSession)
            .where(HelperSession.id == session.id, col(HelperSession.helper_id).is_(None))
            .values(helper_id=actor.citizen_id, helper_name=actor.first_name)
            .execution_options(synchronize_session=False)
        )
        await uow.session.refresh(session)
    session.last_at = now
    notify.notify_citizen(
        uow,
        session.citizen_id,
        N_("👤 {name} (Digitallotse): {text}"),
        {"name": actor.first_name, "text": cleaned},
        now=now,
        buttons=[
            notify.button(N_("Reply"), "helper.resume", str(session.id)),
            notify.button(N_("End the conversation"), "helper.end", str(session.id)),
        ],
        ref=f"helper:{session.id}",
    )
    log_action(uow, now, "helper.reply", f"helper:{session.id}", actor_citizen_id=actor.citizen_id)
    return session


async def end_by_resident(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> HelperSession | None:
    session = await current(uow, citizen_id)
    if session is None:
        return None
    session.status, session.closed_at, session.closed_by = CLOSED, now, "resident"
    name = await _resident_name(uow, citizen_id)
    _to_room(uow, city, session, N_("👋 {name} ended the conversation {ref}."), now, name=name)
    return session


async def end_by_staff(uow: UnitOfWork, actor: Actor, ref: str, now: datetime) -> HelperSession:
    session = await _staff_session(uow, actor, ref)
    session.status, session.closed_at, session.closed_by = CLOSED, now, "staff"
    notify.notify_citizen(
        uow,
        session.citizen_id,
        N_(
            '{name} (Digitallotse) ended the conversation. Write "Mensch" whenever you need '
            "a person again."
        ),
        {"name": actor.first_name},
        now=now,
        ref=f"helper:{session.id}",
    )
    log_action(uow, now, "helper.end", f"helper:{session.id}", actor_citizen_id=actor.citizen_id)
    return session
