"""/meldungen and its assets (Leaflet and the page's own script and style, from the package)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.meldungen.page import page
from services.defects import open311, reports
from services.defects.config import rules

if TYPE_CHECKING:
    from bot.bootstrap import App

STATIC = Path(__file__).parent / "static"


def tile_origin(tile_url: str) -> str:
    """The tile server as a CSP source: {s} subdomains become a wildcard."""
    parts = urlsplit(tile_url)
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def router(app: App) -> APIRouter:
    web = APIRouter()

    @web.api_route("/meldungen", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def meldungen(request: Request) -> Response:
        wanted = request.query_params.get("lang", "")
        lang = (
            wanted
            if wanted in ("de", "en")
            else open311.language(request.headers.get("accept-language", ""), app.city)
        )
        async with app.db.uow() as uow:
            found = await reports.for_the_public(uow, app.city, app.clock.now())
            shown = await open311.publish(uow, found)
            html = page(lang, app.city, shown, app.settings.public_url)
        tiles = tile_origin(rules(app.city).tile_url)
        policy = (
            f"default-src 'self'; img-src 'self' data: {tiles}; script-src 'self'; "
            "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": policy,
                "Content-Language": lang,
                "Cache-Control": "public, max-age=60",
                "Vary": "Accept-Language",
            },
        )

    @web.get("/meldungen/assets/{name:path}")
    async def asset(name: str) -> Response:
        path = (STATIC / name).resolve()
        if not path.is_file() or STATIC.resolve() not in path.parents:
            return Response("not found", status_code=404, media_type="text/plain")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(
            path.read_bytes(), media_type=mime, headers={"Cache-Control": "public, max-age=86400"}
        )

    return web
