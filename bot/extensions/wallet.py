"""Wallet, vouchers and payments wiring: the payment provider, the payment web routes, the
`settlement` and `merchant` commands and demo vouchers."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from bot.payments.demo import DemoProvider
from bot.payments.stripe_provider import StripeProvider
from bot.payments.web import router as payment_routes
from services.errors import DomainError
from services.i18n import translate
from services.identity import accounts as identity
from services.wallet import merchants, redemption, settlement_files, vouchers
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App


def setup(app: App) -> None:
    settings = app.settings
    if settings.stripe_secret_key and settings.payments != "demo":
        app.env.payments = StripeProvider(
            settings.stripe_secret_key,
            settings.stripe_webhook_secret or "",
            settings.public_url,
            api_url=settings.stripe_api_url,
        )
    else:
        app.env.payments = DemoProvider(settings.public_url)


def web(app: App) -> list[APIRouter]:
    return [payment_routes(app)]


def cli(commands: Any) -> None:
    settle = commands.add_parser(
        "settlement", help="monthly voucher settlement per merchant (CSV, PDF)"
    )
    settle.add_argument("--month", required=True, help="the month, YYYY-MM")
    settle.add_argument("--out", default="var/settlements", help="folder for the CSV and PDF files")
    settle.add_argument("--fee", default=None, help="fee in percent (default: city config)")
    settle.set_defaults(handler=settlement_command)

    merchant = commands.add_parser("merchant", help="acceptance points for city vouchers")
    actions = merchant.add_subparsers(dest="merchant_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an acceptance point")
    add.add_argument("key", help="short key, e.g. cafe-am-markt")
    add.add_argument("--name", required=True)
    add.add_argument("--address", default="")
    add.add_argument("--category", default="")
    add.set_defaults(handler=merchant_add)
    listing = actions.add_parser("list", help="list acceptance points")
    listing.set_defaults(handler=merchant_list)


async def settlement_command(args: argparse.Namespace) -> int:
    from bot.bootstrap import build_app
    from storage.migrate import upgrade

    fee: Decimal | None = None
    if args.fee is not None:
        try:
            fee = Decimal(str(args.fee).replace(",", "."))
        except InvalidOperation:
            fee = Decimal(-1)
        if not Decimal(0) <= fee <= Decimal(100):
            print("stadtlotse: --fee must be a percentage from 0 to 100", file=sys.stderr)
            return 2
    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        async with app.db.uow() as uow:
            try:
                statements = await redemption.settlement(uow, app.city, args.month, fee)
            except DomainError as error:
                print(
                    "stadtlotse: " + translate("en", error.message, error.params), file=sys.stderr
                )
                return 2
    finally:
        await app.close()
    folder = Path(args.out)
    today = app.clock.now().astimezone(app.city.tz).date()
    for statement in statements:
        path = settlement_files.write_csv(statement, folder, app.city)
        pdf = settlement_files.write_pdf(statement, folder, app.city, today)
        print(
            f"{statement.merchant_key}: {len(statement.rows)} entries, "
            f"total {statement.total_cents / 100:.2f} EUR, fee {statement.fee_cents / 100:.2f}, "
            f"payout {statement.payout_cents / 100:.2f} -> {path}, {pdf.name}"
        )
    summary = settlement_files.write_summary(statements, folder, args.month)
    print(f"{len(statements)} merchants; summary: {summary}")
    return 0


async def merchant_add(args: argparse.Namespace) -> int:
    from bot.bootstrap import build_app
    from storage.migrate import upgrade

    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        async with app.db.uow() as uow:
            try:
                point = await merchants.add(
                    uow,
                    app.city,
                    key=args.key,
                    name=args.name,
                    address=args.address,
                    category=args.category,
                    now=app.clock.now(),
                    by="cli",
                )
            except DomainError as error:
                print(
                    "stadtlotse: " + translate("en", error.message, error.params), file=sys.stderr
                )
                return 2
            await uow.commit()
    finally:
        await app.close()
    print(
        f"merchant {point.key} ({point.name}) added; give staff the role with: "
        f"stadtlotse grant merchant USER --merchant {point.key}"
    )
    return 0


async def merchant_list(args: argparse.Namespace) -> int:
    from bot.bootstrap import build_app
    from storage.migrate import upgrade

    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        async with app.db.uow() as uow:
            found = await merchants.all_merchants(uow, app.city)
    finally:
        await app.close()
    for merchant in found:
        print(f"{merchant.key:<28} {merchant.name:<30} {merchant.address}")
    return 0


async def demo(app: App, uow: UnitOfWork, now: datetime) -> str:
    """Vouchers for anna and ben, and a few redemptions at the demo merchants."""
    people = {}
    for user in ("anna", "ben", "carla"):
        account = await identity.find_account(uow, "console", user)
        if account is not None:
            people[user] = account.citizen_id
    if "anna" not in people or "ben" not in people:
        return "no demo vouchers (demo people missing)"
    anna_50 = await vouchers.issue(uow, app.city, people["anna"], 5000, now=now, origin="demo")
    await vouchers.issue(uow, app.city, people["anna"], 2500, now=now, origin="demo")
    await vouchers.issue(uow, app.city, people["ben"], 10000, now=now, origin="demo")
    assert anna_50.id is not None
    await redemption.redeem(
        uow,
        app.city,
        merchant_key="cafe-am-schloss",
        actor_citizen_id=people.get("carla"),
        voucher_id=anna_50.id,
        amount_cents=1250,
        idempotency_key=f"demo-{anna_50.id}",
        now=now,
    )
    return "3 city vouchers (anna: 50 € with 12,50 € redeemed at Café am Schloss, 25 €; ben: 100 €)"
