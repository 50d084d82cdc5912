"""The wallet's done-when on Telegram: a new resident buys a voucher with the demo provider,
finds it in the wallet, and a merchant redeems part of it — all through python-telegram-bot
against the fake Bot API."""

from __future__ import annotations

import re

import pytest

from services.identity import accounts as identity
from tests.support.fake_telegram import FakeTelegram, SentMessage

from .conftest import ANNA, BERND, Bot

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


async def until(fake: FakeTelegram, chat: int, needle: str, after: int) -> SentMessage:
    """The first message to `chat` after index `after` that contains `needle`."""

    def found() -> SentMessage | None:
        return next((m for m in fake.sent(chat)[after:] if needle in (m.text or "")), None)

    await fake.wait_until(lambda: found() is not None)
    message = found()
    assert message is not None
    return message


async def write(fake: FakeTelegram, user: int, text: str, needle: str) -> SentMessage:
    before = len(fake.sent(user))
    await fake.send_text(user, text)
    return await until(fake, user, needle, before)


async def press(fake: FakeTelegram, message: SentMessage, label: str, needle: str) -> SentMessage:
    before = len(fake.sent(message.chat_id))
    data = next(b["callback_data"] for b in message.buttons if label in b["text"])
    await fake.press_button(message.chat_id, message.message_id, data)
    return await until(fake, message.chat_id, needle, before)


async def test_buy_pay_and_redeem_on_telegram(polling_bot: Bot, fake: FakeTelegram) -> None:
    menu = await write(fake, ANNA, "/start", "Was möchten Sie tun?")
    amounts = await press(fake, menu, "Stadtgutschein kaufen", "Wie viel")
    checkout = await press(fake, amounts, "10,00", "bezahlen")
    assert any(b.get("url") for b in checkout.buttons) or "/pay/1-" in checkout.text
    await press(fake, checkout, "Bezahlen (Demo)", "Bezahlt")

    before = len(fake.sent(ANNA))
    await polling_bot.outbox()
    paid = await until(fake, ANNA, "Zahlung erhalten", before)
    code = re.search(r"Code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2})", paid.text)
    assert code, paid.text

    wallet = await write(fake, ANNA, "/wallet", "Wallet")
    details = await press(fake, wallet, "Stadtgutschein", "Guthaben: 10,00")
    photos = [m for m in fake.sent(ANNA) if m.kind == "photo"]
    assert photos and photos[-1].data and photos[-1].data.startswith(b"\x89PNG")
    assert code.group(1) in details.text

    await write(fake, BERND, "/start", "Was möchten Sie tun?")
    async with polling_bot.db.uow() as uow:
        account = await identity.find_account(uow, "telegram", str(BERND))
        assert account is not None
        await identity.grant_role(
            uow,
            account.citizen_id,
            "merchant",
            "cafe-am-schloss",
            now=polling_bot.clock.now(),
            by="test",
        )
        await uow.commit()
    await write(fake, BERND, "/redeem", "Code")
    await write(fake, BERND, code.group(1), "Guthaben 10,00")
    confirm = await write(fake, BERND, "4,50", "einlösen?")
    receipt = await press(fake, confirm, "Bestätigen", "Restguthaben: 5,50")
    assert "Café am Schloss" in receipt.text

    before = len(fake.sent(ANNA))
    await polling_bot.outbox()
    told = await until(fake, ANNA, "eingelöst", before)
    assert "5,50" in told.text
