"""Item 3: a signature timestamp far in the future is refused like a stale one; an event for a
session Stripe does not know is acknowledged (200) and logged, not retried forever."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from bot.bootstrap import App
from services.clock import FrozenClock
from storage.db import Database
from tests.support.fake_stripe import FakeStripe
from tests.wallet.conftest import resident
from tests.wallet.test_stripe import event, post_event, signed, start_purchase, state


@pytest.mark.parametrize("offset", [-3600, -301, 301, 3600, 10**9])
async def test_timestamps_outside_the_tolerance_are_refused(
    web: httpx.AsyncClient,
    app: App,
    db: Database,
    clock: FrozenClock,
    fake_stripe: FakeStripe,
    offset: int,
) -> None:
    anna = await resident(db, clock, "anna")
    _payment, session_id = await start_purchase(app, web, anna)
    fake_stripe.complete(session_id)
    payload = event("evt_t", "checkout.session.completed", session_id)
    response = await post_event(web, payload, signed(payload, at=int(time.time()) + offset))
    assert response.status_code == 400
    assert (await state(db))["voucher"] == "pending"
    near = signed(payload, at=int(time.time()) + 60)  # clocks a minute apart still work
    assert (await post_event(web, payload, near)).status_code == 200
    assert (await state(db))["voucher"] == "active"


async def test_an_event_for_a_session_stripe_does_not_know_is_acknowledged(
    web: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    payload = event("evt_ghost", "checkout.session.completed", "cs_test_nobody_knows")
    response = await post_event(web, payload)
    assert response.status_code == 200 and response.text == "unknown session"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cs_test_nobody_knows" in warnings[0].getMessage()


async def test_stripe_down_is_still_retried(
    web: httpx.AsyncClient,
    fake_stripe: FakeStripe,
) -> None:
    fake_stripe.fail_reads = True
    payload = event("evt_down", "checkout.session.completed", "cs_test_whatever")
    assert (await post_event(web, payload)).status_code == 503
