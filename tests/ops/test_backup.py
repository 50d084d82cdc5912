"""Backup and restore of the embedded default: the demo town is backed up while a chat runs,
restored elsewhere, and Anna still has her vouchers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import BackupError, backup, restore

NOW = datetime(2026, 11, 30, 3, 15, tzinfo=UTC)


def env_for(place: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    env.update(
        STADTLOTSE_DATABASE_URL=f"sqlite:///{place / 'var' / 'stadtlotse.db'}",
        STADTLOTSE_DATA_DIR=str(place / "var"),
        STADTLOTSE_NOW="2026-11-25T10:00:00+01:00",
    )
    return env


def stadtlotse(
    place: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=place,
        env=env_for(place),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def key_store(place: Path) -> Path:
    """A stand-in for nio's key store: an SQLite file under var/matrix-store."""
    store = place / "var" / "matrix-store"
    store.mkdir(parents=True, exist_ok=True)
    path = store / "@stadtlotse_example.org_DEVICE.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS olm (account TEXT)")
        conn.execute("INSERT INTO olm VALUES ('pickled-account-key')")
    (store / "README").write_text("keys of the bot's device\n")
    return path


@pytest.mark.slow
def test_backup_while_chatting_then_restore_elsewhere(tmp_path: Path) -> None:
    town, elsewhere = tmp_path / "town", tmp_path / "elsewhere"
    town.mkdir()
    elsewhere.mkdir()
    archive = tmp_path / "backup.tar.gz"
    made = stadtlotse(town, "demo-data")
    assert made.returncode == 0, made.stderr
    key_store(town)

    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "anna"],
        cwd=town,
        env=env_for(town),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write("/start\n")
        chat.stdin.flush()
        first = chat.stdout.readline()  # the chat answered: it has the database open
        assert first.strip()
        saved = stadtlotse(town, "backup", "--out", str(archive))
        assert saved.returncode == 0, saved.stderr
        # the Matrix key store (2 files) and the secret of the signing keys (demo-data signed
        # anna's resident card and digital key with a key encrypted under it)
        assert "the database and 3 files" in saved.stdout
        chat.stdin.write("Gutschein\n/wallet\n")
        chat.stdin.close()
        chat.wait(timeout=60)
        assert chat.returncode == 0, chat.stderr.read() if chat.stderr else ""
    finally:
        if chat.poll() is None:
            chat.kill()

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"stadtlotse-backup.json", "database/stadtlotse.db"} <= names
    assert "data/matrix-store/@stadtlotse_example.org_DEVICE.db" in names
    assert "data/signing-secret" in names
    assert not any(n.endswith(("-wal", "-shm")) for n in names)

    restored = stadtlotse(elsewhere, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    with pytest.raises(BackupError, match="exists already"):  # never over a restored town
        restore(archive, env_for(elsewhere)["STADTLOTSE_DATABASE_URL"], elsewhere / "var")

    wallet = stadtlotse(elsewhere, "chat", "--user", "anna", stdin="/language\nEnglish\n/wallet\n")
    assert wallet.returncode == 0, wallet.stderr
    text = wallet.stdout.replace("\xa0", " ").replace("\u202f", " ")
    assert "37.50" in text or "37,50" in text  # the 50 € voucher with 12,50 € redeemed
    assert "25.00" in text or "25,00" in text
    keys = elsewhere / "var" / "matrix-store" / "@stadtlotse_example.org_DEVICE.db"
    with sqlite3.connect(keys) as conn:
        assert conn.execute("SELECT account FROM olm").fetchall() == [("pickled-account-key",)]
    assert (
        elsewhere / "var" / "matrix-store" / "README"
    ).read_text() == "keys of the bot's device\n"
    secret = (town / "var" / "signing-secret").read_text()
    assert (elsewhere / "var" / "signing-secret").read_text() == secret


def small_database(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE voucher (code TEXT)")
        conn.execute("INSERT INTO voucher VALUES ('K7QM-2XPD')")
    return f"sqlite:///{path}"


def test_restore_refuses_a_data_directory_in_use(tmp_path: Path) -> None:
    url = small_database(tmp_path / "town" / "var" / "stadtlotse.db")
    archive = tmp_path / "b.tar.gz"
    saved = backup(url, tmp_path / "town" / "var", archive, NOW)
    assert saved.database and saved.files == 0
    used = tmp_path / "used" / "var"
    (used / "console").mkdir(parents=True)
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, f"sqlite:///{used / 'stadtlotse.db'}", used)
    assert not (used / "stadtlotse.db").exists()
    with pytest.raises(BackupError, match="exists already"):
        backup(url, tmp_path / "town" / "var", archive, NOW)
    not_a_backup = tmp_path / "x.tar.gz"
    with tarfile.open(not_a_backup, "w:gz") as tar:
        tar.add(tmp_path / "town" / "var" / "stadtlotse.db", "stadtlotse.db")
    empty = tmp_path / "empty"
    with pytest.raises(BackupError, match="not a Stadtlotse backup"):
        restore(not_a_backup, f"sqlite:///{empty / 'stadtlotse.db'}", empty)
    with pytest.raises(BackupError, match="PostgreSQL"):
        restore(archive, "postgresql://stadtlotse@127.0.0.1/stadtlotse", empty)


def test_restore_refuses_entries_outside_the_data_directory(tmp_path: Path) -> None:
    url = small_database(tmp_path / "town" / "var" / "stadtlotse.db")
    archive = tmp_path / "b.tar.gz"
    backup(url, tmp_path / "town" / "var", archive, NOW)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(evil, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        (tmp_path / "payload").write_text("x")
        target.add(tmp_path / "payload", "data/../../escaped")
    place = tmp_path / "restore"
    with pytest.raises(BackupError, match="unexpected entry"):
        restore(evil, f"sqlite:///{place / 'stadtlotse.db'}", place)
    assert not (tmp_path / "escaped").exists()


def test_a_backup_copies_the_committed_state_of_a_live_database(tmp_path: Path) -> None:
    """Rows written in WAL mode and not yet checkpointed are in the copy; an open, uncommitted
    transaction is not."""
    path = tmp_path / "var" / "stadtlotse.db"
    url = small_database(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("INSERT INTO voucher VALUES ('committed')")
    writer.execute("BEGIN")
    writer.execute("INSERT INTO voucher VALUES ('uncommitted')")
    try:
        backup(url, tmp_path / "var", tmp_path / "b.tar.gz", NOW)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    place = tmp_path / "restored"
    restore(tmp_path / "b.tar.gz", f"sqlite:///{place / 'stadtlotse.db'}", place)
    with sqlite3.connect(place / "stadtlotse.db") as conn:
        codes = [row[0] for row in conn.execute("SELECT code FROM voucher ORDER BY rowid")]
    assert codes == ["K7QM-2XPD", "committed"]
