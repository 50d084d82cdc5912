"""The special-use permit (Sondernutzungserlaubnis) as a PDF letter of the town: what may be
used where, for how long, on which conditions, for which fee, on which legal basis. Issued in
German, the official language (§ 23 VwVfG NRW)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services import documents, i18n
from services.city import City
from services.i18n import N_
from storage.models.cases import Case

LANG = "de"
PURPOSES = {
    "terrace": N_("Café terrace (tables and chairs)"),
    "scaffolding": N_("Scaffolding"),
    "container": N_("Container or skip"),
    "stand": N_("Stand or booth"),
    "removal": N_("Removal van (no-parking zone)"),
    "other": N_("Something else"),
}


def _t(message: str, **params: Any) -> str:
    return i18n.translate(LANG, message, params)


def _day(iso: str) -> str:
    return str(i18n.format_value(LANG, i18n.day(date.fromisoformat(iso))))


def permit_pdf(
    town: City, case: Case, terms: dict[str, Any], issued: date, legal: str, holder: str
) -> bytes:
    purpose = _t(PURPOSES.get(terms["purpose"], PURPOSES["other"]))
    detail = str(case.answers.get("purpose_detail") or "")
    area = f"{terms['area']:g}".replace(".", ",")
    rate = i18n.format_value(LANG, i18n.money(terms["rate_cents"]))
    letter = documents.Letter(
        head=documents.letterhead(town, case.department, LANG),
        title=_t(N_("Special-use permit")),
        facts=[
            (_t(N_("Reference")), case.reference),
            (_t(N_("Date")), _day(issued.isoformat())),
            (_t(N_("Holder")), holder or "–"),
        ],
        sections=[
            (_t(N_("Permitted use")), f"{purpose}{' – ' + detail if detail else ''}"),
            (_t(N_("Place")), terms["place"]),
            (_t(N_("Area")), _t(N_("{area} m²"), area=area)),
            (
                _t(N_("Period")),
                _t(
                    N_("{first} to {last} ({days})"),
                    first=_day(terms["first_day"]),
                    last=_day(terms["last_day"]),
                    days=i18n.counted("{n} day", "{n} days", int(terms["days"])),
                ),
            ),
            (
                _t(N_("Fee")),
                _t(
                    N_("{fee} ({rate} per m² and day, at least the minimum fee)"),
                    fee=i18n.format_value(LANG, i18n.money(terms["fee_cents"])),
                    rate=rate,
                ),
            ),
            *([(_t(N_("Legal basis")), legal)] if legal else []),
        ],
        notes=list(terms["conditions"]),
        notes_heading=_t(N_("Conditions")),
        footer=_t(
            N_(
                "This permit can be revoked if the conditions are not kept. Please keep it at "
                "hand on site and show it on request. Remedy: you can sue against this permit at "
                "the administrative court within one month after it was made known."
            )
        ),
        office_hours_label=_t(N_("Office hours")),
    )
    return documents.render(letter)
