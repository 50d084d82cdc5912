"""`stadtlotse settlement --month` and `stadtlotse merchant add` on a database file."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
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


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=";"))


def test_settlement_writes_one_csv_per_merchant(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["settlement", "--month", "2026-11", "--out", str(out), "--fee", "3"]) == 0
    cafe = read(out / "settlement-2026-11-cafe-am-schloss.csv")
    assert cafe[0] == ["merchant", "cafe-am-schloss", "Café am Schloss"]
    lines = [row for row in cafe if row and row[1] in ("redeem", "undo")]
    assert [(row[0][:10], row[3]) for row in lines] == [
        ("2026-11-01", "12.50"),
        ("2026-11-05", "20.00"),
    ]
    totals = {row[0]: row[1] for row in cafe if len(row) == 2}
    assert totals["total_eur"] == "32.50"
    assert totals["fee_eur"] == "0.98"  # 3 % of 32.50 = 0.975, rounded half up
    assert totals["payout_eur"] == "31.52"
    books = read(out / "settlement-2026-11-buchhandlung-schmitz.csv")
    kinds = [row[1] for row in books if row and row[1] in ("redeem", "undo")]
    assert kinds == ["redeem", "undo"]
    assert {row[0]: row[1] for row in books if len(row) == 2}["total_eur"] == "0.00"
    summary = read(out / "settlement-2026-11.csv")
    assert len(summary) == 3
    assert "cafe-am-schloss: 2 entries" in capsys.readouterr().out
    # no voucher code can be read off the settlement
    assert all(row[2].startswith("…") for row in lines)


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
