"""End to end: residents on Telegram (fake Bot API over HTTP, real python-telegram-bot), in
polling and webhook mode."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.identity import accounts as identity
from storage.models.conversation import ProcessedUpdate
from tests.support.fake_telegram import FakeTelegram, SentMessage

from .conftest import ANNA, BERND, GROUP, Bot

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def labels(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons]


def refused(message: SentMessage) -> bool:
    return "nicht gültig" in message.text or "not valid" in message.text


def data_of(message: SentMessage, label: str) -> str:
    return next(b["callback_data"] for b in message.buttons if label in b["text"])


async def say(
    fake: FakeTelegram, user: int, text: str, count: int, **kw: object
) -> list[SentMessage]:
    """The resident writes; returns the bot's `count` new messages to that chat."""
    chat = int(kw.get("chat_id") or user)  # type: ignore[call-overload]
    before = len(fake.sent(chat))
    result = await fake.send_text(user, text, **kw)  # type: ignore[arg-type]
    if result.status is not None:
        assert result.status == 200
    messages = await fake.wait_for_sent(before + count, chat_id=chat)
    return messages[before:]


async def press(
    fake: FakeTelegram, user: int, message: SentMessage, label: str, count: int
) -> list[SentMessage]:
    before = len(fake.sent(message.chat_id))
    pushed = await fake.press_button(
        user, message.message_id, data_of(message, label), chat_id=message.chat_id
    )
    query = fake.button_presses[pushed.callback_query_id or ""]
    await fake.wait_until(
        lambda: query.answered and len(fake.sent(message.chat_id)) >= before + count
    )
    return fake.sent(message.chat_id)[before:]


async def test_start_menu_buttons_and_language(bot: Bot, fake: FakeTelegram) -> None:
    welcome, menu = await say(fake, ANNA, "/start", 2)
    assert welcome.text.startswith("Hallo Anna, willkommen") or "Anna" in welcome.text
    assert menu.reply_markup is not None and len(labels(menu)) >= 2
    assert all(len(d.encode()) <= 64 for d in menu.callback_data)
    assert all(":" in d and "language" not in d for d in menu.callback_data)  # opaque tokens

    [choice] = await press(fake, ANNA, menu, "Sprache", 1)
    assert labels(choice) == ["Deutsch", "English"]
    [done] = await press(fake, ANNA, choice, "English", 1)
    assert done.text.startswith("I will speak English with you")
    assert all(p.answered for p in fake.button_presses.values())  # every press answered


async def test_stale_and_forged_buttons_are_refused(bot: Bot, fake: FakeTelegram) -> None:
    _, old_menu = await say(fake, ANNA, "/start", 2)
    [choice] = await say(fake, ANNA, "/language", 1)
    stale = await press(fake, ANNA, old_menu, "Sprache", 2)
    assert "outdated" in stale[0].text or "veraltet" in stale[0].text
    assert labels(stale[1]) == ["Deutsch", "English"]  # the current menu again

    before = len(fake.sent(ANNA))
    forged = await fake.press_button(ANNA, choice.message_id, "AAAAAAAAAAAA:0")
    await fake.wait_for_sent(before + 1, chat_id=ANNA)
    assert (
        "nicht gültig" in fake.sent(ANNA)[before].text
        or "not valid" in fake.sent(ANNA)[before].text
    )
    assert fake.button_presses[forged.callback_query_id or ""].answered

    # a token of Bernd's chat pressed in Anna's chat: foreign, refused
    _, bernd_menu = await say(fake, BERND, "/start", 2)
    before = len(fake.sent(ANNA))
    await fake.press_button(ANNA, choice.message_id, bernd_menu.callback_data[0])
    await fake.wait_for_sent(before + 1, chat_id=ANNA)
    assert (
        "nicht gültig" in fake.sent(ANNA)[before].text
        or "not valid" in fake.sent(ANNA)[before].text
    )


