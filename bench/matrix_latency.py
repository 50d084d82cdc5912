"""Matrix latency: a resident's message to the bot and back, through a real Synapse on loopback.

For each of four bots, in one run on one homeserver: Stadtlotse in a plain room, Stadtlotse in an
end-to-end encrypted room, and a bare matrix-nio echo bot in a plain and in an encrypted room.
The resident (a matrix-nio client, long-polling sync) sends N messages one after the other and
measures from just before `room_send` to the moment its sync delivers the bot's answer.

Stadtlotse answers "menu" with the main menu (dispatcher, conversation state and stored menu in
SQLite, numbered list rendered as HTML). Per-room pacing is raised for the run: it is a
configured limit, not a cost, and one resident sending back to back would otherwise measure it.
Keycap reactions under small menus are off by default (`--keycaps 4` turns them on as in
production): they are sent after the answer, but with messages 50 ms apart they compete with
the next message for the homeserver, which no person typing would notice.

    .venv/bin/python bench/matrix_latency.py [--messages 200] [--warmup 5] [--keycaps 0]

Prints the figures and writes bench/results/matrix_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomMessageText,
    SyncError,
)

from bot.bootstrap import build_app  # noqa: E402
from bot.matrix.channel import MatrixChannel  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from services.city import load_city  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.support.synapse import SynapseServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def config(encrypted: bool) -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=encrypted, store_sync_tokens=False, max_limit_exceeded=3, max_timeouts=3
    )


async def maintain_keys(client: AsyncClient) -> None:
    if client.olm is None:
        return
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())


async def sync_loop(client: AsyncClient, stop: asyncio.Event) -> None:
    while not stop.is_set():
        resp = await client.sync(timeout=30_000)
        if isinstance(resp, SyncError):
            await asyncio.sleep(0.2)
            continue
        await maintain_keys(client)


class Person:
    """A matrix-nio client that syncs in the background and wakes whoever waits for a message
    from `partner`."""

    def __init__(self, client: AsyncClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id
        self.partner = ""
        self.arrived: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        client.add_event_callback(self._on_text, RoomMessageText)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.partner:
            self.arrived.put_nowait((time.perf_counter(), event.body))

    def start(self) -> None:
        self.task = asyncio.create_task(sync_loop(self.client, self.stop))

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.client.close()


async def login(hs: SynapseServer, workdir: Path, name: str, encrypted: bool) -> Person:
    user = hs.register(name, f"{name}-pw")
    hs.override_ratelimit(user.user_id)
    store = workdir / f"store-{name}"
    store.mkdir(parents=True, exist_ok=True)
    client = AsyncClient(hs.base_url, user.user_id, store_path=str(store), config=config(encrypted))
    resp = await client.login(user.password, device_name=name)
    assert isinstance(resp, LoginResponse), resp
    await maintain_keys(client)
    await client.sync(timeout=0)
    return Person(client, user.user_id)


async def echo_bot(hs: SynapseServer, workdir: Path, name: str, encrypted: bool) -> Person:
    """The baseline: joins on invite, answers every text with the same text."""
    bot = await login(hs, workdir, name, encrypted)
    client = bot.client

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == bot.user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != bot.user_id:
            await client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.text", "body": event.body},
                ignore_unverified_devices=True,
            )

    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_event_callback(on_text, RoomMessageText)
    bot.start()
    return bot


async def measure(
    resident: Person,
    bot_id: str,
    encrypted: bool,
    text: str,
    greets: bool,
    messages: int,
    warmup: int,
) -> list[float]:
    """Open a direct room with the bot, wait until it is there, then time each round trip."""
    resident.partner = bot_id
    created = await resident.client.room_create(
        is_direct=True, invite=[bot_id], initial_state=[ENCRYPTION] if encrypted else []
    )
    assert isinstance(created, RoomCreateResponse), created
    room = created.room_id
    if greets:  # Stadtlotse greets with the main menu once it joined
        await wait_for(resident, lambda body: "What would you like" in body, 60)
    else:
        await joined(resident, room, bot_id, 60)
    samples: list[float] = []
    for n in range(warmup + messages):
        await asyncio.sleep(0.05)  # let the rest of a multi-part answer pass
        while not resident.arrived.empty():
            resident.arrived.get_nowait()
        started = time.perf_counter()
        await resident.client.room_send(
            room,
            "m.room.message",
            {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        arrived, _body = await asyncio.wait_for(resident.arrived.get(), 30)
        if n >= warmup:
            samples.append(arrived - started)
    return samples


async def wait_for(person: Person, ready: Callable[[str], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the bot did not answer")
        _at, body = await asyncio.wait_for(person.arrived.get(), remaining)
        if ready(body):
            return


async def joined(person: Person, room_id: str, bot_id: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        room = person.client.rooms.get(room_id)
        if room is not None and bot_id in room.users and bot_id not in room.invited_users:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not join")
        await asyncio.sleep(0.05)


async def run(messages: int, warmup: int, keycaps: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with SynapseServer(workdir / "synapse") as hs:
            db = Database(f"sqlite+aiosqlite:///{workdir / 'stadtlotse.db'}")
            await db.create_all()
            bot_user = hs.register("stadtlotse", "stadtlotse-pw")
            hs.override_ratelimit(bot_user.user_id)
            city = load_city()
            city.default_language = "en"
            settings = load_settings(
                matrix_homeserver=hs.base_url,
                matrix_user_id=bot_user.user_id,
                matrix_password=bot_user.password,
                matrix_room_rate=1000,
                matrix_room_burst=1000,
                matrix_send_rate=1000,
                matrix_reaction_options=keycaps,
                data_dir=workdir / "data",
                _env_file=None,
            )
            app = build_app(settings, db=db, city=city)
            channel = app.channels["matrix"]
            assert isinstance(channel, MatrixChannel)
            await channel.start()
            sync_task = asyncio.create_task(channel.run())
            echo_plain = await echo_bot(hs, workdir, "echo", encrypted=False)
            echo_secret = await echo_bot(hs, workdir, "echosecret", encrypted=True)
            cases = [  # name, bot, encrypted room, what the resident sends, greets on join
                ("stadtlotse_plain", bot_user.user_id, False, "menu", True),
                ("stadtlotse_encrypted", bot_user.user_id, True, "menu", True),
                ("echo_plain", echo_plain.user_id, False, "hello", False),
                ("echo_encrypted", echo_secret.user_id, True, "hello", False),
            ]
            people: list[Person] = []
            try:
                for name, bot_id, encrypted, text, greets in cases:
                    resident = await login(hs, workdir, f"resident-{name}", encrypted)
                    resident.start()
                    people.append(resident)
                    samples = await measure(
                        resident, bot_id, encrypted, text, greets, messages, warmup
                    )
                    results[name] = summary(samples) | {"messages": len(samples)}
                    print(
                        f"{name:22} p50 {results[name]['p50_ms']:7.1f} ms   "
                        f"p95 {results[name]['p95_ms']:7.1f} ms   "
                        f"mean {results[name]['mean_ms']:7.1f} ms   n={len(samples)}",
                        flush=True,
                    )
            finally:
                for person in [*people, echo_plain, echo_secret]:
                    await person.close()
                sync_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sync_task
                await app.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--keycaps", type=int, default=0, help="matrix_reaction_options")
    args = parser.parse_args()
    started = time.monotonic()
    results = asyncio.run(run(args.messages, args.warmup, args.keycaps))
    ratio = {
        "plain": round(
            results["stadtlotse_plain"]["p50_ms"] / max(results["echo_plain"]["p50_ms"], 0.1), 2
        ),
        "encrypted": round(
            results["stadtlotse_encrypted"]["p50_ms"]
            / max(results["echo_encrypted"]["p50_ms"], 0.1),
            2,
        ),
    }
    report: dict[str, Any] = {
        "benchmark": "matrix_latency",
        "messages": args.messages,
        "keycap_reactions_up_to": args.keycaps,
        "results": results,
        "p50_ratio_stadtlotse_to_echo": ratio,
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "notes": "Synapse and all clients on loopback, SQLite; send -> reply seen by resident.",
    }
    print(
        f"p50 ratio Stadtlotse / echo bot: plain {ratio['plain']}, encrypted {ratio['encrypted']}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "matrix_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
