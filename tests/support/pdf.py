"""Reading back the PDFs the town sends: their text and which fonts are embedded (pypdf)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def embedded_fonts(data: bytes) -> set[str]:
    """Base names of the fonts whose program is embedded (FontFile, FontFile2 or FontFile3)."""
    reader = PdfReader(io.BytesIO(data))
    found: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        for ref in (fonts.get_object() if fonts else {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for candidate in [font, *(d.get_object() for d in (descendants or []))]:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.add(str(candidate.get("/BaseFont")).split("+")[-1])
    return found


def unembedded_fonts(data: bytes) -> set[str]:
    """Fonts used without their program (the 14 standard fonts, say): should be none."""
    reader = PdfReader(io.BytesIO(data))
    missing: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        for ref in (fonts.get_object() if fonts else {}).values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type1" and "/FontDescriptor" not in font:
                missing.add(str(font.get("/BaseFont")))
    return missing
