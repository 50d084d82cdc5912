"""A broken street light reported on Telegram: free text, a shared location (Telegram's
location message), a description and "ja", through python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models.defects import DefectReport
from tests.support.fake_telegram import FakeTelegram

from .conftest import ANNA, Bot
from .test_vouchers_on_telegram import until, write

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


async def test_report_with_a_telegram_location(polling_bot: Bot, fake: FakeTelegram) -> None:
    await write(fake, ANNA, "Laterne kaputt", "Wo ist es?")
    before = len(fake.sent(ANNA))
    await fake.send_location(ANNA, 52.07720, 7.00620)
    await until(fake, ANNA, "Bitte beschreiben Sie kurz", before)
    await write(fake, ANNA, "Leuchtet nicht mehr", "Möchten Sie erfahren")
    done = await write(fake, ANNA, "ja", "Danke! Ihre Meldung Nr. 1")
    assert "Straßenbeleuchtung, Wallstraße" in done.text

    before = len(fake.sent(ANNA))
    await fake.send_location(ANNA, 51.9607, 7.6261)  # Münster, when nothing is asked
    await fake.wait_for_sent(before + 1, chat_id=ANNA)
    async with polling_bot.db.uow() as uow:
        [report] = (await uow.session.execute(select(DefectReport))).scalars().all()
        assert (report.lat, report.lon, report.category) == (52.0772, 7.0062, "lighting")
