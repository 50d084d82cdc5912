"""Operator commands: db upgrade, grant, demo-data, outbox."""

from __future__ import annotations

import argparse
import sys

from bot.bootstrap import App, build_app
from bot.outbox import counts
from services import identity
from services.errors import DomainError
from services.i18n import translate
from storage.migrate import upgrade
from storage.models.identity import Citizen
from storage.uow import UnitOfWork


async def db_upgrade(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
    finally:
        await app.close()
    print("database is up to date")
    return 0


async def find_citizen(uow: UnitOfWork, user: str) -> int | None:
    if user.isdigit():
        citizen = await uow.session.get(Citizen, int(user))
        return citizen.id if citizen is not None else None
    channel, sep, external = user.partition(":")
    if not sep:
        return None
    account = await identity.find_account(uow, channel, external)
    return account.citizen_id if account is not None else None


async def _merchant_known(app: App, key: str) -> bool:
    """In the city configuration, or added with `stadtlotse merchant add`."""
    from services import merchants

    async with app.db.uow() as uow:
        return await merchants.find(uow, app.city, key) is not None


async def grant(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    await upgrade(app.db)
    scope = args.department or args.merchant
    if args.role == "staff" and args.department and app.city.department(args.department) is None:
        print(
            f"stadtlotse: unknown department {args.department!r}; known: "
            + ", ".join(d.key for d in app.city.departments),
            file=sys.stderr,
        )
        await app.close()
        return 2
    if args.role == "merchant" and args.merchant and not await _merchant_known(app, args.merchant):
        print(
            f"stadtlotse: unknown merchant {args.merchant!r}; known: "
            + ", ".join(m.key for m in app.city.merchants)
            + " (and those listed by `stadtlotse merchant list`)",
            file=sys.stderr,
        )
        await app.close()
        return 2
    try:
        async with app.db.uow() as uow:
            citizen_id = await find_citizen(uow, args.user)
            if citizen_id is None:
                print(
                    f"stadtlotse: no resident {args.user!r} (write /start to the bot first; "
                    "the resident ID is shown under /profile)",
                    file=sys.stderr,
                )
                return 2
            now = app.clock.now()
            if args.revoke:
                await identity.revoke_role(uow, citizen_id, args.role, scope, now=now, by="cli")
            else:
                await identity.grant_role(uow, citizen_id, args.role, scope, now=now, by="cli")
            await uow.commit()
    except DomainError as error:
        print("stadtlotse: " + translate("en", error.message, error.params), file=sys.stderr)
        return 2
    finally:
        await app.close()
    verb = "revoked from" if args.revoke else "granted to"
    print(f"role {args.role}{' (' + scope + ')' if scope else ''} {verb} resident {citizen_id}")
    return 0


async def demo_data(args: argparse.Namespace) -> int:
    from bot.demo import fill_demo_data

    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        report = await fill_demo_data(app)
    finally:
        await app.close()
    print(report)
    return 0


async def outbox(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        table = await counts(app.db)
    finally:
        await app.close()
    statuses = ["pending", "sent", "failed", "parked"]
    channels = sorted({channel for channel, _status in table})
    print(f"{'channel':<12}" + "".join(f"{s:>10}" for s in statuses))
    for channel in channels or ["-"]:
        print(f"{channel:<12}" + "".join(f"{table.get((channel, s), 0):>10}" for s in statuses))
    return 0


__all__ = ["db_upgrade", "demo_data", "grant", "outbox"]
