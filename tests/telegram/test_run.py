"""`stadtlotse run` with a bot token (and the fake's URL) and nothing else: residents are served
on Telegram, notifications go out through the outbox sender."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.commands.admin import progress_line, requeue_parked, watch
from services import notify
from services.clock import FrozenClock
from storage.db import Database
from storage.models.identity import ChannelAccount
from storage.models.outbox import PARKED, PENDING, Notification
from tests.support.fake_telegram import FakeTelegram

from .conftest import ANNA, free_port

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def _interruptible() -> None:
    """Ctrl-C reaches the program as in a terminal, even when the tests themselves run in the
    background: a shell starts background jobs with SIGINT ignored, and an ignored signal stays
    ignored in every process started from there (so `run` never sees the SIGINT below)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_stadtlotse_run_serves_telegram(
    fake: FakeTelegram, tmp_path: Path, clock: FrozenClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    env = os.environ | {
        "STADTLOTSE_TELEGRAM_TOKEN": fake.token,
        "STADTLOTSE_TELEGRAM_API_URL": fake.base_url.removesuffix("/bot"),
        "STADTLOTSE_DATABASE_URL": url,
        "STADTLOTSE_WEB_PORT": str(free_port()),
        "STADTLOTSE_PAYMENTS": "demo",  # no Stripe keys here: demo payments, chosen
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        preexec_fn=_interruptible,
    )  # fmt: skip
    try:
        # starting (imports, migrations) takes seconds, more on a busy machine
        await fake.wait_until(lambda: bool(fake.calls("getUpdates")), timeout=90)
        await fake.send_text(ANNA, "/start")
        welcome, menu = await fake.wait_for_sent(2, timeout=15)
        assert "Anna" in welcome.text and menu.callback_data

        db = Database(url)  # a notification written by "another part" of the program
        async with db.uow() as uow:
            account = (
                await uow.session.execute(
                    select(ChannelAccount).where(ChannelAccount.external_id == str(ANNA))
                )
            ).scalar_one()
            notify.notify_citizen(
                uow, account.citizen_id, "Your case was approved.", now=clock.now()
            )
            await uow.commit()
        await db.dispose()
        await fake.wait_for_sent(3, timeout=15)
        assert fake.last_sent(ANNA).text == "Your case was approved."
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = await asyncio.wait_for(process.communicate(), 60)
        except TimeoutError:
            process.kill()
            _, errors = await process.communicate()
            calls = [r.method for r in fake.requests]
            raise AssertionError(
                f"no stop after SIGINT; Bot API calls {calls}; log:\n{errors.decode()[-3000:]}"
            ) from None
    assert b"Traceback" not in errors, errors.decode()[-2000:]


def test_progress_line() -> None:
    assert progress_line(0, 0, 0.0).startswith("[" + "#" * 30 + "]")
    line = progress_line(1200, 3600, 30.0)
    assert "1200/3600" in line and "33%" in line and "ETA 1m20s" in line


async def test_watch_and_requeue(db: Database, clock: FrozenClock) -> None:
    async with db.uow() as uow:
        note = Notification(
            department="x", channel="telegram", chat_id="-1", key="k", params={},
            status=PARKED, attempts=8, next_attempt_at=clock.now(), created_at=clock.now(),
        )  # fmt: skip
        uow.session.add(note)
        await uow.commit()
    assert await requeue_parked(db, clock.now()) == 1
    out = io.StringIO()
    ticks = iter(range(100))

    async def send_it() -> None:
        async with db.uow() as uow:
            found = await uow.session.get(Notification, note.id)
            assert found is not None and found.status == PENDING and found.attempts == 0
            found.status = "sent"
            await uow.commit()

    task = asyncio.create_task(watch(db, {}, interval=0.01, out=out, now=lambda: next(ticks)))
    await send_it()
    await asyncio.wait_for(task, 10)
    assert out.getvalue().rstrip().endswith("ETA -") and "1/1" in out.getvalue()
