"""Photos of defects are public: re-encoded as JPEG from their pixels only, so no EXIF (GPS
position, camera serial, time), no XMP and no comments leave with them."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import InvalidInput
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # larger images are refused before decoding (decompression bombs)
MAX_SIDE = 2048  # what a report needs; keeps pages and rooms fast
QUALITY = 85


def reencode(data: bytes) -> bytes:
    """The photo's pixels as a fresh JPEG, turned upright, at most MAX_SIDE pixels wide/high."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("This photo is too large: at most {mb} MB, please.", mb=10)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput("This photo has too many pixels. Please send a smaller one.")
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            pixels = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise InvalidInput("I could not read this photo. Please send a JPEG or PNG.") from error
    pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    clean = Image.new("RGB", pixels.size)  # a new image carries no metadata of the old one
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


async def store(
    uow: UnitOfWork, data: bytes, now: datetime, citizen_id: int | None
) -> tuple[int, str]:
    """Keep the re-encoded photo; (file id, token for its public URL)."""
    clean = reencode(data)
    stored = StoredFile(
        citizen_id=citizen_id,
        purpose="defect-photo",
        filename="photo.jpg",
        mime="image/jpeg",
        size=len(clean),
        sha256=hashlib.sha256(clean).hexdigest(),
        data=clean,
        created_at=now,
    )
    uow.session.add(stored)
    await uow.session.flush()
    assert stored.id is not None
    return stored.id, secrets.token_urlsafe(16)
