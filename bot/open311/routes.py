"""The Open311 GeoReport v2 endpoints under /open311/v2/, the discovery document and the
photo URLs. `jurisdiction_id` is accepted everywhere and ignored: one town, one jurisdiction.
Every answer is JSON or XML as the path's format says; errors use the specification's list of
{code, description} with HTTP 400, 403, 404 (and 429 for a key over its write limit)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.open311.render import answer, errors
from services.apikeys import keys
from services.defects import open311
from services.defects.config import rules
from services.defects.open311 import PURPOSE, REVIEWED, Open311Error
from services.defects.states import REVIEW
from storage.models.defects import DefectReport
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-30T00:00:00Z"

keys.register_purpose(keys.Purpose(PURPOSE, "Open311 GeoReport v2 clients", 30, timedelta(hours=1)))


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"unknown format {fmt[:10]!r}: use .json or .xml")
    return fmt


def router(app: App) -> APIRouter:
    web = APIRouter()

    def base_url() -> str:
        return f"{app.settings.public_url.rstrip('/')}/open311/v2"

    async def records(
        uow: UnitOfWork, found: list[DefectReport], lang: str
    ) -> list[dict[str, Any]]:
        shown = await open311.publish(uow, found, with_notes=False)  # status_notes suffice
        return [open311.record(item, app.city, app.settings.public_url, lang) for item in shown]

    @web.get("/open311/discovery.json")
    async def discovery() -> Response:
        defects = rules(app.city)
        return answer(
            "json",
            {
                "changeset": CHANGESET,
                "contact": defects.api_contact,
                "key_service": defects.api_key_service,
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": base_url(),
                        "changeset": CHANGESET,
                        "type": "production",
                        "formats": ["application/json", "text/xml"],
                    }
                ],
            },
            root="discovery",
            item=None,
        )

    @web.get("/open311/v2/services.{fmt}")
    async def services(fmt: str, request: Request) -> Response:
        try:
            fmt = _format(fmt)
            lang = open311.language(request.headers.get("accept-language", ""), app.city)
            return answer(fmt, open311.services(app.city, lang), root="services", item="service")
        except Open311Error as error:
            return errors(
                fmt if fmt in ("json", "xml") else "json", error.status, error.description
            )

    @web.get("/open311/v2/services/{code}.{fmt}")
    async def definition(code: str, fmt: str, request: Request) -> Response:
        try:
            fmt = _format(fmt)
            lang = open311.language(request.headers.get("accept-language", ""), app.city)
            found = open311.definition(app.city, code, lang)
            return answer(fmt, found, root="service_definition", item=None)
        except Open311Error as error:
            return errors(
                fmt if fmt in ("json", "xml") else "json", error.status, error.description
            )

    @web.get("/open311/v2/requests.{fmt}")
    async def requests_list(fmt: str, request: Request) -> Response:
        try:
            fmt = _format(fmt)
            lang = open311.language(request.headers.get("accept-language", ""), app.city)
            query = open311.parse_query(dict(request.query_params), app.city, app.clock.now())
            async with app.db.reader() as uow:
                rows = await records(uow, await open311.search(uow, query), lang)
            return answer(fmt, rows, root="service_requests", item="request")
        except Open311Error as error:
            return errors(
                fmt if fmt in ("json", "xml") else "json", error.status, error.description
            )

    @web.get("/open311/v2/requests/{number}.{fmt}")
    async def request_one(number: str, fmt: str, request: Request) -> Response:
        try:
            fmt = _format(fmt)
            lang = open311.language(request.headers.get("accept-language", ""), app.city)
            async with app.db.reader() as uow:
                rows = await records(uow, [await open311.one(uow, number)], lang)
            return answer(fmt, rows, root="service_requests", item="request")
        except Open311Error as error:
            return errors(
                fmt if fmt in ("json", "xml") else "json", error.status, error.description
            )

    @web.get("/open311/v2/tokens/{token}.{fmt}")
    async def token(token: str, fmt: str) -> Response:
        try:
            fmt = _format(fmt)
            async with app.db.reader() as uow:
                found = await open311.by_token(uow, token)
                number = str(found.id) if found.status != REVIEW else None  # not yet accepted
                rows = [{"service_request_id": number, "token": found.token}]
            return answer(fmt, rows, root="service_requests", item="request")
        except Open311Error as error:
            return errors(
                fmt if fmt in ("json", "xml") else "json", error.status, error.description
            )

    @web.post("/open311/v2/requests.{fmt}")
    async def post_request(fmt: str, request: Request) -> Response:
        try:
            fmt = _format(fmt)
            form = await request.form()
            values = {name: [str(v) for v in form.getlist(name)] for name in form}
            return await create(fmt, values)
        except Open311Error as error:
            shown = fmt if fmt in ("json", "xml") else "json"
            headers = {"Retry-After": str(error.retry)} if isinstance(error, Limited) else None
            return errors(shown, error.status, error.description, headers)

    async def create(fmt: str, values: dict[str, list[str]]) -> Response:
        secret = (values.get("api_key") or [""])[0]
        now = app.clock.now()
        defects = rules(app.city)
        async with app.db.uow() as uow:  # counted even when the request turns out wrong
            key = await keys.verify(uow, secret, PURPOSE, now)
            if key is None:
                key = await keys.verify(uow, secret, REVIEWED, now)
            if key is None:
                await uow.commit()
                raise Open311Error(403, "api_key is missing, unknown or revoked")
            allowed = await keys.take_write(
                uow,
                key,
                now,
                limit=key.rate_limit or defects.api_write_limit,
                window=timedelta(minutes=defects.api_write_window_minutes),
            )
            wait = 0 if allowed else await keys.retry_after(uow, key, now)
            await uow.commit()
            client, review = key.name, key.purpose == REVIEWED
        if not allowed:
            raise Limited(wait)
        async with app.db.uow() as uow:
            report = await open311.create(uow, app.city, client, values, now, review=review)
            category = defects.category(report.category)
            # queued for review: only the token; the id follows once staff accepted it
            row: dict[str, Any] = (
                {"token": report.token}
                if review
                else {
                    "service_request_id": str(report.id),
                    "token": report.token,
                }
            )
            row |= {
                "service_notice": category.notice(app.city.default_language) if category else "",
                "account_id": (values.get("account_id") or [""])[0] or None,
            }
            await uow.commit()
        return answer(fmt, [row], root="service_requests", item="request")

    @web.get("/open311/media/{token}.jpg")
    async def photo(token: str) -> Response:
        """A report's photo (re-encoded, without EXIF) under a random name."""
        async with app.db.uow() as uow:
            found = await open311.photo_by_token(uow, token)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        mime, data = found
        return Response(data, media_type=mime, headers={"Cache-Control": "public, max-age=86400"})

    return web


class Limited(Open311Error):
    def __init__(self, retry: int) -> None:
        super().__init__(429, f"too many requests with this api_key; try again in {retry} s")
        self.retry = retry
