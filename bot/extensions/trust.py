"""Trust: the key secret at start, `stadtlotse keys rotate`, `stadtlotse credential verify`,
the card check page and the published keys, and anna's check and card in the demo data."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from bot.bootstrap import App, build_app
from bot.trust import routes
from services.identity import accounts as identity
from services.trust import card as cards
from services.trust import checks, secret, tokens
from storage.migrate import upgrade
from storage.models.identity import Citizen
from storage.uow import UnitOfWork

DEMO_ORDER = 10  # before campaigns and events: they look for verified residents


def setup(app: App) -> None:
    settings = app.settings
    # read (or made) when first needed, so that commands like `restore` find the data
    # directory as they left it
    app.db.key_secret = functools.cache(lambda: secret.load(settings.key_secret, settings.data_dir))


def web(app: App) -> list[APIRouter]:
    return [routes.router(app)]


def cli(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the town's signing keys: rotate")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = actions.add_parser(
        "rotate", help="make a new signing key; what the old one signed stays valid"
    )
    rotate.set_defaults(handler=keys_rotate)
    credential = commands.add_parser("credential", help="resident cards: verify")
    verbs = credential.add_subparsers(dest="credential_command", required=True, metavar="ACTION")
    verify = verbs.add_parser(
        "verify", help="check a resident card (token or check link); exit 0 valid, 1 not"
    )
    verify.add_argument("token", help="the token, or the whole link {PUBLIC_URL}/v/TOKEN")
    verify.add_argument(
        "--keys", type=Path, help="offline: a saved copy of /.well-known/stadtlotse-keys.json"
    )
    verify.add_argument(
        "--revoked", type=Path, help="offline: a saved copy of /.well-known/stadtlotse-revoked.json"
    )
    verify.add_argument("--at", help="check at this ISO time instead of now")
    verify.set_defaults(handler=credential_verify)


async def keys_rotate(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        async with app.db.uow() as uow:
            now = app.clock.now()
            kid = await tokens.rotate(uow, now)
            known = await tokens.keyset(uow)
            await uow.commit()
        print(f"new signing key {kid}; {len(known.keys) - 1} older keys stay for verification")
        return 0
    finally:
        await app.close()


def token_of(text: str) -> str:
    """The token itself, also from a pasted check link."""
    text = text.strip()
    return text.rsplit(cards.CHECK_PATH, 1)[-1].split("?")[0] if cards.CHECK_PATH in text else text


def explain(verdict: tokens.Verdict) -> str:
    why = {
        "ok": "valid",
        "malformed": "not valid: not a token (malformed)",
        "signature": "not valid: the signature does not match (forged or changed)",
        "unknown_key": "not valid: signed with a key the town does not have",
        "wrong_kind": "not valid: this token is not a resident card",
        "not_yet_valid": "not valid: not yet valid",
        "expired": "not valid: expired",
        "revoked": "not valid: revoked",
    }
    return why.get(verdict.reason, f"not valid: {verdict.reason}")


async def credential_verify(args: argparse.Namespace) -> int:
    token = token_of(args.token)
    app = build_app(args.settings)
    try:
        now = datetime.fromisoformat(args.at) if args.at else app.clock.now()
        if now.tzinfo is None:
            print(
                "stadtlotse: --at needs a time zone, e.g. 2026-12-01T09:00+01:00", file=sys.stderr
            )
            return 2
        if args.keys is not None:
            keyset = tokens.KeySet.from_json(json.loads(args.keys.read_text(encoding="utf-8")))
            revoked: set[str] = set()
            if args.revoked is not None:
                listed = json.loads(args.revoked.read_text(encoding="utf-8"))
                revoked = {str(entry["jti"]) for entry in listed.get("revoked", [])}
            verdict = tokens.check(token, keyset, kind=cards.KIND, now=now, revoked=revoked)
        else:
            await upgrade(app.db)
            async with app.db.uow() as uow:
                verdict = await tokens.check_online(uow, token, kind=cards.KIND, now=now)
    finally:
        await app.close()
    print(explain(verdict))
    if verdict.claims and verdict.reason in ("ok", "expired", "revoked", "not_yet_valid"):
        claims = verdict.claims
        span = tokens.validity(token)
        print(
            f"card: {claims.get('first_name', '')} {claims.get('last_initial', '')}., "
            f"resident of {claims.get('town', '')} since {claims.get('resident_since', '')}"
            + (f", valid until {span[1].astimezone(app.city.tz):%Y-%m-%d %H:%M}" if span else "")
        )
    return 0 if verdict.valid else 1


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    """anna: checked at the counter by petra a week ago, with her card in the wallet."""
    anna = await identity.find_account(uow, "console", "anna")
    petra = await identity.find_account(uow, "console", "petra")
    if anna is None or petra is None:
        return "no identity check (demo people anna and petra missing)"
    citizen = await uow.session.get(Citizen, anna.citizen_id)
    assert citizen is not None
    citizen.street = citizen.street or "Marktstraße 4"
    citizen.birth_date = citizen.birth_date or datetime(1985, 3, 14).date()
    department = checks.rules(app.city).department
    roles = {("staff", department)}
    week_ago = now - timedelta(days=7)
    code = await checks.new_code(uow, citizen, week_ago)
    await checks.confirm(uow, app.city, roles, petra.citizen_id, code.code, week_ago)
    card = await cards.ensure(uow, app.city, citizen, week_ago)
    if card is None:
        return "anna verified in person (no card: her address is not in the town)"
    link = app.env.links.public(cards.check_path(card.token))
    return f"anna verified in person by petra, with her resident card (check: {link})"
