"""The `stadtlotse` command: run, chat, db upgrade, grant, demo-data, outbox, and what
extensions add."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot import extensions, logs
from bot.settings import SettingsError, load_settings
from services.city import CityConfigError

log = logging.getLogger("stadtlotse")

Command = Callable[[argparse.Namespace], Awaitable[int]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stadtlotse", description="Stadtlotse – the chat-first civic assistant of your town."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="start every configured channel, the web app, the scheduler and the outbox sender",
    )
    run.set_defaults(handler=_lazy("bot.commands.run", "run"))

    chat = commands.add_parser(
        "chat", help="talk to the bot in the terminal (reads standard input)"
    )
    chat.add_argument(
        "--user", default="console-user", help="who you are in the console (default: console-user)"
    )
    chat.add_argument(
        "--room", default="", help="act in a department's console staff room, e.g. buergerbuero"
    )
    chat.set_defaults(handler=_lazy("bot.commands.chat", "chat"))

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.set_defaults(handler=_lazy("bot.commands.admin", "db_upgrade"))

    grant = commands.add_parser("grant", help="give a resident a role")
    grant.add_argument("role", choices=["staff", "marketing", "merchant", "organiser", "admin"])
    grant.add_argument(
        "user", help="resident ID (see /profile) or CHANNEL:ID, e.g. console:anna, telegram:12345"
    )
    grant.add_argument("--department", default="", help="department key, for staff")
    grant.add_argument("--merchant", default="", help="merchant key, for merchant")
    grant.add_argument("--revoke", action="store_true", help="take the role away instead")
    grant.set_defaults(handler=_lazy("bot.commands.admin", "grant"))

    demo = commands.add_parser("demo-data", help="fill an empty database with a believable town")
    demo.set_defaults(handler=_lazy("bot.commands.admin", "demo_data"))

    outbox = commands.add_parser(
        "outbox", help="notifications: pending, sent, failed and parked per channel"
    )
    outbox.add_argument(
        "--watch", action="store_true", help="show a progress bar until the queue has drained"
    )
    outbox.add_argument(
        "--requeue-parked", action="store_true", help="send parked notifications again"
    )
    outbox.set_defaults(handler=_lazy("bot.commands.admin", "outbox"))

    backup = commands.add_parser(
        "backup", help="write one archive with the SQLite database and the data directory"
    )
    backup.add_argument("--out", required=True, help="the archive to write, e.g. backup.tar.gz")
    backup.set_defaults(handler=_lazy("bot.commands.backup", "backup_command"))

    restore = commands.add_parser(
        "restore", help="restore an archive of `stadtlotse backup` into an empty data directory"
    )
    restore.add_argument("file", help="the archive written by `stadtlotse backup`")
    restore.set_defaults(handler=_lazy("bot.commands.backup", "restore_command"))

    for module in extensions.modules():
        add = getattr(module, "cli", None)
        if add is not None:
            add(commands)
    return parser


def _lazy(module: str, name: str) -> Command:
    async def call(args: argparse.Namespace) -> int:
        import importlib

        function = getattr(importlib.import_module(module), name)
        return int(await function(args))

    return call


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"stadtlotse: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    if args.command == "chat":
        logging.getLogger().setLevel(logging.WARNING)  # keep the transcript clean
    args.settings = settings
    try:
        return asyncio.run(args.handler(args))
    except (CityConfigError, SettingsError) as error:
        print(f"stadtlotse: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run_command(argv: list[str]) -> Any:
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
