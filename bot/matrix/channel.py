"""The Matrix channel (matrix-nio, end-to-end encryption with vodozemac).

Login: the device id, access token and sync position are kept in the database
(`matrix_session`), the Olm/Megolm keys in nio's store beside it (`<data_dir>/matrix-store`), so a
restart keeps the same device: residents' clients keep trusting it, and no event is handled twice
or skipped. Rooms: the bot joins when a resident invites it to a direct chat (one direct room per
resident: a newer one replaces the older), joins the staff rooms the city configuration names,
refuses other invites, and leaves a room its resident left. Events from before the bot joined
and its own events are ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomResolveAliasResponse,
    SyncError,
    SyncResponse,
)

from bot.channel import RetryAfter, TransientError, Unreachable
from bot.matrix.inbound import Reader, TooBig
from bot.matrix.login import open_client
from bot.matrix.pacing import Pacer
from bot.matrix.sending import Sender
from bot.matrix.state import CHANNEL, MatrixState
from bot.settings import Settings, SettingsError
from flows.chat_security import security_text
from flows.types import Inbound, Reply
from handlers.dispatch import Dispatcher
from services import i18n
from services.city import City
from services.clock import Clock
from services.i18n import N_
from storage.db import Database
from storage.models.matrix import DIRECT, STAFF, MatrixRoomInfo

log = logging.getLogger(__name__)

INLINE_WAIT = 2.0  # the outbox holds a message back longer than this by asking to retry later
MAX_429_RETRIES = 3  # for direct answers; the outbox retries by itself
MAX_429_WAIT = 30.0
SYNC_TIMEOUT_MS = 30_000
SYNC_FILTER = {"room": {"timeline": {"limit": 50}}}
MAX_GAP_EVENTS = 1000  # per room, fetched after a downtime
FAILING_AFTER = 3  # syncs failed in a row before /readyz reports the channel down
ROOM_WORKERS = 8  # rooms handled at once within one sync batch


@dataclass(frozen=True)
class Incoming:
    """One event worth handling, after the room and sender are known."""

    room: MatrixRoom
    event: Any
    info: MatrixRoomInfo | None


class MatrixChannel:
    name = CHANNEL
    # among replicas one holds the bot's Matrix login, sync and keys; `stadtlotse run` starts
    # the channel with this role (bot/roles.py), not on every replica
    role = "matrix"

    def __init__(
        self,
        settings: Settings,
        db: Database,
        dispatcher: Dispatcher,
        city: City,
        clock: Clock,
        *,
        store_dir: Path | None = None,
    ) -> None:
        assert settings.matrix_homeserver and settings.matrix_user_id
        self.settings = settings
        self.homeserver = settings.matrix_homeserver
        self.user_id = settings.matrix_user_id
        self.db = db
        self.dispatcher = dispatcher
        self.city = city
        self.clock = clock
        self.state = MatrixState(db)
        self.store_dir = store_dir or settings.data_dir / "matrix-store"
        self.pacer = Pacer(
            settings.matrix_room_rate, settings.matrix_room_burst, settings.matrix_send_rate
        )
        self.client: AsyncClient | None = None
        self.started = asyncio.Event()  # logged in
        self.ready = asyncio.Event()  # the first sync is done: rooms and their encryption known
        self.since: str | None = None
        self.sync_filter: dict[str, Any] = SYNC_FILTER
        self.rooms: dict[str, MatrixRoomInfo] = {}
        self.staff_rooms: dict[str, tuple[str, str]] = {}  # room id -> (configured, department)
        self.configured_rooms: dict[str, str] = {}  # configured id or alias -> room id
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._marked: dict[str, tuple[str, bool]] = {}  # direct room -> account marked as
        self._thread_roots: dict[tuple[str, str], str] = {}  # (room, key) -> root, this process
        self.sender: Sender | None = None
        self.reader: Reader | None = None
        self._stopping = False
        self.sync_failures = 0

    # ================================================================ start and stop
    async def start(self) -> None:
        """Log in (or restore the device), upload keys, join the staff rooms."""
        if self.client is not None:
            return
        try:
            await self._start()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise SettingsError(
                f"Matrix homeserver {self.homeserver} is not reachable ({error}); "
                "check STADTLOTSE_MATRIX_HOMESERVER"
            ) from error

    async def _start(self) -> None:
        now = self.clock.now()
        self.client, self.since = await open_client(self.settings, self.state, self.store_dir, now)
        self.sender = Sender(
            self.client, self.state, self.pacer, self.settings.matrix_reaction_options, self.clock
        )
        self.reader = Reader(self.client, self.state)
        self.rooms = await self.state.rooms()
        self._thread_roots = await self.state.thread_roots()
        await self._join_staff_rooms()
        await self.state.forget_old(now)
        self.started.set()

    async def _join_staff_rooms(self) -> None:
        assert self.client is not None
        now = self.clock.now()
        for department in self.city.departments:
            configured = department.rooms.matrix
            if not configured:
                continue
            room_id = configured
            if configured.startswith("#"):
                resolved = await self.client.room_resolve_alias(configured)
                if not isinstance(resolved, RoomResolveAliasResponse):
                    log.error(
                        "Matrix staff room %s of %s: %s", configured, department.key, resolved
                    )
                    continue
                room_id = resolved.room_id
            self.configured_rooms[configured] = room_id
            self.staff_rooms[room_id] = (configured, department.key)
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinError):
                log.error(
                    "Matrix: cannot join the staff room %s of %s (%s); invite %s to it",
                    configured,
                    department.key,
                    joined.message,
                    self.user_id,
                )
                continue
            info = self.rooms.get(room_id)
            if info is None or info.kind != STAFF:
                self.rooms[room_id] = await self.state.save_room(
                    MatrixRoomInfo(
                        room_id=room_id,
                        kind=STAFF,
                        department=department.key,
                        greeted=True,
                        created_at=now,
                    )
                )

    async def stop(self) -> None:
        self._stopping = True
        if self.sender is not None:
            await self.sender.finish()
        if self.client is not None:
            await self.client.close()
            self.client = None
        self.ready.clear()
        self.started.clear()

    async def serve(self) -> None:
        """The Matrix role of `stadtlotse run` (bot/roles.py): log in, sync until cancelled,
        then let go of the client, so that another replica can take over."""
        self._stopping = False
        try:
            await self.start()
            await self.run()
        finally:
            await self.stop()

    # ================================================================ sync
    async def run(self) -> None:
        """Sync until cancelled; a failing sync is retried with a growing pause."""
        pause = 1.0
        while not self._stopping:
            try:
                await self.sync_once(SYNC_TIMEOUT_MS)
                pause = 1.0
                self.sync_failures = 0
            except asyncio.CancelledError:
                raise
            except RetryAfter as wait:
                await asyncio.sleep(min(wait.seconds, 60))
            except Exception:
                self.sync_failures += 1
                log.exception("Matrix sync failed; trying again in %.0f s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60)

    def not_ready(self) -> str:
        """Why this channel cannot serve now ("" when it can): for GET /readyz."""
        if not self.started.is_set():
            return "not logged in to the homeserver yet"
        if self.sync_failures >= FAILING_AFTER:
            return f"sync failed {self.sync_failures} times in a row"
        return ""

    async def sync_once(self, timeout_ms: int = 0) -> int:
        """One sync: handle what it brought, then store the position. Returns events handled."""
        client = self.client
        assert client is not None, "start() first"
        first_ever = self.since is None
        resp = await client.sync(
            timeout=timeout_ms,
            sync_filter=self.sync_filter,
            since=self.since,
            full_state=True if not self.ready.is_set() else None,
        )
        if isinstance(resp, SyncError):
            if resp.status_code == "M_LIMIT_EXCEEDED":
                raise RetryAfter((resp.retry_after_ms or 5000) / 1000)
            raise TransientError(f"sync failed: {resp.message}")
        assert isinstance(resp, SyncResponse)
        await self._maintain_keys()
        handled = await self._handle_sync(resp, history=first_ever)
        self.since = resp.next_batch
        await self.state.save_sync_token(self.user_id, resp.next_batch, self.clock.now())
        self.ready.set()
        return handled

    async def _maintain_keys(self) -> None:
        client = self.client
        assert client is not None
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _handle_sync(self, resp: SyncResponse, *, history: bool) -> int:
        """`history`: the first sync ever brings old timelines: take invites, skip messages."""
        assert self.client is not None
        for room_id, invite in resp.rooms.invite.items():
            await self._on_invite(room_id, invite.invite_state)
        for room_id in resp.rooms.leave:
            info = self.rooms.pop(room_id, None)
            if info is not None:
                await self.state.room_left(room_id, info.owner, self.clock.now())
        work = []
        for room_id, joined in resp.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            timeline, joined_now = self._after_own_join(joined.timeline.events)
            if history:
                timeline = []
            elif joined.timeline.limited and not joined_now and joined.timeline.prev_batch:
                timeline = [*await self._gap(room_id, joined.timeline.prev_batch), *timeline]
            work.append(self._handle_room(room, timeline))
        gate = asyncio.Semaphore(ROOM_WORKERS)

        async def bounded(job: Awaitable[int]) -> int:
            async with gate:
                return await job

        counts = await asyncio.gather(*(bounded(job) for job in work))
        return sum(counts)

    async def _gap(self, room_id: str, prev_batch: str) -> list[Any]:
        """More happened in a room than one sync carries (the bot was away): fetch the events
        between the stored sync position and this sync's timeline, oldest first."""
        assert self.client is not None
        older: list[Any] = []
        token = prev_batch
        while len(older) < MAX_GAP_EVENTS:
            resp = await self.client.room_messages(
                room_id, start=token, end=self.since, direction=MessageDirection.back, limit=100
            )
            if not isinstance(resp, RoomMessagesResponse) or not resp.chunk:
                break
            older.extend(resp.chunk)
            if not resp.end or resp.end == token:
                break
            token = resp.end
        if len(older) >= MAX_GAP_EVENTS:
            log.warning("Matrix: more than %d missed events in %s", MAX_GAP_EVENTS, room_id)
        older.reverse()
        return self._after_own_join(older)[0]

    def _after_own_join(self, timeline: list[Any]) -> tuple[list[Any], bool]:
        """Drop what happened in a room before the bot joined it (and say if it joined now)."""
        for index in range(len(timeline) - 1, -1, -1):
            event = timeline[index]
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "join"
                and event.prev_membership != "join"
            ):
                return timeline[index + 1 :], True
        return timeline, False

    # ================================================================ rooms
    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        assert self.client is not None
        invite = next(
            (
                e
                for e in invite_state
                if isinstance(e, InviteMemberEvent)
                and e.state_key == self.user_id
                and e.membership == "invite"
            ),
            None,
        )
        if invite is None:
            return
        inviter = invite.sender
        if room_id in self.staff_rooms:
            await self.client.join(room_id)
            return
        if not invite.content.get("is_direct") or inviter == self.user_id:
            log.info("Matrix: refusing invite to %s by %s (not a direct chat)", room_id, inviter)
            await self.client.room_leave(room_id)
            return
        joined = await self.client.join(room_id)
        if isinstance(joined, JoinError):
            log.warning("Matrix: could not join %s: %s", room_id, joined.message)
            return
        now = self.clock.now()
        previous = await self.state.direct_room_of(inviter)
        self.rooms[room_id] = await self.state.save_room(
            MatrixRoomInfo(room_id=room_id, kind=DIRECT, owner=inviter, created_at=now)
        )
        if previous is not None and previous.room_id != room_id:
            await self._retire_room(previous, room_id)

    async def _retire_room(self, old: MatrixRoomInfo, new_room_id: str) -> None:
        """One direct room per resident: the newer one wins, the bot leaves the older one."""
        assert self.client is not None
        lang, _roles = await self.state.language_and_roles(old.owner, self.city.default_language)
        note = i18n.translate(
            lang, N_("You opened a new chat with me. We continue there; I am leaving this one.")
        )
        try:
            await self._sender().send_reply(old.room_id, Reply(text=note), patient=True)
        except Exception:
            log.info("Matrix: could not say goodbye in %s", old.room_id, exc_info=True)
        await self.client.room_leave(old.room_id)
        self.rooms.pop(old.room_id, None)
        await self.state.room_left(old.room_id, "", self.clock.now())
        log.info("Matrix: %s moved from %s to %s", old.owner, old.room_id, new_room_id)

    async def _leave(self, room: MatrixRoom, info: MatrixRoomInfo) -> None:
        assert self.client is not None
        await self.client.room_leave(room.room_id)
        await self.client.room_forget(room.room_id)
        self.rooms.pop(room.room_id, None)
        await self.state.room_left(room.room_id, info.owner, self.clock.now())
        log.info("Matrix: left %s, its resident left", room.room_id)

    def _looks_direct(self, room: MatrixRoom, sender: str) -> bool:
        """A room of the bot and one person that we hold no record of (joined before this
        version, or the record went with the resident's data): it is that person's room."""
        return (
            bool(sender)
            and room.room_id not in self.staff_rooms
            and room.member_count == 2
            and sender in room.users
            and self.user_id in room.users
        )

    async def _adopt_direct(self, room: MatrixRoom, owner: str) -> MatrixRoomInfo:
        info = await self.state.save_room(
            MatrixRoomInfo(
                room_id=room.room_id,
                kind=DIRECT,
                owner=owner,
                encrypted=bool(room.encrypted),
                greeted=True,
                created_at=self.clock.now(),
            )
        )
        self.rooms[room.room_id] = info
        self._marked.pop(room.room_id, None)
        return info

    def _reader(self) -> Reader:
        assert self.reader is not None, "start() first"
        return self.reader

    def _sender(self) -> Sender:
        assert self.sender is not None, "start() first"
        return self.sender

    def _lock(self, room_id: str) -> asyncio.Lock:
        lock = self._room_locks.get(room_id)
        if lock is None:
            lock = self._room_locks[room_id] = asyncio.Lock()
        return lock

    async def is_encrypted(self, chat_id: str) -> bool | None:
        """For /room: whether the room is end-to-end encrypted (None: not a room of ours)."""
        if self.client is None:
            return None
        room = self.client.rooms.get(self.configured_rooms.get(chat_id, chat_id))
        return None if room is None else bool(room.encrypted)

    # ================================================================ one room's events
    async def _handle_room(self, room: MatrixRoom, timeline: list[Any]) -> int:
        handled = 0
        async with self._lock(room.room_id):
            info = self.rooms.get(room.room_id)
            if info is not None and info.kind == DIRECT and not info.greeted:
                await self._greet(room, info)
            for event in timeline:
                if getattr(event, "sender", "") == self.user_id:
                    continue
                try:
                    if await self._handle_event(
                        Incoming(room, event, self.rooms.get(room.room_id))
                    ):
                        handled += 1
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise
                except Exception:
                    log.exception(
                        "Matrix: event %s in %s failed",
                        getattr(event, "event_id", "?"),
                        room.room_id,
                    )
        return handled

    async def _greet(self, room: MatrixRoom, info: MatrixRoomInfo) -> None:
        """A new direct room: say whether it is encrypted, then the welcome and main menu."""
        info.greeted = True
        info.encrypted = bool(room.encrypted)
        self.rooms[room.room_id] = await self.state.save_room(info)
        inbound = Inbound(
            channel=CHANNEL,
            user_id=info.owner,
            chat_id=room.room_id,
            kind="command",
            command="start",
            key=f"join:{room.room_id}",
            display_name=room.user_name(info.owner) or "",
        )
        replies = await self.dispatcher.handle(inbound)
        await self.state.mark_account(info.owner, room.room_id, bool(room.encrypted))
        lang, _roles = await self.state.language_and_roles(info.owner, self.city.default_language)
        note = Reply(text=security_text(lang, bool(room.encrypted)))
        await self._answer(room, [note, *replies], owner=info.owner, thread="")

    async def _handle_event(self, item: Incoming) -> bool:
        room, event, info = item.room, item.event, item.info
        if isinstance(event, RoomMemberEvent):
            if (
                info is not None
                and info.kind == DIRECT
                and event.state_key == info.owner
                and event.membership in ("leave", "ban")
            ):
                await self._leave(room, info)
            return False
        if info is None and self._looks_direct(room, getattr(event, "sender", "")):
            info = await self._adopt_direct(room, event.sender)
        if isinstance(event, MegolmEvent):
            return await self._undecryptable(room, event, info)
        is_direct = info is not None and info.kind == DIRECT and info.owner == event.sender
        chat_id = room.room_id
        staff = self.staff_rooms.get(room.room_id)
        if staff is not None:
            chat_id = staff[0]
        try:
            found = await self._reader().read(room, event, chat_id, is_direct)
        except TooBig as too_big:
            if is_direct or too_big.thread:
                lang, _roles = await self.state.language_and_roles(
                    event.sender, self.city.default_language
                )
                text = i18n.translate(
                    lang, N_("This file is too big. Please send photos or PDFs up to 10 MB.")
                )
                await self._sender().send_reply(
                    room.room_id, Reply(text=text), thread_root=too_big.thread, patient=True
                )
            return True
        if found is None:
            return False
        inbound, addressed = found
        if (
            not is_direct
            and not addressed
            and not await self.state.in_a_step(chat_id, event.sender)
        ):
            return False
        replies = await self.dispatcher.handle(inbound)
        if is_direct and info is not None and info.encrypted != bool(room.encrypted):
            info.encrypted = bool(room.encrypted)
            self.rooms[room.room_id] = await self.state.save_room(info)
            lang, _roles = await self.state.language_and_roles(
                event.sender, self.city.default_language
            )
            replies = [Reply(text=security_text(lang, info.encrypted)), *replies]
        if is_direct and self._marked.get(room.room_id) != (event.sender, bool(room.encrypted)):
            await self.state.mark_account(event.sender, room.room_id, bool(room.encrypted))
            self._marked[room.room_id] = (event.sender, bool(room.encrypted))
        await self._answer(
            room,
            replies,
            owner=event.sender if is_direct else "",
            thread=inbound.thread,
            sender=event.sender,
        )
        return True

    async def _undecryptable(
        self, room: MatrixRoom, event: MegolmEvent, info: MatrixRoomInfo | None
    ) -> bool:
        assert self.client is not None
        log.warning("Matrix: cannot decrypt %s in %s", event.event_id, room.room_id)
        try:
            await self.client.request_room_key(event)
        except Exception:
            log.debug("room key request failed", exc_info=True)
        if info is None or info.kind != DIRECT or event.sender != info.owner:
            return False
        lang, _roles = await self.state.language_and_roles(event.sender, self.city.default_language)
        text = i18n.translate(
            lang,
            N_(
                "I could not read your last message: your app did not share the encryption "
                "key with me. Please send it again."
            ),
        )
        await self._sender().send_reply(room.room_id, Reply(text=text), patient=True)
        return True

    # ================================================================ answering
    async def _answer(
        self,
        room: MatrixRoom,
        replies: list[Reply],
        *,
        owner: str,
        thread: str,
        sender: str = "",
    ) -> None:
        """Send the answers to an input. Personal data in a shared room goes to the person's
        direct room instead (end-to-end encrypted where they have one)."""
        withheld: list[Reply] = []
        for reply in replies:
            if reply.private and not owner:
                withheld.append(reply)
                continue
            await self._sender().send_reply(room.room_id, reply, thread_root=thread, patient=True)
        if withheld and sender:
            await self._redirect_private(room, sender, withheld, thread)

    async def _redirect_private(
        self, room: MatrixRoom, sender: str, replies: list[Reply], thread: str
    ) -> None:
        assert self.client is not None
        lang, _roles = await self.state.language_and_roles(sender, self.city.default_language)
        direct = await self.state.direct_room_of(sender)
        direct_room = self.client.rooms.get(direct.room_id) if direct is not None else None
        if direct is None or direct_room is None:
            text = i18n.translate(
                lang,
                N_(
                    "This answer contains personal data, so I do not show it here. "
                    "Please write to me in a direct chat."
                ),
            )
        else:
            for reply in replies:
                await self._sender().send_reply(direct.room_id, replace(reply, buttons=[], menu=""))
            text = i18n.translate(
                lang,
                N_("This answer contains personal data: I sent it to our encrypted direct chat.")
                if direct_room.encrypted
                else N_("This answer contains personal data: I sent it to our direct chat."),
            )
        await self._sender().send_reply(
            room.room_id, Reply(text=text), thread_root=thread, patient=True
        )

    async def deliver(self, chat_id: str, reply: Reply, *, thread: str = "") -> str:
        """For the outbox: one notification into a resident's direct room or a staff room.
        `thread` is an event id or a key (e.g. a case reference): the first message sent with a
        key becomes the root of that thread in the room."""
        if self.client is None:
            raise TransientError("the Matrix channel is not running")
        try:
            await asyncio.wait_for(self.ready.wait(), timeout=30)
        except TimeoutError:
            raise TransientError("the Matrix channel has not synced yet") from None
        room_id = self.configured_rooms.get(chat_id, chat_id)
        if room_id not in self.client.rooms:
            raise Unreachable(f"the bot is not in {chat_id}")
        root = ""
        if thread.startswith("$"):
            root = thread
        elif thread:  # no database read here: the outbox's transaction is open (SQLite)
            root = self._thread_roots.get((room_id, thread), "")
        event_id = await self._sender().send_reply(room_id, reply, thread_root=root, patient=False)
        if thread and not root:
            self._thread_roots[(room_id, thread)] = event_id
            self._sender().write_later(
                self.state.set_thread_root(room_id, thread, event_id, self.clock.now())
            )
        return event_id
