"""Item 6: demo payments outside the console need STADTLOTSE_PAYMENTS=demo; `run` with a chat
channel and no Stripe keys stops with one line naming the missing settings; `run` with
STADTLOTSE_NOW logs that the clock is frozen."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.commands import run as run_command
from bot.payments.demo import DemoProvider
from bot.payments.stripe_provider import StripeProvider
from bot.settings import SettingsError, load_settings


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    env["STADTLOTSE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    env.update({f"STADTLOTSE_{k.upper()}": v for k, v in values.items()})
    return env


async def stadtlotse_run(tmp_path: Path, **values: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=clean_env(tmp_path, **values), cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.parametrize(
    "channel",
    [
        {"telegram_token": "123456:TEST", "telegram_api_url": "http://127.0.0.1:9"},
        {
            "matrix_homeserver": "http://127.0.0.1:9",
            "matrix_user_id": "@bot:example.org",
            "matrix_password": "x",
        },
    ],
)
async def test_run_with_a_chat_channel_and_no_stripe_keys_stops(
    tmp_path: Path, channel: dict[str, str]
) -> None:
    code, err = await stadtlotse_run(tmp_path, **channel)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "STADTLOTSE_STRIPE_SECRET_KEY" in lines[0] and "STADTLOTSE_PAYMENTS=demo" in lines[0]
    assert not (tmp_path / "run.db").exists()  # stopped before touching anything


async def test_the_choice_of_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("STADTLOTSE_")]:
        monkeypatch.delenv(name)
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    telegram = {"telegram_token": "123456:TEST", "_env_file": None}
    assert load_settings(**telegram, payments="demo").payment_problem() == ""
    assert load_settings(**telegram).payment_problem()
    assert load_settings(_env_file=None).payment_problem() == ""  # the console
    stripe = {"stripe_secret_key": "sk_test_x", "stripe_webhook_secret": "whsec_x"}
    assert load_settings(**telegram, **stripe).payment_problem() == ""
    with pytest.raises(SettingsError, match="STADTLOTSE_PAYMENTS"):
        load_settings(payments="paypal", _env_file=None)
    with pytest.raises(SettingsError, match="STADTLOTSE_STRIPE_SECRET_KEY"):
        load_settings(payments="stripe", _env_file=None)
    demo_wins = build_app(load_settings(**stripe, payments="demo", database_url=db, _env_file=None))
    assert isinstance(demo_wins.env.payments, DemoProvider)
    real = build_app(load_settings(**stripe, database_url=db, _env_file=None))
    assert isinstance(real.env.payments, StripeProvider)
    console = build_app(load_settings(database_url=db, _env_file=None))
    assert isinstance(console.env.payments, DemoProvider)
    for app in (demo_wins, real, console):
        await app.close()


async def test_run_warns_that_the_clock_is_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def serve(app: object) -> None:
        return None

    monkeypatch.setattr(run_command, "serve", serve)
    db = f"sqlite+aiosqlite:///{tmp_path / 'now.db'}"
    frozen = load_settings(database_url=db, now="2026-12-24T09:00:00+01:00", _env_file=None)
    caplog.set_level(logging.INFO)
    assert await run_command.run(argparse.Namespace(settings=frozen)) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("frozen" in w and "2026-12-24T09:00:00+01:00" in w for w in warnings), warnings
    caplog.clear()
    live = load_settings(database_url=db, _env_file=None)
    assert await run_command.run(argparse.Namespace(settings=live)) == 0
    assert not any("frozen" in r.getMessage() for r in caplog.records)
