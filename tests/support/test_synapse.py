"""End-to-end tests against a real Synapse on loopback with matrix-nio.

Also the reference for how the Matrix adapter talks to a homeserver: see the
module docstring of ``tests/support/synapse.py`` for the E2EE sequence.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import itertools
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .images import png as _png

if importlib.util.find_spec("synapse") is None:
    pytest.skip(
        "matrix-synapse is not installed (pip install matrix-synapse); "
        "the matrix end-to-end tests need a real homeserver",
        allow_module_level=True,
    )
if importlib.util.find_spec("nio") is None:
    pytest.skip("matrix-nio is not installed", allow_module_level=True)

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    MemoryDownloadResponse,
    RoomCreateResponse,
    RoomMessageImage,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    UploadResponse,
)

from .synapse import RegisteredUser, SynapseServer

pytestmark = pytest.mark.matrix

WAIT = 20.0  # upper bound for any single "until" wait, in seconds
_counter = itertools.count()


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    with server:
        yield server


# -- helpers -----------------------------------------------------------------------------


class Party:
    """A nio client plus what its callbacks have seen."""

    def __init__(self, client: AsyncClient, user: RegisteredUser) -> None:
        self.client = client
        self.user = user
        self.texts: list[tuple[MatrixRoom, RoomMessageText]] = []
        self.images: list[tuple[MatrixRoom, RoomMessageImage]] = []
        self.undecryptable: list[MegolmEvent] = []
        self.invites: list[str] = []
        client.add_event_callback(self._on_text, RoomMessageText)
        client.add_event_callback(self._on_image, RoomMessageImage)
        client.add_event_callback(self._on_megolm, MegolmEvent)
        client.add_event_callback(self._on_invite, InviteMemberEvent)

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != self.user_id:
            self.texts.append((room, event))

    async def _on_image(self, room: MatrixRoom, event: RoomMessageImage) -> None:
        if event.sender != self.user_id:
            self.images.append((room, event))

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.undecryptable.append(event)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        # nio does not auto-join: join on an invite addressed to us.
        if (
            event.state_key == self.user_id
            and event.membership == "invite"
            and room.room_id not in self.invites
        ):
            self.invites.append(room.room_id)
            resp = await self.client.join(room.room_id)
            assert not isinstance(resp, JoinError), resp

    async def sync_once(self, timeout_ms: int = 300) -> None:
        resp = await self.client.sync(timeout=timeout_ms, full_state=False)
        assert not isinstance(resp, SyncError), resp
        await self.maintain_keys()

    async def maintain_keys(self) -> None:
        """What nio's sync_forever does after each sync."""
        c = self.client
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())

    async def sync_until(self, cond: Callable[[], bool], what: str, within: float = WAIT) -> None:
        """Sync until ``cond()`` holds; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not cond():
            if time.monotonic() > deadline:
                pytest.fail(f"{self.user_id}: timed out after {within:.0f}s waiting for {what}")
            await self.sync_once()


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


async def _party(hs: SynapseServer, tmp_path: Path, localpart: str, encrypted: bool) -> Party:
    user = hs.register(localpart, f"{localpart}-password")
    store = tmp_path / f"store-{localpart}"
    store.mkdir()
    config = AsyncClientConfig(
        encryption_enabled=encrypted,
        store_sync_tokens=True,
        max_limit_exceeded=3,  # never loop forever on 429
        max_timeouts=3,
        request_timeout=30,
    )
    client = AsyncClient(hs.base_url, user.user_id, store_path=str(store), config=config)
    resp = await client.login(user.password, device_name=f"{localpart} test device")
    assert isinstance(resp, LoginResponse), resp
    if encrypted:
        assert client.olm is not None, "nio has no E2EE support (install matrix-nio[e2e])"
        # Upload device + one-time keys before anyone can look for them.
        if client.should_upload_keys:
            await client.keys_upload()
    party = Party(client, user)
    # Initial sync, so later syncs only carry what happens from now on.
    await party.sync_once(timeout_ms=0)
    return party


def _joined(party: Party, room_id: str, user_id: str) -> bool:
    room = party.client.rooms.get(room_id)
    return room is not None and user_id in room.users and user_id not in room.invited_users


async def _open_dm(resident: Party, bot: Party, encrypted: bool) -> str:
    """Resident opens a DM with the bot; returns once both sides see the bot joined."""
    initial_state: list[dict[str, Any]] = []
    if encrypted:
        initial_state.append(
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        )
    resp = await resident.client.room_create(
        is_direct=True, invite=[bot.user_id], initial_state=initial_state
    )
    assert isinstance(resp, RoomCreateResponse), resp
    room_id = str(resp.room_id)
    await bot.sync_until(lambda: _joined(bot, room_id, bot.user_id), "joining the invite")
    await resident.sync_until(lambda: _joined(resident, room_id, bot.user_id), "bot's join")
    return room_id


def _knows_devices_of(party: Party, user_id: str) -> bool:
    return bool(list(party.client.device_store.active_user_devices(user_id)))


async def _close(*parties: Party) -> None:
    for p in parties:
        await p.client.close()


def _http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


# -- tests -------------------------------------------------------------------------------


def test_server_basics(synapse: SynapseServer) -> None:
    assert synapse.running
    assert synapse.base_url.startswith("http://127.0.0.1:")
    assert synapse.server_name == "localhost"
    versions = synapse.request("GET", "/_matrix/client/versions")
    assert "versions" in versions
    user_id, token = synapse.register_user(_unique("plain"), "pw")
    assert user_id.endswith(":localhost")
    assert token
    whoami = synapse.request("GET", "/_matrix/client/v3/account/whoami", access_token=token)
    assert whoami["user_id"] == user_id
    fresh = synapse.login(user_id, "pw")
    assert fresh != token
    assert synapse.override_ratelimit(user_id) == {"messages_per_second": 0, "burst_count": 0}
    assert synapse.startup_seconds is not None and synapse.startup_seconds < 60


async def test_plain_dm_round_trip(synapse: SynapseServer, tmp_path: Path) -> None:
    resident = await _party(synapse, tmp_path, _unique("resident"), encrypted=False)
    bot = await _party(synapse, tmp_path, _unique("bot"), encrypted=False)
    try:
        room_id = await _open_dm(resident, bot, encrypted=False)

        sent = await resident.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "Hallo Stadtlotse"}
        )
        assert isinstance(sent, RoomSendResponse), sent
        await bot.sync_until(lambda: bool(bot.texts), "the resident's message")
        room, event = bot.texts[-1]
        assert room.room_id == room_id
        assert event.body == "Hallo Stadtlotse"
        assert event.sender == resident.user_id

        answer = await bot.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "Guten Tag!"}
        )
        assert isinstance(answer, RoomSendResponse), answer
        await resident.sync_until(lambda: bool(resident.texts), "the bot's answer")
        assert resident.texts[-1][1].body == "Guten Tag!"
        assert resident.texts[-1][1].sender == bot.user_id
        assert not resident.texts[-1][0].encrypted
    finally:
        await _close(resident, bot)


async def test_encrypted_dm_round_trip(synapse: SynapseServer, tmp_path: Path) -> None:
    resident = await _party(synapse, tmp_path, _unique("eresident"), encrypted=True)
    bot = await _party(synapse, tmp_path, _unique("ebot"), encrypted=True)
    try:
        room_id = await _open_dm(resident, bot, encrypted=True)
        assert resident.client.rooms[room_id].encrypted

        # Trust: each side fetches the other's device keys and verifies them.
        # (room_send(..., ignore_unverified_devices=True) would also do, without
        # marking the devices as verified.)
        for me, other in ((resident, bot), (bot, resident)):
            await me.sync_until(
                functools.partial(_knows_devices_of, me, other.user_id),
                f"{other.user_id}'s device keys",
            )
            devices = list(me.client.device_store.active_user_devices(other.user_id))
            assert [d.id for d in devices] == [other.client.device_id]
            for device in devices:
                me.client.verify_device(device)
                assert me.client.olm is not None
                assert me.client.olm.is_device_verified(device)

        sent = await resident.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "Geheim: Ausweis verloren"}
        )
        assert isinstance(sent, RoomSendResponse), sent
        await bot.sync_until(lambda: bool(bot.texts), "the resident's encrypted message")
        room, event = bot.texts[-1]
        assert room.room_id == room_id
        assert room.encrypted
        assert event.decrypted
        assert event.body == "Geheim: Ausweis verloren"
        assert not bot.undecryptable

        # The server only ever saw ciphertext.
        raw = synapse.request(
            "GET",
            f"/_matrix/client/v3/rooms/{room_id}/event/{sent.event_id}",
            access_token=resident.client.access_token,
        )
        assert raw["type"] == "m.room.encrypted"
        assert "Ausweis" not in str(raw)

        answer = await bot.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "Wir helfen Ihnen."}
        )
        assert isinstance(answer, RoomSendResponse), answer
        await resident.sync_until(lambda: bool(resident.texts), "the bot's encrypted answer")
        room, event = resident.texts[-1]
        assert room.encrypted
        assert event.decrypted
        assert event.body == "Wir helfen Ihnen."
        assert not resident.undecryptable
    finally:
        await _close(resident, bot)


async def test_image_upload_and_authenticated_download(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    resident = await _party(synapse, tmp_path, _unique("iresident"), encrypted=False)
    bot = await _party(synapse, tmp_path, _unique("ibot"), encrypted=False)
    try:
        room_id = await _open_dm(resident, bot, encrypted=False)
        png = _png()
        upload, keys = await bot.client.upload(
            lambda *_: png, content_type="image/png", filename="gutschein.png", filesize=len(png)
        )
        assert isinstance(upload, UploadResponse), upload
        assert keys is None
        mxc = upload.content_uri
        assert mxc.startswith(f"mxc://{synapse.server_name}/")

        sent = await bot.client.room_send(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.image",
                "body": "gutschein.png",
                "url": mxc,
                "info": {"mimetype": "image/png", "size": len(png), "w": 4, "h": 3},
            },
        )
        assert isinstance(sent, RoomSendResponse), sent
        await resident.sync_until(lambda: bool(resident.images), "the bot's image")
        _, image = resident.images[-1]
        assert image.url == mxc
        assert image.body == "gutschein.png"

        downloaded = await resident.client.download(mxc=image.url)
        assert isinstance(downloaded, MemoryDownloadResponse), downloaded
        assert downloaded.body == png
        assert downloaded.content_type == "image/png"

        # Authenticated media: the legacy unauthenticated endpoint refuses new media.
        media_id = mxc.rsplit("/", 1)[1]
        legacy = f"{synapse.base_url}/_matrix/media/v3/download/{synapse.server_name}/{media_id}"
        assert await asyncio.to_thread(_http_status, legacy) == 404
    finally:
        await _close(resident, bot)
