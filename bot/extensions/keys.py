"""Digital keys: the lock API on the web app, `stadtlotse key verify` (the offline reference
check of a lock) and anna's demo bike box."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from bot.bootstrap import App, build_app
from bot.locks import routes
from services.identity import accounts as identity
from services.keys import booking as key_bookings
from services.keys import lock as locks
from services.keys.config import rules as key_rules
from services.trust import tokens
from storage.migrate import upgrade
from storage.uow import UnitOfWork

DEMO_FACILITY = "fahrradbox-bahnhof"


def web(app: App) -> list[APIRouter]:
    return [routes.router(app)]


def cli(commands: Any) -> None:
    key = commands.add_parser("key", help="digital keys: check a key as a lock would")
    actions = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify",
        help="may TOKEN open LOCK? exit 0: open, 1: not (the reason is printed)",
        description="The offline check of a lock: only the public keys and the revocation "
        "list are used (from the files given, else from the database).",
    )
    verify.add_argument("token", help="the key as text (what its QR code carries)")
    verify.add_argument("--lock", required=True, help="the lock id, e.g. fahrradbox-bahnhof-03")
    verify.add_argument("--at", help="check at this time (ISO 8601; default: now)")
    verify.add_argument("--keys", type=Path, help="stadtlotse-keys.json as published")
    verify.add_argument("--revoked", type=Path, help="stadtlotse-revoked.json as published")
    verify.set_defaults(handler=key_verify)


def _moment(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("--at needs a time zone, e.g. 2026-11-25T10:00+01:00 or ...Z")
    return moment


def revoked_from(document: Any) -> set[str]:
    """The token ids of a published revocation list ({"revoked": [{"jti": ...}, ...]})."""
    entries = document.get("revoked", []) if isinstance(document, dict) else []
    return {str(e["jti"]) for e in entries if isinstance(e, dict) and "jti" in e}


async def key_verify(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    try:
        try:
            at = _moment(args.at, app.clock.now())
        except ValueError as error:
            print(f"stadtlotse: {error}", file=sys.stderr)
            return 2
        if args.keys is not None:
            keyset = tokens.KeySet.from_json(json.loads(args.keys.read_text(encoding="utf-8")))
            revoked: set[str] = set()
            if args.revoked is not None:
                revoked = revoked_from(json.loads(args.revoked.read_text(encoding="utf-8")))
        else:
            await upgrade(app.db)
            async with app.db.uow() as uow:
                keyset = await tokens.keyset(uow)
                revoked = await tokens.revoked_ids(uow)
        tolerance = timedelta(seconds=key_rules(app.city).clock_tolerance_seconds)
        decision = locks.decide(
            args.token, keyset, lock=args.lock, now=at, revoked=revoked, tolerance=tolerance
        )
        verdict = "open" if decision.open else "do not open"
        booking = f" (booking {decision.booking_id})" if decision.booking_id is not None else ""
        print(f"{verdict}: {decision.reason}{booking}")
        return 0 if decision.open else 1
    finally:
        await app.close()


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    """Anna has today's bike box at the station (box 1), with her key in the wallet."""
    rules = key_rules(app.city)
    facility = rules.facility(DEMO_FACILITY)
    if facility is None:
        return "no digital keys (the city has no bike boxes configured)"
    account = await identity.find_account(uow, "console", "anna")
    if account is None:
        return "no digital keys (no demo resident anna)"
    anna = account.citizen_id
    slots = await key_bookings.slots(
        uow, app.city, facility, now.astimezone(app.city.tz).date(), now
    )
    result = await key_bookings.book(
        uow,
        app.env,
        citizen_id=anna,
        facility_key=facility.key,
        starts_at=slots[0].slot.starts_at.astimezone(UTC),
        now=now,
    )
    return (
        f"anna's key for {facility.name} box {facility.unit(result.booking.lock_id)} today "
        f"(stadtlotse chat --user anna, then /schluessel; lock id {result.booking.lock_id})"
    )
