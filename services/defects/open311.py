"""Defect reports as Open311 GeoReport v2 sees them: services, service definitions, request
records, list filters, and requests posted by API clients. Plain data here; bot/open311 turns
it into JSON or XML.

What leaves through this view is public: never the reporter's name, e-mail, phone or chat
identity. The reporter's description is public (as in the specification), with e-mail addresses
and telephone numbers, and the reporter's own name, taken out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from services.apikeys import keys
from services.city import City
from services.defects import places, reports
from services.defects.config import Attribute, Category, rules
from services.defects.states import PUBLIC_STATES, REFUSED, open311_status, states_for
from services.numbers import parse_decimal, parse_id, parse_int
from storage.models.defects import DefectEvent, DefectReport
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

PURPOSE = "open311"  # the API keys' purpose
REVIEWED = "open311-review"  # keys whose reports staff check before they become public
MAX_RANGE = timedelta(days=90)
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
CONTACT_FIELDS = ("email", "device_id", "account_id", "first_name", "last_name", "phone")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d /().-]{6,}\d(?![\w])")


keys.register_purpose(keys.Purpose(PURPOSE, "Open311 GeoReport v2 clients", 30, timedelta(hours=1)))
keys.register_purpose(
    keys.Purpose(
        REVIEWED, "Open311 clients whose reports staff check first", 30, timedelta(hours=1)
    )
)


class Open311Error(Exception):
    """An answer in the specification's error format: HTTP status and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def language(accept: str, city: City) -> str:
    """The language of names and descriptions: English when the client prefers it."""
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("de", "en"):
            return code
    return city.default_language


# ---------------------------------------------------------------- services
def service(category: Category, lang: str) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name(lang),
        "description": category.description(lang),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": category.group,
    }


def services(city: City, lang: str) -> list[dict[str, Any]]:
    return [service(c, lang) for c in rules(city).categories]


def attribute(item: Attribute, order: int, lang: str) -> dict[str, Any]:
    return {
        "variable": True,
        "code": item.code,
        "datatype": item.datatype,
        "required": item.required,
        "datatype_description": item.datatype_description,
        "order": order,
        "description": item.description(lang),
        "values": [
            {"key": v.key, "name": v.name_en if lang == "en" else v.name_de} for v in item.values
        ],
    }


def definition(city: City, code: str, lang: str) -> dict[str, Any]:
    category = rules(city).category(code)
    if category is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    if not category.attributes:
        raise Open311Error(404, f"service_code {code!r} has no further attributes (metadata false)")
    return {
        "service_code": category.code,
        "attributes": [attribute(a, i, lang) for i, a in enumerate(category.attributes, 1)],
    }


