"""`/v/{token}` (the card check page), `/.well-known/stadtlotse-keys.json` (the town's public
keys, JWK) and `/.well-known/stadtlotse-revoked.json` (ids of revoked tokens not yet expired)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.trust.page import card_page, language
from services.trust import card as cards
from services.trust import tokens

if TYPE_CHECKING:
    from bot.bootstrap import App

KEYS_PATH = "/.well-known/stadtlotse-keys.json"
REVOKED_PATH = "/.well-known/stadtlotse-revoked.json"
PUBLIC_JSON = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def router(app: App) -> APIRouter:
    web = APIRouter()

    @web.api_route("/v/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def check_card(token: str, request: Request) -> Response:
        lang = language(
            request.query_params.get("lang", ""), request.headers.get("accept-language", "")
        )
        async with app.db.uow() as uow:
            shown = await cards.check(uow, app.city, token[:4000], app.clock.now())
        html = card_page(lang, app.city.name, shown, KEYS_PATH)
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "base-uri 'none'; frame-ancestors 'none'",
                "Content-Language": lang,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "Vary": "Accept-Language",
                "X-Robots-Tag": "noindex",
            },
        )

    @web.get(KEYS_PATH)
    async def public_keys() -> Response:
        async with app.db.uow() as uow:
            document = (await tokens.keyset(uow)).to_json()
        return JSONResponse(document, headers=PUBLIC_JSON)

    @web.get(REVOKED_PATH)
    async def revoked() -> Response:
        async with app.db.uow() as uow:
            document = await tokens.revocation_list(uow, app.clock.now())
        return JSONResponse(document, headers=PUBLIC_JSON)

    return web
