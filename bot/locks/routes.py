"""The lock API: `POST /keys/verify` (may this key open me now?) and `POST /keys/events` (what
happened at me). A lock authenticates with its own API key (purpose "locks", the key's name is
the lock id): `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Protocol: docs/keys.md."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.apikeys import keys
from services.keys import lock as locks
from services.keys.config import rules as key_rules
from storage.models.apikeys import ApiKey

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)
PURPOSE = "locks"
MAX_EVENTS = 100  # per request

keys.register_purpose(keys.Purpose(PURPOSE, "digital locks", 600, timedelta(hours=1)))


def _secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header[:7].casefold() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key", "").strip()


def _refusal(status: int, reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"open": False, "reason": reason, **extra}, status_code=status)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def router(app: App) -> APIRouter:
    web = APIRouter()

    async def authenticate(request: Request, *, write: bool) -> ApiKey | JSONResponse:
        """The lock's key (its name is the lock id), or the answer that refuses the request."""
        now = app.clock.now()
        async with app.db.uow() as uow:  # use and write counts are kept even when refused
            key = await keys.verify(uow, _secret(request), PURPOSE, now)
            if key is None:
                await uow.commit()
                return _refusal(401, "unauthorized")
            allowed = not write or await keys.take_write(uow, key, now)
            wait = 0 if allowed else await keys.retry_after(uow, key, now)
            await uow.commit()
        if key_rules(app.city).facility_of_lock(key.name) is None:
            return _refusal(403, "unknown_lock")
        if not allowed:
            return _error(
                429, f"too many events; try again in {wait} s", {"Retry-After": str(wait)}
            )
        return key

    @web.post("/keys/verify")
    async def verify(request: Request) -> JSONResponse:
        key = await authenticate(request, write=False)
        if isinstance(key, JSONResponse):
            return key
        body = await _body(request)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or len(token) > 4000:
            return _refusal(400, "malformed")
        if body.get("lock") not in (None, key.name):
            return _refusal(200, locks.WRONG_LOCK)
        async with app.db.uow() as uow:
            decision = await locks.decide_online(uow, token, lock=key.name, now=app.clock.now())
        log.info("lock %s: key %s -> %s", key.name, decision.token_id or "-", decision.reason)
        return JSONResponse(decision.as_json())

    @web.post("/keys/events")
    async def events(request: Request) -> JSONResponse:
        key = await authenticate(request, write=True)
        if isinstance(key, JSONResponse):
            return key
        body = await _body(request)
        raw = body.get("events", [body]) if isinstance(body, dict) else body
        if not isinstance(raw, list) or not raw or len(raw) > MAX_EVENTS:
            return _error(400, f'send one event object or {{"events": [...]}} with 1-{MAX_EVENTS}')
        now = app.clock.now()
        try:
            parsed = [locks.parse_event(item) for item in raw]
            async with app.db.uow() as uow:
                stored, duplicates = await locks.record_events(uow, app.city, key.name, parsed, now)
                await uow.commit()
        except locks.BadEvent as error:
            return _error(400, str(error))
        return JSONResponse({"stored": stored, "duplicates": duplicates})

    return web
