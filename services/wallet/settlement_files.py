"""The monthly settlement as files a German accountant can book: per merchant one CSV and one
PDF statement, plus one summary CSV.

CSV as German Excel opens it with a double click: UTF-8 with a byte order mark, `;` between
fields, decimal comma, German headers, one tidy table per file (every row the same columns,
no totals mixed into the list: totals are the summary file and the PDF)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from services import documents, i18n
from services.city import City
from services.i18n import N_
from services.money import format_money
from services.wallet.redemption import Statement
from storage.models.vouchers import REDEEM, UNDO

CSV_ENCODING = "utf-8-sig"  # the BOM tells Excel it is UTF-8 (without it: cp1252 mojibake)
KIND_NAMES = {REDEEM: "Einlösung", UNDO: "Storno"}
KIND_LABELS = {REDEEM: N_("Redemption"), UNDO: N_("Undone")}
ENTRY_HEADERS = [
    "Händler-Nr.",
    "Händler",
    "Abrechnungsmonat",
    "Datum",
    "Uhrzeit",
    "Buchungsart",
    "Gutschein (gekürzt)",
    "Betrag EUR",
    "Buchungs-Nr.",
]
SUMMARY_HEADERS = [
    "Händler-Nr.",
    "Händler",
    "Abrechnungsmonat",
    "Einlösungen",
    "Stornos",
    "Umsatz EUR",
    "Gebühr %",
    "Gebühr EUR",
    "Auszahlung EUR",
]


def decimal_comma(cents: int) -> str:
    """'1234,50', '-12,05': no thousands separator, no currency sign (Excel reads a number)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def percent_comma(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",")


def month_label(month: str) -> str:
    """'2026-11' -> '11/2026'."""
    year, number = month.split("-")
    return f"{number}/{year}"


def counts(statement: Statement) -> tuple[int, int]:
    redeemed = sum(1 for row in statement.rows if row[1] == REDEEM)
    return redeemed, sum(1 for row in statement.rows if row[1] == UNDO)


def entry_rows(statement: Statement, city: City) -> list[list[str]]:
    rows = []
    for at, kind, code, amount, entry_id in statement.rows:
        local = at.astimezone(city.tz)
        rows.append(
            [
                statement.merchant_key,
                statement.merchant_name,
                month_label(statement.month),
                local.strftime("%d.%m.%Y"),
                local.strftime("%H:%M:%S"),
                KIND_NAMES.get(kind, kind),
                code,
                decimal_comma(amount),
                str(entry_id),
            ]
        )
    return rows


def summary_row(statement: Statement) -> list[str]:
    redeemed, undone = counts(statement)
    return [
        statement.merchant_key,
        statement.merchant_name,
        month_label(statement.month),
        str(redeemed),
        str(undone),
        decimal_comma(statement.total_cents),
        percent_comma(statement.fee_percent),
        decimal_comma(statement.fee_cents),
        decimal_comma(statement.payout_cents),
    ]


def _write(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=CSV_ENCODING) as handle:
        out = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        out.writerow(headers)
        out.writerows(rows)
    return path


def write_csv(statement: Statement, folder: Path, city: City) -> Path:
    name = f"settlement-{statement.month}-{statement.merchant_key}.csv"
    return _write(folder / name, ENTRY_HEADERS, entry_rows(statement, city))


def write_summary(statements: list[Statement], folder: Path, month: str) -> Path:
    rows = [summary_row(s) for s in statements]
    return _write(folder / f"settlement-{month}.csv", SUMMARY_HEADERS, rows)


def statement_pdf(statement: Statement, city: City, today: date, lang: str = "de") -> bytes:
    """The merchant's monthly statement: every booking, the totals, the fee and the payout."""

    def t(message: str, **params: object) -> str:
        return i18n.translate(lang, message, params)

    merchant = city.merchant(statement.merchant_key)
    redeemed, undone = counts(statement)
    table_rows = [
        [
            at.astimezone(city.tz).strftime("%d.%m.%Y"),
            at.astimezone(city.tz).strftime("%H:%M"),
            t(KIND_LABELS.get(kind, kind)),
            code,
            format_money(amount, lang),
        ]
        for at, kind, code, amount, _entry in statement.rows
    ]
    letter = documents.Letter(
        head=documents.letterhead(city, "stadtgutschein", lang),
        title=t(N_("City voucher settlement {month}"), month=month_label(statement.month)),
        facts=[
            (t(N_("Acceptance point")), f"{statement.merchant_name} ({statement.merchant_key})"),
            *([(t(N_("Address")), merchant.address)] if merchant and merchant.address else []),
            (t(N_("Statement date")), str(i18n.format_value(lang, i18n.day(today)))),
        ],
        table=(
            [t(N_("Date")), t(N_("Time")), t(N_("Booking")), t(N_("Voucher")), t(N_("Amount"))],
            table_rows,
        ),
        notes=[
            t(N_("Redemptions: {n}, undone: {m}"), n=redeemed, m=undone),
            t(N_("Turnover: {amount}"), amount=i18n.money(statement.total_cents)),
            t(
                N_("Fee ({percent} %): {amount}"),
                percent=percent_comma(statement.fee_percent),
                amount=i18n.money(statement.fee_cents),
            ),
            t(N_("Payout: {amount}"), amount=i18n.money(statement.payout_cents)),
        ],
        notes_heading=t(N_("Totals")),
        footer=t(
            N_(
                "Voucher codes are shortened so that they cannot be used from this statement. "
                "Please check the statement and tell us within four weeks if something is wrong."
            )
        ),
        office_hours_label=t(N_("Office hours")),
    )
    return documents.render(letter)


def write_pdf(statement: Statement, folder: Path, city: City, today: date) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"settlement-{statement.month}-{statement.merchant_key}.pdf"
    path.write_bytes(statement_pdf(statement, city, today))
    return path
