"""A small test double of the Stripe API (Checkout Sessions) over HTTP on loopback.

It checks the parameters of every Checkout Session create call the way Stripe would (mode,
amount, currency, client_reference_id, expiry between 30 minutes and 24 hours, URLs) and
answers with Stripe-shaped JSON. Tests complete or expire sessions with `complete()` /
`expire()` and can make reads fail (`fail_reads`) to see the webhook ask Stripe to retry."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

_ids = itertools.count(1)


class FakeStripe:
    def __init__(self, secret_key: str = "sk_test_fake") -> None:
        self.secret_key = secret_key
        self.sessions: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, str]] = []  # the raw form parameters of each create call
        self.by_idempotency_key: dict[str, str] = {}
        self.fail_reads = False
        self.fail_creates = False
        self.url = ""

    # --------------------------------------------------------------- test controls
    def complete(self, session_id: str, *, paid: bool = True) -> None:
        session = self.sessions[session_id]
        session["status"] = "complete"
        session["payment_status"] = "paid" if paid else "unpaid"
        session["payment_intent"] = f"pi_fake_{session_id[-6:]}"

    def expire(self, session_id: str) -> None:
        self.sessions[session_id]["status"] = "expired"

    # --------------------------------------------------------------- the API
    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.secret_key}"

    @staticmethod
    def _error(message: str, status: int = 400, param: str = "") -> web.Response:
        return web.json_response(
            {"error": {"type": "invalid_request_error", "message": message, "param": param}},
            status=status,
        )

    async def create_session(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error("Invalid API Key provided", 401)
        if self.fail_creates:
            return self._error("An unknown error occurred", 500)
        form = {k: str(v) for k, v in (await request.post()).items()}
        key = request.headers.get("Idempotency-Key", "")
        if key and key in self.by_idempotency_key:
            return web.json_response(self.sessions[self.by_idempotency_key[key]])
        problem = self.check(form)
        if problem:
            return self._error(problem[1], param=problem[0])
        self.created.append(form)
        session_id = f"cs_test_{next(_ids):06d}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": form.get("client_reference_id"),
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
            "currency": form["line_items[0][price_data][currency]"],
            "expires_at": int(form["expires_at"]),
            "payment_intent": None,
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            },
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
        }
        self.sessions[session_id] = session
        if key:
            self.by_idempotency_key[key] = session_id
        return web.json_response(session)

    @staticmethod
    def check(form: dict[str, str]) -> tuple[str, str] | None:
        required = [
            "mode",
            "success_url",
            "cancel_url",
            "client_reference_id",
            "expires_at",
            "line_items[0][quantity]",
            "line_items[0][price_data][currency]",
            "line_items[0][price_data][unit_amount]",
            "line_items[0][price_data][product_data][name]",
        ]
        for name in required:
            if not form.get(name):
                return name, f"Missing required param: {name}."
        if form["mode"] != "payment":
            return "mode", "mode must be payment"
        if form["line_items[0][price_data][currency]"] != "eur":
            return "currency", "currency must be eur"
        amount = form["line_items[0][price_data][unit_amount]"]
        if not amount.isdigit() or int(amount) < 50:
            return "unit_amount", "Amount must be at least €0.50 eur"
        expires = int(form["expires_at"]) - time.time()
        if not 30 * 60 <= expires <= 24 * 3600:
            return "expires_at", "expires_at must be between 30 minutes and 24 hours from now"
        for name in ("success_url", "cancel_url"):
            if not form[name].startswith(("http://", "https://")):
                return name, f"Not a valid URL: {name}"
        return None

    async def read_session(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error("Invalid API Key provided", 401)
        if self.fail_reads:
            return self._error("An unknown error occurred", 500)
        session = self.sessions.get(request.match_info["session_id"])
        if session is None:
            return self._error("No such checkout.session", 404, "id")
        return web.json_response(session)

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/v1/checkout/sessions", self.create_session)
        application.router.add_get("/v1/checkout/sessions/{session_id}", self.read_session)
        return application


@asynccontextmanager
async def running_fake_stripe(secret_key: str = "sk_test_fake") -> AsyncIterator[FakeStripe]:
    fake = FakeStripe(secret_key)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
