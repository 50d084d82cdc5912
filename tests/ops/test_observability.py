"""What an operator watches: /healthz, /readyz, /metrics and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest

from bot import logs
from bot.bootstrap import App, build_app
from bot.console import parse_line
from bot.settings import Settings
from bot.web import create_web_app
from scheduler.jobs import load, run_job
from services import log_context
from services.city import City
from services.clock import FrozenClock
from services.wallet import vouchers
from storage.db import Database

PUBLIC_URL = "http://127.0.0.1:8080"


def settings() -> Settings:
    return Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    return build_app(settings(), clock=clock, db=db, city=city)


async def client(app: App) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_web_app(app))
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with await client(app) as http:
        yield http


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, None when it is not there."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if found == labels:
            return float(match[3])
    return None


async def say(app: App, user: str, line: str, key: str) -> None:
    inbound = parse_line(line, user=user, chat=user, key=key)
    assert inbound is not None
    await app.dispatcher.handle(inbound)


# ---------------------------------------------------------------- health and readiness
async def test_healthz_answers_get_and_head(web: httpx.AsyncClient) -> None:
    got = await web.get("/healthz")
    assert got.status_code == 200 and got.text == "ok"
    head = await web.head("/healthz")
    assert head.status_code == 200 and head.content == b""


async def test_readyz_is_200_when_the_database_answers(web: httpx.AsyncClient) -> None:
    ready = await web.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "problems": {}}


class _Channel:
    name = "telegram"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def not_ready(self) -> str:
        return self.reason


async def test_readyz_is_503_with_the_reason_while_a_channel_is_down(app: App) -> None:
    app.channels["telegram"] = _Channel("getUpdates failed 3 times in a row")  # type: ignore[assignment]
    async with await client(app) as http:
        answer = await http.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {
            "ready": False,
            "problems": {"telegram": "getUpdates failed 3 times in a row"},
        }
        app.channels["telegram"].reason = ""  # type: ignore[attr-defined]
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/healthz")).status_code == 200  # alive all along


async def test_readyz_is_503_when_the_database_does_not_answer(
    city: City, clock: FrozenClock
) -> None:
    nowhere = Database("postgresql://nobody@127.0.0.1:9/none")  # nothing listens on port 9
    app = build_app(settings(), clock=clock, db=nowhere, city=city)
    try:
        async with await client(app) as http:
            answer = await http.get("/readyz")
            assert answer.status_code == 503
            assert set(answer.json()["problems"]) == {"database"}
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await nowhere.dispose()


# ---------------------------------------------------------------- metrics
async def test_metrics_count_inputs_payments_jobs_and_the_outbox(
    app: App, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await say(app, "anna", "/start", "m1")
    await say(app, "anna", "Gutschein", "m2")
    await say(app, "anna", "Gutschein", "m2")  # the same update again: handled once, counted
    async with db.uow() as uow:
        from services.identity import accounts as identity

        anna, _account = await identity.contact(
            uow, channel="console", external_id="anna", chat_id="anna", now=clock.now()
        )
        purchase = await vouchers.buy(uow, app.env, anna.id or 0, now=clock.now(), value_cents=2500)
        await uow.commit()
    link = (purchase.payment.checkout_url or "").removeprefix(PUBLIC_URL)
    page = (await web.get(link)).headers["location"].removeprefix(PUBLIC_URL)
    paid = await web.post(page, data={"action": "pay"})
    assert paid.status_code == 200
    job = load()["auction.reservations"]
    await run_job(db, app.env, job, clock.now())
    await run_job(db, app.env, job, clock.now())  # same period: skipped
    await run_job(db, app.env, job, clock.now() + timedelta(hours=1))

    answer = await web.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert sample(text, "stadtlotse_inputs_total", channel="console") == 3
    assert sample(text, "stadtlotse_input_seconds_count", channel="console") == 3
    assert sample(text, "stadtlotse_payments_total", provider="demo", outcome="started") == 1
    assert sample(text, "stadtlotse_payments_total", provider="demo", outcome="paid") == 1
    runs = {"job": "auction.reservations"}
    assert sample(text, "stadtlotse_job_runs_total", **runs, outcome="ok") == 2
    assert sample(text, "stadtlotse_job_runs_total", **runs, outcome="skipped") == 1
    assert sample(text, "stadtlotse_job_seconds_count", **runs, outcome="ok") == 2
    from bot.sender.outbox import counts

    for (channel, status), number in (await counts(db)).items():
        assert sample(text, "stadtlotse_outbox_messages", channel=channel, status=status) == number
    assert "# TYPE stadtlotse_sends_total counter" in text
    assert "# TYPE stadtlotse_leader gauge" in text


async def test_metrics_show_the_roles_this_replica_holds(app: App, web: httpx.AsyncClient) -> None:
    app.roles.update({"scheduler": True, "telegram-polling": False})
    text = (await web.get("/metrics")).text
    assert sample(text, "stadtlotse_leader", role="scheduler") == 1
    assert sample(text, "stadtlotse_leader", role="telegram-polling") == 0


# ---------------------------------------------------------------- JSON logs
@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    out = io.StringIO()
    logs.configure("DEBUG", "json", out)
    yield out
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before[0]:
        root.addHandler(handler)
    root.setLevel(before[1])


def lines(out: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_log_lines_carry_time_level_logger_message_and_context(
    json_log: io.StringIO,
) -> None:
    log = logging.getLogger("stadtlotse.test")
    with log_context.bind(channel="telegram"):
        log_context.add(conversation=17)
        log.warning("sent %d of %d", 3, 4)
        with log_context.bind(job="auction.daily"):
            log.info("job ran", extra={"case": "AH-2026-000001"})
    log.error("outside")
    first, second, third = lines(json_log)
    assert first["level"] == "WARNING" and first["logger"] == "stadtlotse.test"
    assert first["message"] == "sent 3 of 4"
    assert first["channel"] == "telegram" and first["conversation"] == "17"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert second["job"] == "auction.daily" and second["case"] == "AH-2026-000001"
    assert second["conversation"] == "17"
    assert "channel" not in third and "job" not in third


def test_json_log_lines_keep_exceptions_on_one_line(json_log: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("x").exception("failed")
    [line] = json_log.getvalue().splitlines()
    record = json.loads(line)
    assert "ValueError: broken" in record["exception"]


async def test_json_logs_never_carry_what_a_resident_wrote(
    app: App, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Hundename Bello-4711 wohnt Marktstraße 9"
    user = "anna-0815"
    await say(app, user, "/start", "p1")
    await say(app, user, "/profile", "p2")
    await say(app, user, secret, "p3")
    await say(app, user, "Hundesteuer", "p4")
    await say(app, user, secret, "p5")

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug in a flow")

    monkeypatch.setattr(app.dispatcher, "_route", broken)
    await say(app, user, secret, "p6")
    [failure] = [r for r in lines(json_log) if r["message"].startswith("flow failed")]
    assert failure["level"] == "ERROR" and "RuntimeError: a bug in a flow" in failure["exception"]
    assert failure["channel"] == "console" and failure["conversation"].isdigit()
    written = json_log.getvalue()
    assert "Bello-4711" not in written and "Marktstraße" not in written
    assert user not in written


@pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
async def test_metrics_count_sends_by_outcome_429s_included(
    db: Database, city: City, clock: FrozenClock
) -> None:
    from bot.metrics import Metrics
    from bot.sender.delivery import Delivery
    from bot.sender.outbox import OutboxSender
    from bot.sender.ratelimit import Limits
    from bot.telegram import TelegramChannel
    from services import notify
    from services.identity import accounts
    from tests.support.fake_telegram import FakeTelegram, ManualClock
    from tests.telegram.test_outbox import ManualTimer, no_conversation

    metrics = Metrics()
    db.observer = metrics
    people = {}
    async with db.uow() as uow:
        for user in (4711, 4712):
            citizen, _ = await accounts.contact(
                uow, channel="telegram", external_id=str(user), chat_id=str(user), now=clock.now()
            )
            people[user] = citizen.id or 0
        for n in range(2):
            notify.notify_citizen(uow, people[4711], "Note {n}", {"n": n}, now=clock.now())
        notify.notify_citizen(uow, people[4712], "Note {n}", {"n": 9}, now=clock.now())
        await uow.commit()
    mono = ManualClock()
    async with FakeTelegram(clock=mono) as fake:
        channel = TelegramChannel(
            fake.token, no_conversation, api_url=fake.base_url, clock=mono, limits=Limits()
        )
        await channel.start()
        try:
            fake.block_chat(4712)
            fake.fail_next(1, 429)
            sender = OutboxSender(db, city, {"telegram": channel}, clock)
            timer = ManualTimer(mono)
            await Delivery(sender, until_idle=True, timer=timer, poll_interval=0.0).run()
        finally:
            await channel.stop()
    text = metrics.render().decode()
    assert sample(text, "stadtlotse_sends_total", channel="telegram", outcome="sent") == 2
    assert sample(text, "stadtlotse_sends_total", channel="telegram", outcome="throttled") == 1
    assert sample(text, "stadtlotse_sends_total", channel="telegram", outcome="unreachable") == 1
