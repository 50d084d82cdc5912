"""Filing a defect report, finding reports nearby, following one, and what the public sees.

A report goes to the department its category routes to (city configuration), into that
department's staff room, with its photo. Residents who follow a report (its reporter, if they
want updates, and everyone who confirmed it) hear about each change in their own language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import codes, i18n, notify
from services.audit import log_action
from services.city import City
from services.defects.config import Category, rules
from services.defects.places import Place, box_around, distance_m, in_town
from services.defects.states import CLOSED_STATES, OPEN_STATES, PUBLIC_STATES, REVIEW, SUBMITTED
from services.errors import InvalidInput, NotFound
from services.i18n import N_
from services.numbers import parse_id
from storage.models.defects import DefectEvent as DefectEvent
from storage.models.defects import DefectFollower
from storage.models.defects import DefectReport as DefectReport
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

MAX_DESCRIPTION = 4000  # as Open311 allows
REPORTER, FOLLOWER = "reporter", "follower"


def category_of(city: City, code: str) -> Category:
    found = rules(city).category(code)
    if found is None:
        raise NotFound("There is no category {code}.", code=code[:40])
    return found


def category_word(city: City, code: str) -> dict[str, dict[str, str]]:
    found = rules(city).category(code)
    return (
        i18n.per_language(found.name_de, found.name_en) if found else i18n.per_language(code, code)
    )


def department_word(city: City, key: str) -> dict[str, dict[str, str]]:
    found = city.department(key)
    return i18n.per_language(found.name_de, found.name_en) if found else i18n.per_language(key, key)


class Placed(Protocol):
    address: str
    lat: float
    lon: float


def place_text(report: Placed) -> str:
    return report.address or f"{report.lat:.5f}, {report.lon:.5f}"


def clean_description(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_DESCRIPTION:
        raise InvalidInput(
            "That is too long: at most {max} characters, please.", max=MAX_DESCRIPTION
        )
    return cleaned or None


def add_event(
    uow: UnitOfWork,
    report: DefectReport,
    kind: str,
    now: datetime,
    *,
    citizen_id: int | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    text: str | None = None,
    public: bool = False,
    department: str | None = None,
) -> DefectEvent:
    assert report.id is not None
    event = DefectEvent(
        report_id=report.id,
        citizen_id=citizen_id,
        at=now,
        kind=kind,
        status=report.status,
        actor_id=actor_id,
        actor_name=actor_name,
        department=department,
        text=text,
        public=public,
    )
    uow.session.add(event)
    return event


# ---------------------------------------------------------------- filing
async def file_report(
    uow: UnitOfWork,
    city: City,
    *,
    category: str,
    place: Place,
    now: datetime,
    description: str | None = None,
    citizen_id: int | None = None,
    wants_updates: bool = False,
    source: str = "chat",
    client: str | None = None,
    attributes: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
    media_url: str | None = None,
    photo: tuple[int, str] | None = None,
    review: bool = False,
) -> DefectReport:
    found = category_of(city, category)
    if not in_town(city, place.lat, place.lon):
        raise InvalidInput(
            "This place is outside {town}. We can only take reports within the town.",
            town=city.name,
        )
    report = DefectReport(
        token=codes.new_code(16),
        citizen_id=citizen_id,
        source=source,
        client=client,
        category=found.code,
        department=found.department,
        status=REVIEW if review else SUBMITTED,
        lat=round(place.lat, 6),
        lon=round(place.lon, 6),
        address=place.address[:200],
        zipcode=place.zipcode or rules(city).default_zipcode,
        description=clean_description(description),
        attributes=dict(attributes or {}),
        contact={k: v for k, v in (contact or {}).items() if v},
        media_url=media_url,
        photo_file_id=photo[0] if photo else None,
        photo_token=photo[1] if photo else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(report)
    await uow.session.flush()
    add_event(uow, report, "submitted", now, citizen_id=citizen_id)
    if citizen_id is not None and wants_updates:
        uow.session.add(
            DefectFollower(
                report_id=report.id, citizen_id=citizen_id, role=REPORTER, created_at=now
            )
        )
    log_action(
        uow,
        now,
        "defect.report",
        f"defect:{report.id}",
        actor_citizen_id=citizen_id,
        actor=f"api:{client}" if client else "",
        category=found.code,
    )
    post_to_room(uow, city, report, now)
    return report


def staff_buttons(report: DefectReport) -> list[dict[str, str]]:
    number = str(report.id)
    if report.status == REVIEW:
        return [
            notify.button(N_("Accept"), "defect.accept", number),
            notify.button(N_("Refuse"), "defect.refuse", number),
            notify.button(N_("Details"), "defect.details", number),
        ]
    take = [notify.button(N_("Take"), "defect.take", number)] if report.status == SUBMITTED else []
    return [
        *take,
        notify.button(N_("Close with a note"), "defect.close", number),
        notify.button(N_("Ask the reporter"), "defect.ask", number),
        notify.button(N_("Add a note"), "defect.note", number),
        notify.button(N_("Not ours"), "defect.not_ours", number),
        notify.button(N_("Details"), "defect.details", number),
    ]


def to_room(
    uow: UnitOfWork,
    city: City,
    report: DefectReport,
    key: str,
    params: dict[str, Any],
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    *,
    department: str | None = None,
    media_file_id: int | None = None,
    personal: dict[str, Any] | None = None,
) -> None:
    notes = notify.notify_department(
        uow,
        city,
        department or report.department,
        key,
        {"number": report.id, **params},
        now=now,
        buttons=buttons,
        thread=f"defect-{report.id}",
        ref=f"defect:{report.id}",
        media_file_id=media_file_id,
        personal=personal,
    )
    for note in notes:  # the reporter's words are in it: erased with the reporter's data
        note.citizen_id = report.citizen_id


def post_to_room(
    uow: UnitOfWork, city: City, report: DefectReport, now: datetime, *, forwarded: str = ""
) -> None:
    found = rules(city).category(report.category)
    extras: dict[str, str] = {"de": "", "en": ""}
    for attribute in found.attributes if found else []:
        value = report.attributes.get(attribute.code)
        if value not in (None, "", []):
            for lang in extras:
                extras[lang] += f"\n{attribute.description(lang)}: {value}"
    via = f"API ({report.client})" if report.source == "api" else "Chat"
    params = {
        "category": category_word(city, report.category),
        "place": place_text(report),
        "lat": f"{report.lat:.5f}",
        "lon": f"{report.lon:.5f}",
        "description": report.description or "–",
        "extras": i18n.per_language(extras["de"], extras["en"]),
        "via": via,
        "reason": forwarded,
    }
    key = (
        N_(
            "🛠 Report no. {number} passed on to you: {category}\n{place} ({lat}, {lon})\n"
            "{description}{extras}\nReason: {reason}"
        )
        if forwarded
        else N_(
            "🕵 Report no. {number} awaits your review before it is public: {category}\n"
            "{place} ({lat}, {lon})\n{description}{extras}\nvia {via}"
        )
        if report.status == REVIEW
        else N_(
            "🛠 New report no. {number}: {category}\n{place} ({lat}, {lon})\n"
            "{description}{extras}\nvia {via}"
        )
    )
    to_room(
        uow,
        city,
        report,
        key,
        params,
        now,
        staff_buttons(report),
        media_file_id=report.photo_file_id,
    )


# ---------------------------------------------------------------- nearby and following
@dataclass(frozen=True)
class Nearby:
    report: DefectReport
    distance_m: float


async def open_nearby(
    uow: UnitOfWork, city: City, category: str, lat: float, lon: float
) -> list[Nearby]:
    """Open reports of the category within the configured radius (30 m), nearest first."""
    radius = rules(city).duplicate_radius_m
    lat_min, lat_max, lon_min, lon_max = box_around((lat, lon), radius)
    result = await uow.session.execute(
        select(DefectReport).where(
            DefectReport.category == category,
            col(DefectReport.status).in_(OPEN_STATES),
            col(DefectReport.lat).between(lat_min, lat_max),
            col(DefectReport.lon).between(lon_min, lon_max),
        )
    )
    found = [Nearby(r, distance_m((lat, lon), (r.lat, r.lon))) for r in result.scalars()]
    return sorted((n for n in found if n.distance_m <= radius), key=lambda n: n.distance_m)


async def get(uow: UnitOfWork, number: str | int, *, public: bool = False) -> DefectReport:
    """The report; with `public`, only one the public may see (not one in review)."""
    text = str(number).strip().lstrip("#")
    report_id = parse_id(text)
    report = await uow.session.get(DefectReport, report_id) if report_id is not None else None
    if report is None or (public and report.status not in PUBLIC_STATES):
        raise NotFound("There is no report no. {number}.", number=str(number)[:20])
    return report


async def follow(
    uow: UnitOfWork, number: str | int, citizen_id: int, now: datetime
) -> tuple[DefectReport, bool]:
    """The resident follows the report (and so confirms it). (report, False) if they already
    did; their own report counts no confirmation."""
    report = await get(uow, number, public=True)
    try:
        async with uow.session.begin_nested():
            uow.session.add(
                DefectFollower(
                    report_id=report.id, citizen_id=citizen_id, role=FOLLOWER, created_at=now
                )
            )
    except IntegrityError:
        return report, False
    if report.citizen_id != citizen_id:
        await uow.session.execute(
            update(DefectReport)
            .where(DefectReport.id == report.id)
            .values(confirmations=DefectReport.confirmations + 1)
            .execution_options(synchronize_session=False)
        )
        await uow.session.refresh(report)
        add_event(uow, report, "confirmed", now, citizen_id=citizen_id)
        log_action(uow, now, "defect.confirm", f"defect:{report.id}", actor_citizen_id=citizen_id)
    return report, True


async def unfollow(uow: UnitOfWork, number: str | int, citizen_id: int) -> DefectReport:
    report = await get(uow, number)
    follower = (
        await uow.session.execute(
            select(DefectFollower).where(
                DefectFollower.report_id == report.id, DefectFollower.citizen_id == citizen_id
            )
        )
    ).scalar_one_or_none()
    if follower is not None:
        await uow.session.delete(follower)
    return report


async def followers(uow: UnitOfWork, report: DefectReport) -> list[int]:
    result = await uow.session.execute(
        select(DefectFollower.citizen_id)
        .where(DefectFollower.report_id == report.id)
        .order_by(DefectFollower.id)
    )
    return [int(c) for c in result.scalars()]


async def is_following(uow: UnitOfWork, report: DefectReport, citizen_id: int) -> bool:
    return citizen_id in await followers(uow, report)


async def list_own(uow: UnitOfWork, citizen_id: int, limit: int = 10) -> list[DefectReport]:
    """Reports the resident made or follows, newest first."""
    followed = select(DefectFollower.report_id).where(DefectFollower.citizen_id == citizen_id)
    result = await uow.session.execute(
        select(DefectReport)
        .where(or_(col(DefectReport.citizen_id) == citizen_id, col(DefectReport.id).in_(followed)))
        .order_by(col(DefectReport.created_at).desc(), col(DefectReport.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def history(uow: UnitOfWork, report: DefectReport, *, public_only: bool) -> list[DefectEvent]:
    query = select(DefectEvent).where(DefectEvent.report_id == report.id)
    if public_only:
        query = query.where(col(DefectEvent.public).is_(True))
    return list(
        (await uow.session.execute(query.order_by(DefectEvent.at, DefectEvent.id))).scalars()
    )


async def public_notes(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, list[DefectEvent]]:
    """The public notes of many reports at once (the page, the API)."""
    if not ids:
        return {}
    result = await uow.session.execute(
        select(DefectEvent)
        .where(col(DefectEvent.report_id).in_(ids), col(DefectEvent.public).is_(True))
        .order_by(DefectEvent.at, DefectEvent.id)
    )
    notes: dict[int, list[DefectEvent]] = {}
    for event in result.scalars():
        notes.setdefault(event.report_id, []).append(event)
    return notes


async def for_the_public(
    uow: UnitOfWork, city: City, now: datetime, limit: int = 500
) -> list[DefectReport]:
    """Open reports and those closed in the last days (configured), newest first."""
    since = now - timedelta(days=rules(city).recently_closed_days)
    result = await uow.session.execute(
        select(DefectReport)
        .where(
            or_(
                col(DefectReport.status).in_(OPEN_STATES),
                and_(
                    col(DefectReport.status).in_(CLOSED_STATES),
                    col(DefectReport.closed_at) >= since,
                ),
            )
        )
        .order_by(col(DefectReport.created_at).desc(), col(DefectReport.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def queue(
    uow: UnitOfWork, department: str, limit: int = 20
) -> tuple[list[DefectReport], int]:
    """A department's open reports (and those awaiting review), oldest first, and how many."""
    waiting = (*OPEN_STATES, REVIEW)
    where = (DefectReport.department == department, col(DefectReport.status).in_(waiting))
    total = (
        await uow.session.execute(select(func.count()).select_from(DefectReport).where(*where))
    ).scalar_one()
    result = await uow.session.execute(
        select(DefectReport)
        .where(*where)
        .order_by(DefectReport.created_at, DefectReport.id)
        .limit(limit)
    )
    return list(result.scalars()), int(total)


async def photo(uow: UnitOfWork, report: DefectReport) -> tuple[str, bytes] | None:
    """(mime, data) of the report's re-encoded photo."""
    if report.photo_file_id is None:
        return None
    stored = await uow.session.get(StoredFile, report.photo_file_id)
    return (stored.mime, stored.data) if stored is not None else None
