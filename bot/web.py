"""The web app: health, readiness, metrics, and the routes extensions add (webhooks, the demo
checkout page). Every replica serves all of it."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text

from bot import extensions
from bot.asgi import ASGIApp, Receive, Scope, Send
from bot.body_limit import BodyLimit
from bot.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

READY_TIMEOUT = 3.0  # seconds the database gets to answer a readiness check


class WebApp:
    """The ASGI app. A few exact paths (the webhooks that carry every chat message) are served
    before the web framework: its middleware and routing cost more per update than the rest
    of the adapter. Everything else is the FastAPI app. The body limit guards both."""

    def __init__(self, framework: FastAPI, hot: dict[str, ASGIApp], limit: int) -> None:
        self.framework = framework
        self.hot = {path: BodyLimit(route, limit=limit) for path, route in hot.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.hot.get(scope["path"]) if scope["type"] == "http" else None
        await (route or self.framework)(scope, receive, send)


def create_web_app(app: App) -> WebApp:
    hot: dict[str, ASGIApp] = {}
    for module in extensions.modules():
        hot_routes = getattr(module, "hot_routes", None)
        if hot_routes is not None:
            hot.update(hot_routes(app))
    return WebApp(create_framework_app(app), hot, app.settings.max_body_bytes)


def create_framework_app(app: App) -> FastAPI:
    web = FastAPI(title="Stadtlotse", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.app = app
    web.add_middleware(BodyLimit, limit=app.settings.max_body_bytes)

    @web.api_route("/healthz", methods=["GET", "HEAD"], response_class=PlainTextResponse)
    async def health() -> str:
        """Liveness: the process runs and its event loop answers."""
        return "ok"

    @web.get("/readyz")
    async def ready() -> JSONResponse:
        """Readiness: the database answers and every configured channel is connected."""
        problems = await readiness_problems(app)
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True, "problems": {}})

    @web.get("/metrics")
    async def metrics() -> Response:
        try:
            await app.metrics.refresh_outbox(app.db)
        except Exception as error:  # the other metrics are still worth having
            log.warning("metrics: could not count the outbox (%s)", type(error).__name__)
        app.metrics.set_roles(app.roles)
        return Response(app.metrics.render(), media_type=CONTENT_TYPE)

    for module in extensions.modules():
        routes = getattr(module, "web", None)
        if routes is not None:
            for router in routes(app):
                web.include_router(router)
    return web


async def readiness_problems(app: App) -> dict[str, str]:
    """What keeps this replica from serving: {"database" or a channel name: the reason}."""
    problems: dict[str, str] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            async with app.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except TimeoutError:
        problems["database"] = f"no answer within {READY_TIMEOUT:.0f} s"
    except Exception as error:
        problems["database"] = f"unreachable ({type(error).__name__})"
    for name, channel in app.channels.items():
        check = getattr(channel, "not_ready", None)
        role = getattr(channel, "role", None)
        if check is None or (role is not None and not app.roles.get(role)):
            continue  # a role another replica holds: not this replica's to connect
        reason = check()
        if inspect.isawaitable(reason):
            reason = await reason
        if reason:
            problems[name] = str(reason)
    return problems
