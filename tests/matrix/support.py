"""Helpers for the Matrix end-to-end tests: the bot (as `stadtlotse run` wires it) and a
resident's matrix-nio client that syncs until the bot's answer has arrived."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomEncryptedMedia,
    RoomMessageMedia,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
)

from bot.bootstrap import App, build_app
from bot.matrix.channel import MatrixChannel
from bot.settings import load_settings
from services.city import City, load_city
from services.clock import FrozenClock
from storage.db import Database
from tests.support.synapse import SynapseServer

WAIT = 30.0


def staff_city() -> City:
    """The default city, speaking English to new residents so that the transcripts read the
    same whatever the German catalogue says; tests put their staff room into the Bürgerbüro's
    rooms.matrix."""
    city = load_city()
    city.default_language = "en"
    return city


class BotRunner:
    """The bot: build_app with the Matrix settings, start the channel, sync in the background."""

    def __init__(
        self,
        synapse: SynapseServer,
        db: Database,
        clock: FrozenClock,
        data_dir: Path,
        localpart: str,
        *,
        city: City,
        **settings: Any,
    ) -> None:
        self.synapse = synapse
        self.db = db
        self.clock = clock
        self.data_dir = data_dir
        self.city = city
        self.user = synapse.register(localpart, f"{localpart}-pw")
        synapse.override_ratelimit(self.user.user_id)
        self.extra = settings
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def channel(self) -> MatrixChannel:
        assert self.app is not None
        channel = self.app.channels["matrix"]
        assert isinstance(channel, MatrixChannel)
        return channel

    def settings(self) -> Any:
        values: dict[str, Any] = {
            "matrix_homeserver": self.synapse.base_url,
            "matrix_user_id": self.user.user_id,
            "matrix_password": self.user.password,
            "data_dir": self.data_dir,
            "database_url": "sqlite+aiosqlite:///unused.db",
            "_env_file": None,
        }
        values.update(self.extra)
        return load_settings(**values)

    async def start(self, *, background: bool = True) -> MatrixChannel:
        self.app = build_app(self.settings(), clock=self.clock, db=self.db, city=self.city)
        await self.channel.start()
        if background:
            self.task = asyncio.create_task(self.channel.run(), name="matrix-sync")
            await asyncio.wait_for(self.channel.ready.wait(), WAIT)
        return self.channel

    async def stop(self) -> None:
        """Like a process that ends: the sync loop stops, the connection closes."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        if self.app is not None:
            await self.channel.stop()
            self.app = None

    async def drain(self) -> None:
        """Deliver the outbox (what `stadtlotse run`'s sender does every second)."""
        assert self.app is not None
        await self.app.sender.drain()


@dataclass
class Seen:
    room_id: str
    event_id: str
    body: str
    content: dict[str, Any]
    event: Any
    encrypted: bool


@dataclass
class Resident:
    """A person with a Matrix app: sends messages and reads what the bot writes."""

    client: AsyncClient
    user_id: str
    password: str
    seen: list[Seen] = field(default_factory=list)
    undecryptable: list[MegolmEvent] = field(default_factory=list)
    bot_id: str = ""

    @classmethod
    async def create(
        cls, synapse: SynapseServer, store: Path, localpart: str, *, encrypted: bool
    ) -> Resident:
        user = synapse.register(localpart, f"{localpart}-pw")
        await asyncio.to_thread(store.mkdir, parents=True, exist_ok=True)
        client = AsyncClient(
            synapse.base_url,
            user.user_id,
            store_path=str(store),
            config=AsyncClientConfig(
                encryption_enabled=encrypted,
                store_sync_tokens=True,
                max_limit_exceeded=3,
                max_timeouts=3,
            ),
        )
        login = await client.login(user.password, device_name=f"{localpart} phone")
        assert isinstance(login, LoginResponse), login
        if encrypted and client.should_upload_keys:
            await client.keys_upload()
        person = cls(client, user.user_id, user.password)
        client.add_event_callback(person._on_message, (RoomMessageText, RoomMessageMedia))
        client.add_event_callback(person._on_message, RoomEncryptedMedia)
        client.add_event_callback(person._on_megolm, MegolmEvent)
        await person.sync(0)
        return person

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if event.sender == self.user_id:
            return
        content = event.source.get("content", {})
        self.seen.append(
            Seen(room.room_id, event.event_id, event.body, content, event, room.encrypted)
        )

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.undecryptable.append(event)

    async def sync(self, timeout_ms: int = 500) -> None:
        c = self.client
        resp = await c.sync(timeout=timeout_ms, sync_filter={"room": {"timeline": {"limit": 200}}})
        assert not isinstance(resp, SyncError), resp
        if c.olm is not None:
            if c.should_upload_keys:
                await c.keys_upload()
            if c.should_query_keys:
                await c.keys_query()
            if c.should_claim_keys:
                await c.keys_claim(c.get_users_for_key_claiming())

    async def until(self, cond: Callable[[], bool], what: str, within: float = WAIT) -> None:
        deadline = time.monotonic() + within
        while not cond():
            if time.monotonic() > deadline:
                bodies = [s.body for s in self.seen[-5:]]
                raise AssertionError(f"timed out waiting for {what}; last seen: {bodies}")
            await self.sync()

    async def open_dm(self, bot_id: str, *, encrypted: bool = False) -> str:
        self.bot_id = bot_id
        initial: list[dict[str, Any]] = []
        if encrypted:
            initial.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(is_direct=True, invite=[bot_id], initial_state=initial)
        assert isinstance(resp, RoomCreateResponse), resp
        return str(resp.room_id)

    async def send(
        self, room_id: str, text: str, *, relates_to: dict[str, Any] | None = None
    ) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if relates_to:
            content["m.relates_to"] = relates_to
        resp = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        resp = await self.client.room_send(
            room_id,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
            ignore_unverified_devices=True,
        )
        assert isinstance(resp, RoomSendResponse), resp

    def from_bot(self, room_id: str) -> list[Seen]:
        return [s for s in self.seen if s.room_id == room_id and s.event.sender == self.bot_id]

    async def next_answer(
        self, room_id: str, after: int, contains: str = "", within: float = WAIT
    ) -> list[Seen]:
        """Wait for the bot's messages after the first `after` ones (until one contains
        `contains`, or until at least one arrived and a short quiet spell followed)."""

        def arrived() -> bool:
            new = self.from_bot(room_id)[after:]
            return any(contains in s.body for s in new) if contains else bool(new)

        await self.until(arrived, f"an answer containing {contains!r}", within)
        await self.sync(300)  # the rest of a multi-part answer
        return self.from_bot(room_id)[after:]

    async def close(self) -> None:
        await self.client.close()


def options_of(seen: Seen) -> list[str]:
    """The options of a menu message as the resident reads them: "1. label" where a typed
    number picks, "1️⃣ label" on a notification (react, or answer in its thread)."""
    from bot.matrix.render import KEYCAPS

    found = []
    for line in seen.body.splitlines():
        head, _sep, rest = line.partition(" ")
        if (head.endswith(".") and head[:-1].isdigit()) or head in KEYCAPS:
            found.append(rest)
    return found
