"""QR codes as PNG bytes, the one way every capability makes them (vouchers, tickets, pickup
codes, passes): error correction M, 8 pixels per module, and the quiet zone of 4 modules the
QR standard (ISO/IEC 18004) asks for, so phone cameras read them from a screen or on paper."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white around the code
BOX_SIZE = 8  # pixels per module


def png(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
