"""The secret that encrypts the town's private signing keys in the database.

`STADTLOTSE_KEY_SECRET` when set (any string; several replicas must share it), otherwise the
file `<data dir>/signing-secret`, made with mode 0600 on first use. Backups must include it:
without it the stored private keys cannot be read (`stadtlotse backup` copies the data
directory, the file included). The AES key is derived from the secret with HKDF-SHA256.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENV_NAME = "STADTLOTSE_KEY_SECRET"
FILE_NAME = "signing-secret"


def derive(material: str) -> bytes:
    """32 bytes for AES-256-GCM from any secret string."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"stadtlotse signing keys"
    ).derive(material.encode("utf-8"))


def load(setting: str | None, data_dir: Path) -> bytes:
    """The key secret from the setting, else from (or newly into) the data directory's file."""
    if setting:
        return derive(setting)
    path = data_dir / FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
    material = path.read_text(encoding="ascii").strip()
    if not material:
        raise RuntimeError(f"the key secret file {path} is empty: restore it from the backup")
    return derive(material)


def from_environment() -> bytes:
    """For a unit of work the program did not give a secret (scripts, tests)."""
    return load(os.environ.get(ENV_NAME), Path(os.environ.get("STADTLOTSE_DATA_DIR") or "var"))
