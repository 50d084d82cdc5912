"""QR codes and gift links carry a Telegram deep link when the Telegram channel runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flows.context import Deps
from flows.wallet import deep_link


def ctx_with(extras: dict[str, Any]) -> Any:
    return SimpleNamespace(deps=Deps(extras=extras))


def test_without_telegram_the_link_is_the_command() -> None:
    assert deep_link(ctx_with({}), "v-ABC") == "/start v-ABC"


def test_with_telegram_the_link_opens_the_bot() -> None:
    extras = {"telegram_deep_link": lambda payload: f"https://t.me/stadtlotse_bot?start={payload}"}
    assert deep_link(ctx_with(extras), "g-XYZ") == "https://t.me/stadtlotse_bot?start=g-XYZ"


def test_before_the_bot_knows_its_name_the_command_is_used() -> None:
    assert deep_link(ctx_with({"telegram_deep_link": lambda payload: ""}), "v-1") == "/start v-1"
