"""Files residents send (photos, PDFs) and files the town makes, kept in the database — never in
a folder the web app serves — and owned by a resident where there is one."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from services.errors import InvalidInput
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

FILE_TYPES = ("image/jpeg", "image/png", "application/pdf")
MAX_FILE_BYTES = 10 * 1024 * 1024


def check_upload(
    mime: str, data: bytes, *, accept: Collection[str] = FILE_TYPES, limit: int = MAX_FILE_BYTES
) -> None:
    """Raise InvalidInput (with a friendly text) for a file that cannot be kept."""
    if mime not in accept:
        if "application/pdf" not in accept:
            raise InvalidInput("Please send a photo (JPEG or PNG).")
        raise InvalidInput("Please send a photo (JPEG or PNG) or a PDF file.")
    if len(data) > limit:
        raise InvalidInput(
            "This file is too large: at most {mb} MB, please.", mb=limit // (1024 * 1024)
        )
    if mime == "application/pdf" and not data.startswith(b"%PDF"):
        raise InvalidInput("This file is not a readable PDF.")


async def store(
    uow: UnitOfWork,
    *,
    citizen_id: int | None,
    purpose: str,
    filename: str,
    mime: str,
    data: bytes,
    now: datetime,
) -> StoredFile:
    stored = StoredFile(
        citizen_id=citizen_id,
        purpose=purpose[:50],
        filename=filename[:255] or "upload",
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_at=now,
    )
    uow.session.add(stored)
    await uow.session.flush()
    return stored


async def get(uow: UnitOfWork, file_id: int | None) -> StoredFile | None:
    return await uow.session.get(StoredFile, file_id) if file_id else None
