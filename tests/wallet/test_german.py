"""The voucher flows in German, the town's default language."""

from __future__ import annotations

from pathlib import Path

from bot.payments.demo import DemoProvider
from services.city import City
from services.clock import FrozenClock
from storage.db import Database
from tests.wallet.conftest import PUBLIC_URL, PlainTranscript


async def test_buy_and_redeem_in_german(
    db: Database, city: City, clock: FrozenClock, tmp_path: Path, demo_provider: DemoProvider
) -> None:
    chat = PlainTranscript(
        db,
        city,
        clock,
        media_dir=tmp_path,
        public_url=PUBLIC_URL,
        payments=demo_provider,
    )
    out = await chat.send("anna", "gutschein")
    assert "Wie viel soll er wert sein?" in out
    assert "Winteraktion: 100,00 € für 85,00 €" in out
    out = await chat.press("anna", "Anderer Betrag")
    out = await chat.send("anna", "12,505")
    assert "höchstens zwei Nachkommastellen" in out or "two decimal places" in out
    out = await chat.send("anna", "12,50")
    assert "Ihr Stadtgutschein über 12,50 €, gültig bis 31.12.2029." in out
    assert "DEMO: Es fließt kein Geld." in out
    await chat.press("anna", "Bezahlen (Demo)")
    shown = await chat.notifications("anna")
    assert "Zahlung erhalten – vielen Dank!" in shown
    out = await chat.send("anna", "/wallet")
    assert "Ihre Wallet enthält 1 Eintrag (1 aktiv)" in out
    out = await chat.press("anna", "Stadtgutschein")
    assert "Guthaben: 12,50 €" in out and "Status: gültig" in out
