"""QR codes and gift links carry a Telegram deep link when the Telegram channel runs."""

from __future__ import annotations

from services.env import Links


def test_without_telegram_the_link_is_the_command() -> None:
    assert Links().start("v-ABC") == "/start v-ABC"


def test_with_telegram_the_link_opens_the_bot() -> None:
    links = Links(chat_link=lambda payload: f"https://t.me/stadtlotse_bot?start={payload}")
    assert links.start("g-XYZ") == "https://t.me/stadtlotse_bot?start=g-XYZ"


def test_before_the_bot_knows_its_name_the_command_is_used() -> None:
    assert Links(chat_link=lambda payload: "").start("v-1") == "/start v-1"
