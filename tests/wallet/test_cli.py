"""`stadtlotse settlement --month` and `stadtlotse merchant add` on a database file."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from bot.cli import main
from services.city import load_city
from services.identity import accounts as identity
from services.wallet import redemption, vouchers
from storage.db import Database
from storage.migrate import alembic_config
from storage.models.outbox import AuditEntry
from tests.support.pdf import embedded_fonts, pdf_text

BERLIN = ZoneInfo("Europe/Berlin")


async def prepare(url: str) -> None:
    """Tables from the models (the initial migration is regenerated at merge), stamped as
    current, with a month of redemptions at two merchants."""
    db = Database(url)
    await db.create_all()
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.stamp(_with(alembic_config(url), sync), "head"))
    city = load_city()
    now = datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN)
    async with db.uow() as uow:
        citizen, _account = await identity.contact(
            uow, channel="console", external_id="anna", chat_id="anna", now=now
        )
        voucher = await vouchers.issue(uow, city, citizen.id or 0, 10000, now=now)
        for day, merchant, cents in [
            (1, "cafe-am-schloss", 1250),
            (5, "cafe-am-schloss", 2000),
            (30, "buchhandlung-schmitz", 999),
        ]:
            entry = await redemption.redeem(
                uow,
                city,
                merchant_key=merchant,
                actor_citizen_id=None,
                voucher_id=voucher.id or 0,
                amount_cents=cents,
                idempotency_key=f"cli-{day}",
                now=datetime(2026, 11, day, 23, 30, tzinfo=BERLIN),
            )
        # undone a minute later: the book shop's line shows both
        await redemption.undo(
            uow,
            city,
            merchant_key="buchhandlung-schmitz",
            actor_citizen_id=None,
            entry_id=entry.id or 0,
            now=datetime(2026, 11, 30, 23, 31, tzinfo=BERLIN),
        )
        # December in Berlin, still November in UTC: not in November's settlement
        await redemption.redeem(
            uow,
            city,
            merchant_key="cafe-am-schloss",
            actor_citizen_id=None,
            voucher_id=voucher.id or 0,
            amount_cents=100,
            idempotency_key="cli-dec",
            now=datetime(2026, 12, 1, 0, 30, tzinfo=BERLIN),
        )
        await uow.commit()
    await db.dispose()


def _with(config: object, connection: object) -> object:
    config.attributes["connection"] = connection  # type: ignore[attr-defined]
    return config


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STADTLOTSE_DATABASE_URL", url)
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-12-02T09:00:00+01:00")
    monkeypatch.delenv("STADTLOTSE_STRIPE_SECRET_KEY", raising=False)
    asyncio.run(prepare(url))
    return url


def read_as_excel(path: Path) -> list[list[str]]:
    """As German Excel opens a CSV with a double click: the byte order mark says UTF-8 (without
    it Excel falls back to cp1252), `;` separates the fields, numbers use a decimal comma."""
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), "without the BOM Excel reads the file as cp1252"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def excel_number(cell: str) -> Decimal:
    """A German number cell: '12,50' (a dot would be read as a thousands separator)."""
    assert re.fullmatch(r"-?\d+(,\d+)?", cell), cell
    return Decimal(cell.replace(",", "."))


def test_settlement_writes_files_a_german_accountant_can_book(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["settlement", "--month", "2026-11", "--out", str(out), "--fee", "3"]) == 0
    cafe = read_as_excel(out / "settlement-2026-11-cafe-am-schloss.csv")
    header, *rows = cafe
    assert header == [
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
    assert all(len(row) == len(header) for row in rows)  # one tidy table, no totals mixed in
    assert [(r[1], r[2], r[3], r[5], r[7]) for r in rows] == [
        ("Café am Schloss", "11/2026", "01.11.2026", "Einlösung", "12,50"),
        ("Café am Schloss", "11/2026", "05.11.2026", "Einlösung", "20,00"),
    ]
    assert sum(excel_number(r[7]) for r in rows) == Decimal("32.50")
    assert all(r[6].startswith("…") for r in rows)  # no usable voucher code in the file
    books = read_as_excel(out / "settlement-2026-11-buchhandlung-schmitz.csv")
    assert [r[5] for r in books[1:]] == ["Einlösung", "Storno"]
    assert sum(excel_number(r[7]) for r in books[1:]) == 0
    summary = read_as_excel(out / "settlement-2026-11.csv")
    assert summary[0] == [
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
    by_key = {row[0]: row for row in summary[1:]}
    assert all(len(row) == len(summary[0]) for row in summary)
    # 3 % of 32,50 = 0,975, rounded half up
    assert by_key["cafe-am-schloss"][3:] == ["2", "0", "32,50", "3", "0,98", "31,52"]
    assert by_key["buchhandlung-schmitz"][3:6] == ["1", "1", "0,00"]
    assert "cafe-am-schloss: 2 entries" in capsys.readouterr().out
    statement = (out / "settlement-2026-11-cafe-am-schloss.pdf").read_bytes()
    assert embedded_fonts(statement) >= {"DejaVuSansBook"}
    text = pdf_text(statement)
    for expected in (
        "Stadt Ahaus",
        "Stadtgutschein · Abrechnung",
        "Gutschein-Abrechnung 11/2026",
        "Café am Schloss (cafe-am-schloss)",
        "Sümmermannplatz 3, 48683 Ahaus",
        "01.11.2026",
        "12,50 €",
        "Umsatz: 32,50 €",
        "Gebühr (3 %): 0,98 €",
        "Auszahlung: 31,52 €",
    ):
        assert expected in text, expected


def test_settlement_refuses_bad_months_and_fees(database: str, tmp_path: Path) -> None:
    assert main(["settlement", "--month", "2026-13", "--out", str(tmp_path)]) == 2
    assert main(["settlement", "--month", "November", "--out", str(tmp_path)]) == 2
    assert main(["settlement", "--month", "2026-11", "--fee", "-1", "--out", str(tmp_path)]) == 2
    assert main(["settlement", "--month", "2026-11", "--fee", "abc", "--out", str(tmp_path)]) == 2


def test_merchant_add_then_grant(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merchant", "add", "eisdiele-venezia", "--name", "Eisdiele Venezia"]) == 0
    assert main(["merchant", "add", "eisdiele-venezia", "--name", "Again"]) == 2
    assert main(["merchant", "add", "Bad Key!", "--name", "X"]) == 2
    assert main(["grant", "merchant", "console:anna", "--merchant", "eisdiele-venezia"]) == 0
    assert main(["grant", "merchant", "console:anna", "--merchant", "nowhere"]) == 2
    assert main(["merchant", "list"]) == 0
    assert "Eisdiele Venezia" in capsys.readouterr().out

    async def audited() -> list[str]:
        db = Database(database)
        async with db.uow() as uow:
            found = list((await uow.session.execute(select(AuditEntry.action))).scalars())
        await db.dispose()
        return found

    assert "merchant.add" in asyncio.run(audited())
