"""`stadtlotse backup --out FILE` and `stadtlotse restore FILE` (see bot/backup.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.backup import BackupError, backup, restore
from bot.clock import make_clock


async def backup_command(args: argparse.Namespace) -> int:
    settings = args.settings
    out = Path(args.out)
    try:
        summary = await asyncio.to_thread(
            backup, settings.database_url, settings.data_dir, out, make_clock(settings.now).now()
        )
    except (BackupError, OSError) as error:
        print(f"stadtlotse: backup failed: {error}", file=sys.stderr)
        return 1
    what = "the database and " if summary.database else ""
    print(f"wrote {summary.archive} ({summary.size / 1e6:.1f} MB): {what}{summary.files} files")
    if not summary.database:
        print(
            "the database is PostgreSQL: save it with pg_dump (see docs/operations.md); "
            "this archive holds the data directory only"
        )
    return 0


async def restore_command(args: argparse.Namespace) -> int:
    settings = args.settings
    try:
        summary = await asyncio.to_thread(
            restore, Path(args.file), settings.database_url, settings.data_dir
        )
    except (BackupError, OSError) as error:
        print(f"stadtlotse: restore failed: {error}", file=sys.stderr)
        return 1
    what = "the database and " if summary.database else ""
    print(f"restored {what}{summary.files} files into {settings.data_dir}")
    print("start with `stadtlotse run` (it brings the schema up to date first)")
    return 0
