"""Open311 GeoReport v2 on the web app, and `stadtlotse apikey add|list|revoke`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fastapi import APIRouter

from bot.bootstrap import App, build_app
from bot.open311 import routes
from services.apikeys import keys
from services.defects.open311 import PURPOSE
from services.errors import DomainError
from services.i18n import translate
from storage.migrate import upgrade


def web(app: App) -> list[APIRouter]:
    return [routes.router(app)]


def cli(commands: Any) -> None:
    apikey = commands.add_parser(
        "apikey", help="keys for machine clients (Open311 apps): add, list, revoke"
    )
    actions = apikey.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="make a key; prints it on the last line (shown once)")
    add.add_argument("name", help="who uses it, e.g. fixmystreet or city-app")
    add.add_argument(
        "--purpose",
        default=PURPOSE,
        help=f"what it may be used for (default {PURPOSE})",
    )
    add.add_argument(
        "--limit", type=int, default=0, help="writes per window (default: the city's setting)"
    )
    add.set_defaults(handler=apikey_add)
    listing = actions.add_parser("list", help="every key: name, purpose, use, revoked")
    listing.set_defaults(handler=apikey_list)
    revoke = actions.add_parser("revoke", help="stop a key from working")
    revoke.add_argument("name")
    revoke.set_defaults(handler=apikey_revoke)


async def _run(args: argparse.Namespace, work: Any) -> int:
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        async with app.db.uow() as uow:
            code = int(await work(uow, app.clock.now()))
            await uow.commit()
            return code
    except DomainError as error:
        print("stadtlotse: " + translate("en", error.message, error.params), file=sys.stderr)
        return 2
    finally:
        await app.close()


async def apikey_add(args: argparse.Namespace) -> int:
    async def work(uow: Any, now: Any) -> int:
        key, secret = await keys.add(uow, args.name, args.purpose, now, rate_limit=args.limit)
        print(f"key {key.name} for {key.purpose} made; it is shown only now:")
        print(secret)
        return 0

    return await _run(args, work)


async def apikey_list(args: argparse.Namespace) -> int:
    async def work(uow: Any, now: Any) -> int:
        found = await keys.list_keys(uow)
        print(f"{'name':<24}{'purpose':<12}{'starts':<10}{'uses':>8}  {'last used':<26}revoked")
        for key in found:
            last = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "-"
            revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
            shown = f"{key.prefix}…"
            print(f"{key.name:<24}{key.purpose:<12}{shown:<10}{key.uses:>8}  {last:<26}{revoked}")
        if not found:
            print("no keys yet: stadtlotse apikey add NAME")
        return 0

    return await _run(args, work)


async def apikey_revoke(args: argparse.Namespace) -> int:
    async def work(uow: Any, now: Any) -> int:
        key = await keys.revoke(uow, args.name, now)
        print(f"key {key.name} revoked")
        return 0

    return await _run(args, work)
