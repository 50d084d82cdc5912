"""Sending to Matrix rooms: replies as messages (media uploaded first, encrypted in encrypted
rooms), keycaps under small menus, pacing per room and overall, 429 honoured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse

from bot.channel import Rejected, RetryAfter, TransientError, Unreachable
from bot.matrix import render
from bot.matrix.pacing import Pacer
from bot.matrix.state import MatrixState
from flows.types import Reply
from services.clock import Clock

log = logging.getLogger(__name__)

INLINE_WAIT = 2.0  # the outbox holds a message back longer than this by asking to retry later
MAX_429_RETRIES = 3  # for direct answers; the outbox retries by itself
MAX_429_WAIT = 30.0


class Sender:
    def __init__(
        self,
        client: AsyncClient,
        state: MatrixState,
        pacer: Pacer,
        reaction_options: int,
        clock: Clock,
    ) -> None:
        self.client = client
        self.state = state
        self.pacer = pacer
        self.reaction_options = reaction_options
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()  # keycaps and bookkeeping after a send

    async def finish(self) -> None:
        """Wait for what is still being sent or written in the background."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def write_later(self, write: Coroutine[Any, Any, None]) -> None:
        """The outbox calls deliver() inside its own transaction; on SQLite a second writer
        would wait for that one to end, so our bookkeeping is written right after it."""
        self.in_background(write)

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """A task we own: kept until done, awaited on stop, its failure logged."""

        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Matrix: background work failed")

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send_reply(
        self, room_id: str, reply: Reply, *, thread_root: str = "", patient: bool = True
    ) -> str:
        """Media first (uploaded to the media repository), then the text with its numbered
        options; returns the event id of the text (or of the media when there is no text)."""
        event_id = ""
        relation = render.thread_relation(thread_root) if thread_root else None
        if reply.media is not None:
            content = await self._upload(room_id, reply)
            if relation:
                content["m.relates_to"] = relation
            event_id = await self._send_event(room_id, "m.room.message", content, patient)
        if reply.text or reply.buttons or not event_id:
            content = render.text_content(reply)
            if relation:
                content["m.relates_to"] = relation
            event_id = await self._send_event(room_id, "m.room.message", content, patient)
        if reply.menu:
            remember = self.state.remember_menu(
                event_id, room_id, reply.menu, thread_root, self.clock.now()
            )
            if patient:
                await remember
            else:
                self.write_later(remember)
            shown = render.options(reply)
            if reply.options != "named" and 0 < len(shown) <= self.reaction_options:
                self.in_background(self._add_keycaps(room_id, event_id, len(shown)))
        return event_id

    async def _add_keycaps(self, room_id: str, event_id: str, count: int) -> None:
        """Keycaps under a small menu, so that one tap answers. Sent after the answer, in the
        background: the next message of the person is not held up by them."""
        for number in range(1, count + 1):
            try:
                await self._send_event(
                    room_id,
                    "m.reaction",
                    {
                        "m.relates_to": {
                            "rel_type": "m.annotation",
                            "event_id": event_id,
                            "key": render.KEYCAPS[number - 1],
                        }
                    },
                    patient=False,
                )
            except RetryAfter:
                return  # they are a convenience: typing the number works as well

    async def _upload(self, room_id: str, reply: Reply) -> dict[str, Any]:
        assert reply.media is not None
        media = reply.media
        room = self.client.rooms.get(room_id)
        encrypt = bool(room is not None and room.encrypted)
        data = media.data
        resp, keys = await self.client.upload(
            lambda *_: data,
            content_type=media.mime if not encrypt else "application/octet-stream",
            filename=media.filename,
            encrypt=encrypt,
            filesize=len(data),
        )
        if not isinstance(resp, UploadResponse):
            _raise_for(resp)
        if encrypt:
            assert keys is not None
            encrypted_file = dict(keys)
            encrypted_file["url"] = resp.content_uri
            return render.media_content(reply, None, encrypted_file)
        return render.media_content(reply, resp.content_uri, None)

    async def _send_event(
        self, room_id: str, event_type: str, content: dict[str, Any], patient: bool
    ) -> str:
        """Paced per room and overall; 429 honoured: direct answers wait (a few times at
        most), the outbox is told to retry later."""
        for _attempt in range(MAX_429_RETRIES + 1):
            wait = self.pacer.wait(room_id)
            if wait > INLINE_WAIT and not patient:
                raise RetryAfter(wait)
            if wait > 0:
                await asyncio.sleep(wait)
            self.pacer.book(room_id)
            try:
                resp = await self.client.room_send(
                    room_id, event_type, content, ignore_unverified_devices=True
                )
            except (TimeoutError, OSError) as error:
                raise TransientError(f"sending to {room_id}: {error!r}") from error
            if isinstance(resp, RoomSendResponse):
                return str(resp.event_id)
            if isinstance(resp, ErrorResponse) and resp.status_code == "M_LIMIT_EXCEEDED":
                seconds = (resp.retry_after_ms or 1000) / 1000
                if not patient:
                    raise RetryAfter(seconds)
                await asyncio.sleep(min(seconds, MAX_429_WAIT))
                continue
            _raise_for(resp)
        raise RetryAfter(MAX_429_WAIT)


def _raise_for(resp: Any) -> None:
    code = getattr(resp, "status_code", "") or ""
    message = f"{code}: {getattr(resp, 'message', resp)}"
    if code == "M_LIMIT_EXCEEDED":
        raise RetryAfter((getattr(resp, "retry_after_ms", 0) or 1000) / 1000)
    if code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN"):
        raise Unreachable(message)
    if code in ("M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"):
        raise Rejected(message)
    raise TransientError(message)
