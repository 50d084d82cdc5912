"""PDF receipts for submitted applications (fpdf2, core fonts: text is reduced to Latin-1)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from fpdf import FPDF

_REPLACE = {"€": "EUR", "–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "’": "'", "•": "-"}


def latin1(text: str) -> str:
    """Umlauts stay; the euro sign and dashes become ASCII; emoji and the rest are dropped."""
    out = []
    for ch in text:
        ch = _REPLACE.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            ch = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(ch)
    return re.sub(r"[ \t]{2,}", " ", "".join(out)).strip()


def receipt_pdf(
    *,
    town: str,
    heading: str,
    title: str,
    reference_line: str,
    date_line: str,
    answers: Sequence[tuple[str, str]],
    footer: str,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(latin1(f"{title} {reference_line}"))
    pdf.set_author(latin1(town))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.cell(0, 7, latin1(reference_line), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, latin1(date_line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for label, value in answers:
        pdf.set_font("helvetica", "B", 10)
        pdf.multi_cell(width, 6, latin1(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(width, 6, latin1(value) or "-", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(4)
    pdf.set_font("helvetica", "I", 9)
    pdf.multi_cell(width, 5, latin1(footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
