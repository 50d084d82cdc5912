"""Operator commands: db upgrade, grant, demo-data, outbox."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from sqlalchemy import update

from bot.bootstrap import App, build_app
from bot.sender.outbox import counts
from services.errors import DomainError
from services.i18n import translate
from services.identity import accounts as identity
from services.numbers import parse_id
from storage.db import Database
from storage.migrate import upgrade
from storage.models.identity import Citizen
from storage.models.outbox import PARKED, PENDING, Notification
from storage.uow import UnitOfWork, rows_changed


async def db_upgrade(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
    finally:
        await app.close()
    print("database is up to date")
    return 0


async def find_citizen(uow: UnitOfWork, user: str) -> int | None:
    citizen_id = parse_id(user)
    if citizen_id is not None:
        citizen = await uow.session.get(Citizen, citizen_id)
        return citizen.id if citizen is not None else None
    channel, sep, external = user.partition(":")
    if not sep:
        return None
    account = await identity.find_account(uow, channel, external)
    return account.citizen_id if account is not None else None


async def _merchant_known(app: App, key: str) -> bool:
    """In the city configuration, or added with `stadtlotse merchant add`."""
    from services.wallet import merchants

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
        if getattr(args, "requeue_parked", False):
            requeued = await requeue_parked(app.db, app.clock.now())
            print(f"{requeued} parked notifications queued again")
        table = await counts(app.db)
        print_counts(table)
        if getattr(args, "watch", False):
            await watch(app.db, table)
    finally:
        await app.close()
    return 0


STATUSES = ["pending", "sending", "sent", "failed", "parked"]


def print_counts(table: dict[tuple[str, str], int], out: TextIO = sys.stdout) -> None:
    channels = sorted({channel for channel, _status in table})
    out.write(f"{'channel':<12}" + "".join(f"{s:>10}" for s in STATUSES) + "\n")
    for channel in channels or ["-"]:
        out.write(
            f"{channel:<12}" + "".join(f"{table.get((channel, s), 0):>10}" for s in STATUSES) + "\n"
        )


def progress_line(done: int, total: int, rate: float, width: int = 30) -> str:
    """`[#########.....]  1200/3600  33%  30.0/s  ETA 1m20s`"""
    share = done / total if total else 1.0
    filled = round(width * share)
    left = total - done
    eta = f"{int(left / rate // 60)}m{int(left / rate % 60):02d}s" if rate > 0 and left else "-"
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {done:>7}/{total:<7} {share:>4.0%}"
        f"  {rate:7.1f}/s  ETA {eta}"
    )


async def watch(
    db: Database,
    start: dict[tuple[str, str], int],
    *,
    interval: float = 1.0,
    out: TextIO = sys.stdout,
    now: Callable[[], float] = time.monotonic,
) -> None:
    """A progress bar while the queue drains; ends when nothing is pending or being sent."""

    def total_of(table: dict[tuple[str, str], int], *statuses: str) -> int:
        return sum(n for (_c, s), n in table.items() if s in statuses)

    finished_before = total_of(start, "sent", "failed", "parked")
    began = now()
    while True:
        table = await counts(db)
        done = total_of(table, "sent", "failed", "parked") - finished_before
        open_ = total_of(table, "pending", "sending")
        elapsed = max(1e-9, now() - began)
        out.write("\r" + progress_line(done, done + open_, done / elapsed if done else 0.0))
        out.flush()
        if open_ == 0:
            out.write("\n")
            return
        await asyncio.sleep(interval)


async def requeue_parked(db: Database, now: datetime) -> int:
    """Operators fixed the cause: parked notifications go out again (attempts start afresh)."""
    async with db.uow() as uow:
        result = await uow.session.execute(
            update(Notification)
            .where(Notification.status == PARKED)
            .values(status=PENDING, attempts=0, next_attempt_at=now)
        )
        await uow.commit()
    return rows_changed(result)


__all__ = ["db_upgrade", "demo_data", "grant", "outbox"]