# ---------------------------------------------------------------- records
def w3c(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else None


def scrub(text: str | None, names: Sequence[str] = ()) -> str:
    """The description for the public: without e-mail addresses, phone numbers and names."""
    if not text:
        return ""
    cleaned = PHONE.sub("[…]", EMAIL.sub("[…]", text))
    for name in names:
        if len(name) >= 3:
            cleaned = re.sub(rf"(?i)\b{re.escape(name)}\b", "[…]", cleaned)
    return cleaned


class Listed(Protocol):
    """A report as lists read it: a table row (fast for thousands) or a DefectReport."""

    id: int | None
    citizen_id: int | None
    category: str
    department: str
    status: str
    lat: float
    lon: float
    address: str
    zipcode: str
    description: str | None
    contact: dict[str, Any]
    media_url: str | None
    photo_token: str | None
    status_note: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Public:
    """What the public may know about one report (the page and the API show this)."""

    report: Listed
    description: str
    notes: list[DefectEvent]


async def publish(
    uow: UnitOfWork, found: Sequence[Listed], *, with_notes: bool = True
) -> list[Public]:
    """Scrubbed descriptions (and the public notes) of many reports, in two queries."""
    ids = [r.id for r in found if r.id is not None]
    citizens = {r.citizen_id for r in found if r.citizen_id is not None}
    names: dict[int, list[str]] = {}
    if citizens:
        rows = await uow.session.execute(
            select(Citizen.id, Citizen.first_name, Citizen.last_name).where(
                col(Citizen.id).in_(citizens)
            )
        )
        for citizen_id, first, last in rows.all():
            names[int(citizen_id)] = [n for n in (first, last) if n]
    notes = await reports.public_notes(uow, ids) if with_notes else {}
    shown = []
    for report in found:
        own = names.get(report.citizen_id or 0, []) + [
            str(report.contact.get(k) or "") for k in ("first_name", "last_name")
        ]
        shown.append(Public(report, scrub(report.description, own), notes.get(report.id or 0, [])))
    return shown


def media_url(report: Listed, public_url: str) -> str | None:
    if report.photo_token:
        return f"{public_url.rstrip('/')}/open311/media/{report.photo_token}.jpg"
    return report.media_url


def record(item: Public, city: City, public_url: str, lang: str) -> dict[str, Any]:
    report = item.report
    category = rules(city).category(report.category)
    department = city.department(report.department)
    return {
        "service_request_id": str(report.id),
        "status": open311_status(report.status),
        "status_notes": report.status_note or "",
        "service_name": category.name(lang) if category else report.category,
        "service_code": report.category,
        "description": item.description,
        "agency_responsible": department.name(lang) if department else report.department,
        "service_notice": category.notice(lang) if category else "",
        "requested_datetime": w3c(report.created_at, city.tz),
        "updated_datetime": w3c(report.updated_at, city.tz),
        "expected_datetime": None,
        "address": reports.place_text(report),
        "address_id": None,
        "zipcode": report.zipcode,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media_url(report, public_url),
    }


# ---------------------------------------------------------------- searching
def parse_moment(text: str, name: str, tz: ZoneInfo, *, end: bool = False) -> datetime:
    """A W3C date-time ("2026-11-01T00:00:00Z", "...+01:00") or a date (the whole day)."""
    value = text.strip()
    if "T" in value and " " in value:  # an unencoded "+01:00" arrives as " 01:00"
        value = value.replace(" ", "+")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400, f"{name} is not a W3C date-time such as 2026-11-01T00:00:00Z: {text[:40]!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@dataclass(frozen=True)
class Query:
    ids: list[int] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT


def split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_query(params: Mapping[str, str], city: City, now: datetime) -> Query:
    tz = city.tz
    limit = DEFAULT_LIMIT
    if params.get("limit"):
        parsed = parse_int(params["limit"], low=1, high=MAX_LIMIT)
        if parsed is None:
            raise Open311Error(400, f"limit must be a number from 1 to {MAX_LIMIT}")
        limit = parsed
    wanted = split(params.get("service_request_id"))
    if wanted:  # overrides every other filter
        ids = [parse_id(part) for part in wanted]
        if None in ids:
            raise Open311Error(400, "service_request_id must be numbers, comma-separated")
        return Query(ids=[i for i in ids if i is not None][:MAX_LIMIT], limit=limit)
    codes = split(params.get("service_code")) or None
    for code in codes or []:
        if rules(city).category(code) is None:
            raise Open311Error(400, f"service_code {code!r} is not one of this city's services")
    statuses: tuple[str, ...] | None = None
    wanted_status = split(params.get("status"))
    if wanted_status:
        if any(s not in ("open", "closed") for s in wanted_status):
            raise Open311Error(400, "status must be open, closed or both (comma-separated)")
        statuses = tuple(s for status in set(wanted_status) for s in states_for(status))
    start_text, end_text = params.get("start_date"), params.get("end_date")
    start = parse_moment(start_text, "start_date", tz) if start_text else None
    end = parse_moment(end_text, "end_date", tz, end=True) if end_text else None
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > MAX_RANGE:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_RANGE
    if end is None:
        end = start + MAX_RANGE
    return Query(codes=codes, start=start, end=end, statuses=statuses, limit=limit)


async def search(uow: UnitOfWork, query: Query) -> list[Listed]:
    """Plain table rows, not ORM objects: building 10,000 of those took most of the time."""
    table = DefectReport.__table__  # type: ignore[attr-defined]
    select_reports = select(table).where(col(DefectReport.status).in_(PUBLIC_STATES))
    if query.ids is not None:
        select_reports = select_reports.where(col(DefectReport.id).in_(query.ids))
    else:
        if query.codes:
            select_reports = select_reports.where(col(DefectReport.category).in_(query.codes))
        if query.statuses:
            select_reports = select_reports.where(col(DefectReport.status).in_(query.statuses))
        if query.start is not None:
            select_reports = select_reports.where(DefectReport.created_at >= query.start)
        if query.end is not None:
            select_reports = select_reports.where(DefectReport.created_at <= query.end)
    result = await uow.session.execute(
        select_reports.order_by(
            col(DefectReport.created_at).desc(), col(DefectReport.id).desc()
        ).limit(query.limit)
    )
    return cast(list[Listed], list(result.all()))


async def one(uow: UnitOfWork, number: str) -> DefectReport:
    report_id = parse_id(number)
    report = await uow.session.get(DefectReport, report_id) if report_id is not None else None
    if report is None or report.status not in PUBLIC_STATES:
        raise Open311Error(404, f"service_request_id {number[:20]!r} not found")
    return report


async def by_token(uow: UnitOfWork, token: str) -> DefectReport:
    report: DefectReport | None = (
        await uow.session.execute(select(DefectReport).where(DefectReport.token == token[:20]))
    ).scalar_one_or_none()
    if report is None or report.status == REFUSED:
        raise Open311Error(404, f"token {token[:20]!r} not found")
    return report


async def photo_by_token(uow: UnitOfWork, token: str) -> tuple[str, bytes] | None:
    if not token or len(token) > 24:
        return None
    report = (
        await uow.session.execute(select(DefectReport).where(DefectReport.photo_token == token))
    ).scalar_one_or_none()
    return await reports.photo(uow, report) if report is not None else None


# ---------------------------------------------------------------- posting
def attribute_values(category: Category, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """attribute[CODE]=value (multivaluelist: attribute[CODE][]=a&attribute[CODE][]=b)."""
    values: dict[str, Any] = {}
    for item in category.attributes:
        given = [v.strip() for v in form.get(f"attribute[{item.code}]", []) if v.strip()]
        given += [v.strip() for v in form.get(f"attribute[{item.code}][]", []) if v.strip()]
        if not given:
            if item.required:
                raise Open311Error(400, f"attribute[{item.code}] is required for {category.code}")
            continue
        keys = {v.key for v in item.values}
        if item.datatype == "number":
            if parse_decimal(given[0], signed=True) is None:
                raise Open311Error(400, f"attribute[{item.code}] must be a number")
            values[item.code] = given[0]
        elif item.datatype == "singlevaluelist":
            if given[0] not in keys:
                raise Open311Error(400, f"attribute[{item.code}] must be one of {sorted(keys)}")
            values[item.code] = given[0]
        elif item.datatype == "multivaluelist":
            if any(v not in keys for v in given):
                raise Open311Error(400, f"attribute[{item.code}] must be from {sorted(keys)}")
            values[item.code] = given
        else:
            values[item.code] = given[0][:500]
    return values


def place_of(city: City, form: Mapping[str, Sequence[str]]) -> places.Place:
    def first(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    lat_text, lon_text = first("lat"), first("long")
    if lat_text or lon_text:
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise Open311Error(400, "lat and long must both be decimal degrees") from None
        if not places.in_town(city, lat, lon):
            raise Open311Error(
                400, f"lat/long lies outside {city.name}; this service covers only the town"
            )
        street = places.nearest_street(city, lat, lon)
        return places.Place(
            lat, lon, first("address_string")[:200] or street, rules(city).default_zipcode
        )
    address = first("address_string")
    if address:
        found, guesses = places.resolve(city, address)
        if found is None:
            hint = f"; did you mean {', '.join(g.street.name for g in guesses)}?" if guesses else ""
            raise Open311Error(
                400, f"address_string {address[:80]!r} is not a street of {city.name}{hint}"
            )
        return found
    if first("address_id"):
        raise Open311Error(
            400, "address_id is not supported here: send lat and long or address_string"
        )
    raise Open311Error(400, "a location is required: lat and long, or address_string")


async def create(
    uow: UnitOfWork,
    city: City,
    client: str,
    form: Mapping[str, Sequence[str]],
    now: datetime,
    *,
    review: bool = False,
) -> DefectReport:
    def first(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    code = first("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    category = rules(city).category(code)
    if category is None:
        raise Open311Error(400, f"service_code {code!r} is not one of this city's services")
    place = place_of(city, form)
    description = first("description")
    if len(description) > reports.MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {reports.MAX_DESCRIPTION} characters")
    media = first("media_url")
    if media and (not re.match(r"https?://", media) or len(media) > 500):
        raise Open311Error(400, "media_url must be an http(s) URL of at most 500 characters")
    contact = {name: first(name)[:200] for name in CONTACT_FIELDS if first(name)}
    return await reports.file_report(
        uow,
        city,
        category=code,
        place=place,
        now=now,
        description=description or None,
        source="api",
        client=client,
        attributes=attribute_values(category, form),
        contact=contact,
        media_url=media or None,
        review=review,
    )
