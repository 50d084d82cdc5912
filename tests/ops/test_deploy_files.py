"""The files an operator deploys with stay true to the program: every setting is in
.env.example."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def setting_names() -> list[str]:
    return [f"STADTLOTSE_{name.upper()}" for name in Settings.model_fields]


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [name for name in setting_names() if f"{name}=" not in example]
    assert not missing, f"add to .env.example (commented, one line on what they do): {missing}"
