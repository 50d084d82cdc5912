"""Letters the town sends as PDF: receipts, permits, statements.

Every letter carries the town's letterhead (department, address, contact, office hours), the
reference and the date, and is set in DejaVu Sans, embedded as a subset, so names with ı, ş, Ł
or đ keep every letter and € stays €. The font ships as package data (services/fonts/, with
its licence). The letterhead comes from the `[letterhead]` section of the city configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from pydantic import BaseModel, ConfigDict, Field

from services import city

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"


class DepartmentContact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_de: str = ""  # a sender that is no staff department (the voucher settlement)
    name_en: str = ""
    phone: str = ""
    email: str = ""
    room: str = ""  # "Rathaus, Zimmer 112"
    office_hours: str = ""  # overrides the town's office hours for this department


class LetterheadRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authority: str = ""  # "Stadt Ahaus · Der Bürgermeister"
    address: str = ""
    phone: str = ""
    email: str = ""
    web: str = ""
    office_hours: str = ""
    bank: str = ""  # where fees are paid to
    departments: dict[str, DepartmentContact] = Field(default_factory=dict)


city.register_section("letterhead", LetterheadRules)


@dataclass(frozen=True)
class Letterhead:
    """What stands at the top of every letter, already in the letter's language."""

    authority: str
    department: str
    address: str
    contact: list[str]  # phone, e-mail, web, room: one per line
    office_hours: str


def letterhead(town: city.City, department_key: str, lang: str) -> Letterhead:
    rules = town.section("letterhead", LetterheadRules)
    dept = town.department(department_key)
    contact_rules = rules.departments.get(department_key, DepartmentContact())
    phone = contact_rules.phone or rules.phone
    email = contact_rules.email or rules.email
    contact = [
        line
        for line in (
            f"Tel. {phone}" if phone else "",
            email,
            rules.web,
            contact_rules.room,
        )
        if line
    ]
    if dept is not None:
        department = dept.name(lang)
    else:
        named = contact_rules.name_en if lang == "en" else contact_rules.name_de
        department = named or contact_rules.name_de or department_key
    return Letterhead(
        authority=rules.authority or town.name,
        department=department,
        address=rules.address,
        contact=contact,
        office_hours=contact_rules.office_hours or rules.office_hours,
    )


@dataclass
class Letter:
    """The content of one letter; labels are already translated."""

    head: Letterhead
    title: str
    facts: list[tuple[str, str]]  # reference, date ...: a short block under the title
    sections: list[tuple[str, str]] = field(default_factory=list)  # label, value
    notes: list[str] = field(default_factory=list)  # fee estimate, decision date, conditions
    notes_heading: str = ""
    table: tuple[list[str], list[list[str]]] | None = None  # headers, rows
    footer: str = ""
    office_hours_label: str = "Office hours"


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=18)
    return pdf


def _line(pdf: FPDF, height: float, text: str, style: str = "", size: float = 10) -> None:
    pdf.set_font(FONT, style, size)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _head(pdf: FPDF, head: Letterhead, office_hours_label: str) -> None:
    top = pdf.get_y()
    right = pdf.w - pdf.r_margin - 70
    pdf.set_font(FONT, "B", 15)
    pdf.cell(right - pdf.l_margin, 8, head.authority, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(right - pdf.l_margin, 6, head.department, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    if head.address:
        pdf.cell(right - pdf.l_margin, 5, head.address, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(right, top)
    pdf.set_font(FONT, "", 8.5)
    for line in head.contact:
        pdf.set_x(right)
        pdf.multi_cell(70, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if head.office_hours:
        pdf.set_x(right)
        pdf.set_font(FONT, "B", 8.5)
        pdf.multi_cell(70, 4.5, office_hours_label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 8.5)
        pdf.set_x(right)
        pdf.multi_cell(70, 4.5, head.office_hours, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 3)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(6)


def _table(pdf: FPDF, headers: list[str], rows: Sequence[Sequence[str]]) -> None:
    pdf.set_font(FONT, "", 8.5)
    with pdf.table(
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        line_height=5,
        text_align="LEFT",
        first_row_as_headings=True,
    ) as table:
        for cells in [headers, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(cell)


def render(letter: Letter) -> bytes:
    pdf = _pdf()
    pdf.set_title(f"{letter.title} – {letter.facts[0][1] if letter.facts else ''}".strip(" –"))
    pdf.set_author(letter.head.authority)
    pdf.set_creator("Stadtlotse")
    pdf.add_page()
    _head(pdf, letter.head, letter.office_hours_label)
    _line(pdf, 8, letter.title, "B", 14)
    pdf.ln(1)
    for label, value in letter.facts:
        _line(pdf, 5.5, f"{label}: {value}", "", 10)
    pdf.ln(4)
    for label, value in letter.sections:
        _line(pdf, 5.5, label, "B", 10)
        _line(pdf, 5.5, value or "–", "", 10)
        pdf.ln(1)
    if letter.table is not None:
        _table(pdf, *letter.table)
        pdf.ln(3)
    if letter.notes:
        pdf.ln(2)
        if letter.notes_heading:
            _line(pdf, 6, letter.notes_heading, "B", 11)
        for note in letter.notes:
            _line(pdf, 5.5, f"• {note}", "", 10)
    if letter.footer:
        pdf.ln(5)
        _line(pdf, 4.5, letter.footer, "", 8.5)
    return bytes(pdf.output())