async def test_deep_link_redeems_a_link_code(bot: Bot, fake: FakeTelegram, clock: object) -> None:
    assert bot.app is not None
    async with bot.app.db.uow() as uow:
        citizen, _account = await identity.contact(
            uow, channel="console", external_id="anna", chat_id="anna",
            now=clock.now(), default_language="de",  # type: ignore[attr-defined]
        )  # fmt: skip
        link = await identity.create_link_code(uow, citizen.id or 0, clock.now())  # type: ignore[attr-defined]
        await uow.commit()
    [linked] = await say(fake, ANNA, f"/start link-{link.code}", 1)
    assert "Console" in linked.text and "Telegram" in linked.text
    assert bot.channel.deep_link("v-ABC") == "https://t.me/stadtlotse_bot?start=v-ABC"


async def test_group_chat_answers_only_what_is_addressed_to_it(
    bot: Bot, fake: FakeTelegram
) -> None:
    await fake.send_text(ANNA, "Hallo zusammen", chat_id=GROUP)
    await fake.send_text(ANNA, "/start@anderer_bot", chat_id=GROUP)
    replies = await say(fake, ANNA, "/help@stadtlotse_bot", 1, chat_id=GROUP)
    assert "/start" in replies[0].text
    assert len(fake.sent(GROUP)) == 1  # the chatter and the other bot's command were ignored
    assert replies[0].reply_to is not None  # answers the staff member's message in the room


async def test_private_data_stays_out_of_groups(bot: Bot, fake: FakeTelegram) -> None:
    await say(fake, ANNA, "/start", 2)  # Anna has a private chat with the bot
    before = len(fake.sent(ANNA))
    [note] = await say(fake, ANNA, "/profile@stadtlotse_bot", 1, chat_id=GROUP)
    assert "privaten Chat geschickt" in note.text
    assert len(fake.sent(ANNA)) > before  # the profile went to her private chat
    fake.block_chat(ANNA)  # someone the bot cannot write to gets the link to start a private chat
    [hint] = await say(fake, ANNA, "/profile@stadtlotse_bot", 1, chat_id=GROUP)
    assert "privat" in hint.text.lower()
    assert hint.buttons[0]["url"] == "https://t.me/stadtlotse_bot"


async def test_wrong_webhook_secret_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    if not bot.webhook:
        pytest.skip("webhook mode only")
    [call] = fake.calls("setWebhook")
    assert call.params["secret_token"] == "geheim_123"
    assert call.params["url"].startswith(f"http://127.0.0.1:{bot.port}/telegram/")
    for wrong in ("falsch", ""):
        result = await fake.send_text(ANNA, "/start", secret_override=wrong)
        assert result.status == 403
    assert fake.sent() == []
    async with bot.db.uow() as uow:
        seen = (
            await uow.session.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar()
    assert seen == 0  # nothing was processed
    await say(fake, ANNA, "/start", 2)


async def test_restart_during_a_conversation(bot: Bot, fake: FakeTelegram) -> None:
    [choice] = await say(fake, ANNA, "/language", 1)
    await bot.restart()
    [done] = await press(fake, ANNA, choice, "English", 1)  # a button from before the restart
    assert done.text.startswith("I will speak English")
    replies = await say(fake, ANNA, "/start", 2)
    assert replies[0].text.startswith("Hello Anna")


async def test_long_input_locations_and_files(bot: Bot, fake: FakeTelegram) -> None:
    [refused] = await say(fake, ANNA, "x" * 5000, 1)  # too long for a conversation: a friendly no
    assert "5000" in refused.text
    before = len(fake.sent(ANNA))
    await fake.send_location(ANNA, 52.07, 7.01)
    await fake.wait_for_sent(before + 1, chat_id=ANNA)
    await fake.send_document(ANNA, b"%PDF-1.4 tiny", filename="nachweis.pdf")
    await fake.wait_for_sent(before + 2, chat_id=ANNA)
    await fake.send_document(ANNA, b"0" * (10 * 1024 * 1024 + 1), filename="gross.pdf")
    [too_large] = (await fake.wait_for_sent(before + 3, chat_id=ANNA))[-1:]
    assert "10 MB" in too_large.text
