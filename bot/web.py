"""The web app: health, and the routes extensions add (webhooks, the demo checkout page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from bot import extensions

if TYPE_CHECKING:
    from bot.bootstrap import App


def create_web_app(app: App) -> FastAPI:
    web = FastAPI(title="Stadtlotse", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.app = app

    @web.get("/healthz", response_class=PlainTextResponse)
    async def health() -> str:
        return "ok"

    for module in extensions.modules():
        routes = getattr(module, "web", None)
        if routes is not None:
            for router in routes(app):
                web.include_router(router)
    return web
