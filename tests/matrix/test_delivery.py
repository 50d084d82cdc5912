"""Delivery through the outbox on a real Synapse: Matrix's 429 and its retry_after_ms are
honoured (the message waits in the outbox, nio does not loop), a room the bot is not in
is unreachable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.channel import Unreachable
from flows.types import Reply
from services import notify
from services.clock import FrozenClock
from storage.models.identity import ChannelAccount
from storage.models.outbox import PENDING, SENT, Notification
from tests.matrix.support import BotRunner, Resident
from tests.support.synapse import SynapseServer


async def test_rate_limited_notification_waits_in_the_outbox(
    bot: BotRunner, resident: Resident, synapse: SynapseServer, clock: FrozenClock
) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")
    async with bot.db.uow() as uow:
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(ChannelAccount.external_id == resident.user_id)
            )
        ).scalar_one()
        for n in (1, 2):
            notify.notify_citizen(uow, account.citizen_id, f"News {n}", now=clock.now())
        await uow.commit()

    # the homeserver now lets the bot send one message a second, no burst: of two messages
    # sent at once, the second (at least) gets a 429 with retry_after_ms
    synapse.override_ratelimit(bot.user_id, messages_per_second=1, burst_count=1)
    try:
        await bot.drain()
        async with bot.db.uow() as uow:
            notes = (
                (await uow.session.execute(select(Notification).order_by(Notification.id)))
                .scalars()
                .all()
            )
            assert {n.status for n in notes} <= {SENT, PENDING}
            waiting = [n for n in notes if n.status == PENDING]
            assert waiting, "no 429 seen"
            for note in waiting:  # told to wait, not counted as a failed attempt
                assert note.attempts == 0 and note.last_error is None
                assert clock.now() < note.next_attempt_at <= clock.now() + timedelta(seconds=5)
    finally:
        synapse.override_ratelimit(bot.user_id)
    await bot.drain()  # not due yet: nothing is sent early
    async with bot.db.uow() as uow:
        still = await uow.session.execute(
            select(Notification).where(Notification.status == PENDING)
        )
        assert len(still.all()) == len(waiting)
    clock.advance(timedelta(seconds=5))
    await bot.drain()
    await resident.until(
        lambda: {"News 1", "News 2"} <= {s.body for s in resident.from_bot(room)}, "both news"
    )
    async with bot.db.uow() as uow:
        statuses = (await uow.session.execute(select(Notification.status))).scalars().all()
        assert statuses == [SENT, SENT]


async def test_room_without_the_bot_is_unreachable(bot: BotRunner) -> None:
    await bot.start()
    try:
        await bot.channel.deliver("!nowhere:localhost", Reply(text="hello"))
    except Unreachable:
        pass
    else:
        raise AssertionError("expected Unreachable")
