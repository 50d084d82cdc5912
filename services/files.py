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


def sniff_mime(data: bytes) -> str | None:
    """The type of a file by its first bytes (magic numbers): JPEG, PNG or PDF, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return None


def check_upload(
    mime: str, data: bytes, *, accept: Collection[str] = FILE_TYPES, limit: int = MAX_FILE_BYTES
) -> str:
    """The file's real type (by its bytes, not by what the name or the channel says); raises
    InvalidInput with a friendly text for a file that cannot be kept."""
    if len(data) > limit:
        raise InvalidInput(
            "This file is too large: at most {mb} MB, please.", mb=limit // (1024 * 1024)
        )
    found = sniff_mime(data)
    photos_only = "application/pdf" not in accept
    if found is None:  # a text file named fake.png, say
        if mime == "application/pdf" and not photos_only:
            raise InvalidInput("This file is not a readable PDF.")
        if photos_only:
            raise InvalidInput(
                "This file is not a photo (JPEG or PNG), whatever its name says. Please send "
                "the photo itself."
            )
        raise InvalidInput(
            "This file is not a photo (JPEG or PNG) or a PDF, whatever its name says. Please "
            "send the photo or the PDF itself."
        )
    if found not in accept:
        if photos_only:
            raise InvalidInput("Please send a photo (JPEG or PNG).")
        raise InvalidInput("Please send a photo (JPEG or PNG) or a PDF file.")
    return found


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
