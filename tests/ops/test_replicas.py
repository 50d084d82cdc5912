"""Three `stadtlotse run` replicas on one PostgreSQL against the fake Bot API: they migrate an
empty database together, share the singleton roles (one poller, one sender, one scheduler),
answer residents, and when the sender's holder is killed (SIGKILL) in the middle of a broadcast
a survivor takes over: every message arrives, only the few in flight twice, never two pollers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, text

from storage.db import Database
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import Notification
from tests.conftest import POSTGRES_URL, _pg_state, _postgres_reachable
from tests.support.fake_telegram import FakeTelegram, RateLimits

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPLICAS = 3
RESIDENTS = 300
RATE = 50.0  # messages per second the sender may send (STADTLOTSE_TELEGRAM_RATE_GLOBAL)
FIRST_CHAT = 5_000_000
KEY = "Test reminder"
TAKEOVER_LIMIT = 30.0  # seconds a survivor may need to take a role over
SENDER_CONCURRENCY = 16  # sends one sender has in flight at most (bot/sender/delivery.py)
ROLES = ("sender", "telegram-polling", "scheduler")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def database() -> AsyncIterator[str]:
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {_pg_state.get('why')}")
    name = f"stadtlotse_replicas_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = Database(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


class Replica:
    def __init__(self, number: int, port: int, process: asyncio.subprocess.Process, log: Path):
        self.number = number
        self.port = port
        self.process = process
        self.log = log

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def get(self, client: httpx.AsyncClient, path: str) -> httpx.Response | None:
        try:
            return await client.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)
        except httpx.HTTPError:
            return None

    async def roles(self, client: httpx.AsyncClient) -> set[str]:
        answer = await self.get(client, "/metrics")
        if answer is None or answer.status_code != 200:
            return set()
        return set(re.findall(r'^stadtlotse_leader\{role="([^"]+)"\} 1\.0$', answer.text, re.M))


async def start_replica(number: int, url: str, fake: FakeTelegram, workdir: Path) -> Replica:
    place = workdir / f"replica-{number}"
    place.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    env.update(
        STADTLOTSE_DATABASE_URL=url,
        STADTLOTSE_TELEGRAM_TOKEN=fake.token,
        STADTLOTSE_TELEGRAM_API_URL=fake.base_url.removesuffix("/bot"),
        STADTLOTSE_TELEGRAM_RATE_GLOBAL=str(RATE),
        STADTLOTSE_WEB_PORT=str(port),
        STADTLOTSE_DATA_DIR=str(place / "var"),
        STADTLOTSE_LOG_FORMAT="json",
        STADTLOTSE_PAYMENTS="demo",  # no Stripe keys here: demo payments, chosen
    )
    log = place / "log.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=place,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("wb"),
    )  # fmt: skip
    return Replica(number, port, process, log)


async def until(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def holders(replicas: list[Replica], client: httpx.AsyncClient) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {role: [] for role in ROLES}
    for replica in replicas:
        if replica.alive:
            for role in await replica.roles(client):
                found.setdefault(role, []).append(replica.number)
    return found


async def broadcast(url: str) -> None:
    """RESIDENTS residents on Telegram, one pending notification each."""
    db = Database(url)
    now = datetime.now(UTC)
    ids = range(1, RESIDENTS + 1)
    async with db.engine.begin() as conn:
        start = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM citizen"))).scalar()
        people = [start + i for i in ids]
        await conn.execute(
            insert(Citizen), [{"id": p, "language": "en", "created_at": now} for p in people]
        )
        await conn.execute(text("SELECT setval('citizen_id_seq', :n)"), {"n": max(people)})
        await conn.execute(
            insert(ChannelAccount),
            [
                {
                    "channel": "telegram",
                    "external_id": str(FIRST_CHAT + i),
                    "chat_id": str(FIRST_CHAT + i),
                    "citizen_id": p,
                    "created_at": now,
                }
                for i, p in zip(ids, people, strict=True)
            ],
        )
        await conn.execute(
            insert(Notification),
            [
                {
                    "citizen_id": p,
                    "key": KEY,
                    "params": {},
                    "buttons": [],
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for p in people
            ],
        )
    await db.dispose()


async def statuses(url: str) -> dict[str, int]:
    db = Database(url)
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT status, count(*) FROM notification GROUP BY 1"))
        found = {status: int(n) for status, n in rows.all()}
    await db.dispose()
    return found


async def test_three_replicas_share_the_roles_and_survive_a_killed_sender(
    database: str, tmp_path: Path
) -> None:
    limits = RateLimits(global_per_second=RATE * 2, private_per_second=1.0, private_burst=3)
    async with FakeTelegram(limits=limits) as fake, httpx.AsyncClient() as client:
        replicas = [await start_replica(n, database, fake, tmp_path) for n in range(REPLICAS)]
        poller_samples: list[int] = []
        try:

            async def all_ready() -> bool:
                answers = [await r.get(client, "/readyz") for r in replicas]
                assert all(r.alive for r in replicas), "a replica ended while starting"
                return all(a is not None and a.status_code == 200 for a in answers)

            await until(all_ready, "three ready replicas (migrating one empty database)")

            async def one_each() -> bool:
                found = await holders(replicas, client)
                poller_samples.append(len(found["telegram-polling"]))
                return all(len(found[role]) == 1 for role in ROLES)

            await until(one_each, "one holder of each role")

            # residents are answered by whichever replica polls
            await fake.send_text(42, "/start")
            await fake.wait_until(lambda: len(fake.sent(42)) >= 1, timeout=30)

            await broadcast(database)

            def delivered() -> set[int]:
                return {m.chat_id for m in fake.sent() if m.chat_id > FIRST_CHAT}

            await until(lambda: len(delivered()) >= RESIDENTS // 3, "a third of the broadcast")
            found = await holders(replicas, client)
            [sender] = [r for r in replicas if r.number in found["sender"]]
            killed_roles = sorted(role for role, held in found.items() if sender.number in held)
            sender.process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await sender.process.wait()
            sent_at_kill = len(delivered())
            survivors = [r for r in replicas if r is not sender]

            async def taken_over() -> bool:
                found = await holders(survivors, client)
                poller_samples.append(len(found["telegram-polling"]))
                return all(len(found[role]) == 1 for role in ROLES)

            await until(taken_over, "a survivor holding every role", timeout=TAKEOVER_LIMIT)
            takeover = time.monotonic() - killed_at

            await until(lambda: len(delivered()) == RESIDENTS, "every message", timeout=120)
            finished = time.monotonic() - killed_at

            async def all_sent() -> bool:
                return (await statuses(database)).get("sent") == RESIDENTS

            await until(all_sent, "every notification recorded as sent", timeout=30)

            # still answering after the kill, through the poller that is left or took over
            await fake.send_text(43, "/start")
            await fake.wait_until(lambda: len(fake.sent(43)) >= 1, timeout=30)
            await until(one_each_among(survivors, client, poller_samples), "roles stay single")
        finally:
            for replica in replicas:
                if replica.alive:
                    replica.process.send_signal(signal.SIGTERM)
            for replica in replicas:
                try:
                    await asyncio.wait_for(replica.process.wait(), 20)
                except TimeoutError:
                    replica.process.kill()
                    await replica.process.wait()

        per_chat = Counter(m.chat_id for m in fake.sent() if m.chat_id > FIRST_CHAT)
        duplicates = sum(n - 1 for n in per_chat.values())
        print(
            f"\nreplicas: killed the holder of {', '.join(killed_roles)} after "
            f"{sent_at_kill}/{RESIDENTS} messages; roles taken "
            f"over in {takeover:.1f} s; broadcast finished {finished:.1f} s after the kill; "
            f"duplicates {duplicates}; 429s {fake.rate_limited}; overlapping polls "
            f"{fake.overlapping_polls}; pollers seen at once: max {max(poller_samples)}"
        )
        assert set(per_chat) == {FIRST_CHAT + i for i in range(1, RESIDENTS + 1)}
        assert all(m.text == KEY for m in fake.sent() if m.chat_id > FIRST_CHAT)
        # only what the killed sender had in flight can arrive twice
        assert duplicates <= SENDER_CONCURRENCY
        assert takeover < TAKEOVER_LIMIT
        assert fake.overlapping_polls == 0 and max(poller_samples) == 1
        for replica in replicas:  # every line JSON: nothing crashed past the logging
            for line in replica.log.read_text(errors="replace").splitlines():
                assert line.startswith("{") and json.loads(line)["level"], line


def one_each_among(
    replicas: list[Replica], client: httpx.AsyncClient, samples: list[int]
) -> Callable[[], object]:
    async def check() -> bool:
        found = await holders(replicas, client)
        samples.append(len(found["telegram-polling"]))
        return all(len(found[role]) == 1 for role in ROLES)

    return check
