"""`stadtlotse backup --out FILE` and `stadtlotse restore FILE` for the embedded default.

One archive (tar.gz) holds a consistent copy of the SQLite database, made with SQLite's online
backup API while the program may be running, and the data directory (the Matrix key store, which
belongs to the database: without it the bot cannot read encrypted rooms after a restore). SQLite
files inside the data directory (nio's key store) are copied the same way; WAL and journal files
are not needed because each copy is complete. On PostgreSQL the archive holds the data directory
only: the database is saved with pg_dump (docs/operations.md).

Restore writes into an empty place only: it refuses when the database file exists or the data
directory has anything in it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import make_url

from storage.db import normalise_url

MANIFEST = "stadtlotse-backup.json"
DATABASE_MEMBER = "database/stadtlotse.db"
DATA_PREFIX = "data"
FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """One line for the operator: what is wrong and what to do."""


@dataclass
class Summary:
    archive: Path
    database: bool
    files: int
    size: int


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database: the online backup API copies all pages in
    one step under one read transaction, so the copy is one committed moment while writers (in
    WAL mode) go on."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def backup(database_url: str, data_dir: Path, out: Path, now: datetime) -> Summary:
    database = sqlite_path(database_url)
    if database is not None and not database.exists():
        raise BackupError(f"there is no database at {database} to back up")
    if out.exists():
        raise BackupError(f"{out} exists already; choose another file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    skip = {database.resolve()} if database is not None else set()
    skip |= {Path(f"{p}{s}") for p in skip for s in SKIPPED_SUFFIXES}
    skip.add(out.resolve())
    files = 0
    with tempfile.TemporaryDirectory(prefix="stadtlotse-backup-") as tmp:
        staging = Path(tmp)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            if database is not None:
                copy = staging / "database.db"
                copy_sqlite(database, copy)
                archive.add(copy, DATABASE_MEMBER)
            if data_dir.is_dir():
                for path in sorted(data_dir.rglob("*")):
                    if not path.is_file() or path.resolve() in skip:
                        continue
                    if path.name.endswith(SKIPPED_SUFFIXES):
                        continue
                    name = f"{DATA_PREFIX}/{path.relative_to(data_dir).as_posix()}"
                    if is_sqlite(path):
                        copy = staging / f"file-{files}.db"
                        copy_sqlite(path, copy)
                        archive.add(copy, name)
                    else:
                        archive.add(path, name)
                    files += 1
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "database": DATABASE_MEMBER if database is not None else None,
                "data_files": files,
            }
            blob = staging / MANIFEST
            blob.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            archive.add(blob, MANIFEST)
        partial.rename(out)
    return Summary(out, database is not None, files, out.stat().st_size)


def restore(archive_path: Path, database_url: str, data_dir: Path) -> Summary:
    if not archive_path.is_file():
        raise BackupError(f"there is no backup at {archive_path}")
    database = sqlite_path(database_url)
    with tarfile.open(archive_path, "r:gz") as archive:
        members = {m.name: m for m in archive.getmembers()}
        if MANIFEST not in members:
            raise BackupError(f"{archive_path} is not a Stadtlotse backup (no {MANIFEST})")
        manifest = json.load(archive.extractfile(members[MANIFEST]))  # type: ignore[arg-type]
        if manifest.get("format") != FORMAT:
            raise BackupError(f"backup format {manifest.get('format')} is not known here")
        has_database = manifest.get("database") == DATABASE_MEMBER
        if has_database and database is None:
            raise BackupError(
                "this backup holds a SQLite database, but STADTLOTSE_DATABASE_URL points at "
                "PostgreSQL; restore into a SQLite URL"
            )
        if database is not None and database.exists():
            raise BackupError(f"{database} exists already: restore only into an empty place")
        if data_dir.exists() and any(
            p for p in data_dir.iterdir() if database is None or p.resolve() != database.resolve()
        ):
            raise BackupError(
                f"the data directory {data_dir} is not empty: restore into an empty one"
            )
        data = [m for m in archive.getmembers() if m.name.startswith(f"{DATA_PREFIX}/")]
        for member in data:
            if not member.isfile() or not _safe(member.name):
                raise BackupError(f"{archive_path} has an unexpected entry {member.name!r}")
        data_dir.mkdir(parents=True, exist_ok=True)
        for member in data:
            target = data_dir / PurePosixPath(member.name).relative_to(DATA_PREFIX)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write(archive, member, target)
        if has_database and database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
            _write(archive, members[DATABASE_MEMBER], database)
    return Summary(archive_path, has_database, len(data), archive_path.stat().st_size)


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = archive.extractfile(member)
    assert source is not None
    partial = target.with_name(target.name + ".partial")
    with source, partial.open("wb") as handle:
        shutil.copyfileobj(source, handle)
    partial.rename(target)
