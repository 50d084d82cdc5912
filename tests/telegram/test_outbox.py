"""The outbox sender against the fake Bot API: limits, 429, blocked chats, network errors, parking,
recovery after a crash. One hand-moved clock drives the fake's limits and the sender."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.sender.delivery import SENDING, Delivery
from bot.sender.outbox import OutboxSender, counts
from bot.sender.ratelimit import Limits
from bot.telegram import TelegramChannel
from flows.types import Reply
from services import notify
from services.city import City
from services.clock import FrozenClock
from services.identity import accounts as identity
from storage.db import Database
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import FAILED, PARKED, PENDING, SENT, Notification, StoredFile
from tests.support.fake_telegram import FakeTelegram, ManualClock, RateLimits
from tests.support.test_fake_telegram import png

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

ROOM = "-1001234"


class ManualTimer:
    """The sender's timer on a hand-moved clock: waiting moves the clock unless sends are in
    flight (then it waits for them, as real time would pass only briefly)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def monotonic(self) -> float:
        return self.clock()

    async def wait(self, event: asyncio.Event, seconds: float, *, busy: bool) -> None:
        if event.is_set():
            return
        if busy:
            await event.wait()
            return
        self.clock.advance(seconds)
        await asyncio.sleep(0)


async def no_conversation(inbound: Any) -> list[Reply]:
    return []


@dataclass
class Setup:
    fake: FakeTelegram
    channel: TelegramChannel
    mono: ManualClock
    db: Database
    city: City
    clock: FrozenClock

    async def resident(self, user: int, language: str = "de") -> int:
        async with self.db.uow() as uow:
            citizen, _ = await identity.contact(
                uow,
                channel="telegram",
                external_id=str(user),
                chat_id=str(user),
                now=self.clock.now(),
                language_hint=language,
                default_language="de",
            )
            await uow.commit()
            return citizen.id or 0

    async def notify(self, citizen_id: int, key: str, n: int = 1, **kw: Any) -> list[int]:
        async with self.db.uow() as uow:
            notes = [
                notify.notify_citizen(uow, citizen_id, key, {"n": i}, now=self.clock.now(), **kw)
                for i in range(n)
            ]
            await uow.commit()
            return [note.id or 0 for note in notes]

    def sender(self, max_attempts: int = 8) -> OutboxSender:
        return OutboxSender(
            self.db, self.city, {"telegram": self.channel}, self.clock, max_attempts=max_attempts
        )

    async def run(self, max_attempts: int = 8, **options: Any) -> Any:
        options = {"until_idle": True, "timer": ManualTimer(self.mono), "poll_interval": 0.0}
        return await Delivery(self.sender(max_attempts), **options).run()

    async def statuses(self) -> dict[int, Notification]:
        async with self.db.uow() as uow:
            rows = {
                n.id or 0: n for n in (await uow.session.execute(select(Notification))).scalars()
            }
            uow.session.expunge_all()  # keep them readable after the unit of work ends
            return rows


@pytest.fixture
async def tg(db: Database, city: City, clock: FrozenClock) -> AsyncIterator[Setup]:
    mono = ManualClock()
    async with FakeTelegram(clock=mono) as fake:
        channel = TelegramChannel(
            fake.token, no_conversation, api_url=fake.base_url, clock=mono, limits=Limits()
        )
        await channel.start()
        yield Setup(fake, channel, mono, db, city, clock)
        await channel.stop()


def sends(fake: FakeTelegram, chat: int) -> list[float]:
    return [
        r.at for r in fake.requests if r.method == "sendMessage" and r.params["chat_id"] == chat
    ]


async def test_limits_are_kept_without_a_single_429(tg: Setup) -> None:
    people = [await tg.resident(100 + i) for i in range(40)]
    for citizen_id in people:
        await tg.notify(citizen_id, "Your voucher {n} is ready.")
    await tg.notify(people[0], "Reminder {n}", n=4)  # four more for the first resident
    start = tg.mono()
    stats = await tg.run()
    assert stats.sent == 44 and tg.fake.rate_limited == 0
    first = sends(tg.fake, 100)
    assert len(first) == 5 and all(b - a >= 1.0 - 1e-6 for a, b in itertools_pairs(first))
    texts = [m.text for m in tg.fake.sent(100)]
    assert texts == ["Your voucher 0 is ready."] + [f"Reminder {i}" for i in range(4)]  # in order
    assert tg.mono() - start >= 44 / 30 - 0.2  # never faster than 30 per second overall


def itertools_pairs(values: list[float]) -> list[tuple[float, float]]:
    return list(itertools.pairwise(values))


async def test_staff_room_twenty_per_minute(tg: Setup) -> None:
    tg.city.departments[0].rooms.telegram = ROOM
    async with tg.db.uow() as uow:
        for i in range(25):
            notify.notify_department(
                uow, tg.city, tg.city.departments[0].key, "New case {n}", {"n": i},
                now=tg.clock.now(),
            )  # fmt: skip
        await uow.commit()
    stats = await tg.run()
    room = [m.text for m in tg.fake.sent(int(ROOM))]
    assert room == [f"New case {i}" for i in range(25)] and tg.fake.rate_limited == 0
    at = sends(tg.fake, int(ROOM))
    assert at[-1] - at[0] >= (25 - 3) * 3 - 0.01  # a burst of 3, then one every 3 seconds
    assert stats.by_channel == {"telegram": 25}


async def test_429_pauses_and_the_message_goes_again(tg: Setup) -> None:
    anna = await tg.resident(4711)
    await tg.notify(anna, "Your case {n} was approved.")
    tg.fake.fail_next(1, 429)
    start = tg.mono()
    stats = await tg.run()
    assert stats.throttled == 1 and stats.sent == 1
    assert [m.text for m in tg.fake.sent(4711)] == ["Your case 0 was approved."]
    assert tg.mono() - start >= 1.0  # waited retry_after


async def test_blocked_chat_marks_the_resident_unreachable(tg: Setup) -> None:
    anna, bernd = await tg.resident(4711), await tg.resident(4712)
    await tg.notify(anna, "Note {n}", n=3)
    await tg.notify(bernd, "Note {n}", n=1)
    tg.fake.block_chat(4711)
    stats = await tg.run()
    assert stats.unreachable == 3 and stats.sent == 1
    assert len([r for r in tg.fake.requests if r.params.get("chat_id") == 4711]) == 1
    async with tg.db.uow() as uow:
        account = (
            await uow.session.execute(
                select(ChannelAccount).where(ChannelAccount.external_id == "4711")
            )
        ).scalar_one()
        assert account.unreachable_at is not None
    await tg.notify(anna, "Later {n}")
    stats = await tg.run()
    assert stats.failed == 1 and len(tg.fake.sent(4711)) == 0  # no further sends to that chat
    assert {n.status for n in (await tg.statuses()).values() if n.citizen_id == anna} == {FAILED}


async def test_network_errors_retry_with_backoff_then_park(tg: Setup) -> None:
    anna = await tg.resident(4711)
    [first] = await tg.notify(anna, "First {n}")
    tg.fake.fail_next(2, 502)
    tg.fake.fail_next(1, "disconnect")
    stats = await tg.run()
    assert stats.sent == 1 and stats.retried == 3
    note = (await tg.statuses())[first]
    assert note.status == SENT and note.attempts == 3

    [second] = await tg.notify(anna, "Second {n}")
    tg.fake.fail_next(10, 500)
    stats = await tg.run(max_attempts=4)
    assert stats.parked == 1
    note = (await tg.statuses())[second]
    assert note.status == PARKED and note.attempts == 4 and note.last_error
    assert (await counts(tg.db))[("telegram", PARKED)] == 1  # visible to operators


async def test_refused_message_is_parked_at_once(tg: Setup) -> None:
    anna = await tg.resident(4711)
    [note_id] = await tg.notify(anna, "Refused {n}")
    tg.fake.fail_next(1, 400)
    stats = await tg.run()
    assert stats.parked == 1 and (await tg.statuses())[note_id].status == PARKED


async def test_what_a_dead_sender_had_in_flight_is_sent_again(tg: Setup) -> None:
    anna = await tg.resident(4711)
    ids = await tg.notify(anna, "Note {n}", n=3)
    async with tg.db.uow() as uow:  # a sender claimed them, then died (kill -9)
        await uow.session.execute(
            update(Notification).where(Notification.id.in_(ids[:2])).values(status=SENDING)
        )
        await uow.commit()
    stats = await tg.run()
    assert stats.recovered == 2 and stats.sent == 3
    assert {n.status for n in (await tg.statuses()).values()} == {SENT}


async def test_rendered_in_the_recipients_language_when_sent(tg: Setup) -> None:
    anna, bernd = await tg.resident(4711, "de"), await tg.resident(4712, "de")
    await tg.notify(anna, "Open private chat")
    await tg.notify(bernd, "Open private chat")
    async with tg.db.uow() as uow:  # Bernd switches to English after the notice was queued
        citizen = await uow.session.get(Citizen, bernd)
        assert citizen is not None
        identity.set_language(citizen, "en")
        await uow.commit()
    await tg.run()
    assert tg.fake.last_sent(4711).text == "Privaten Chat öffnen"
    assert tg.fake.last_sent(4712).text == "Open private chat"


async def test_photos_long_texts_and_buttons(tg: Setup) -> None:
    anna = await tg.resident(4711)
    async with tg.db.uow() as uow:
        image = png(4, 4)
        stored = StoredFile(
            mime="image/png", filename="qr.png", size=len(image), sha256="x", data=image,
            created_at=tg.clock.now(),
        )  # fmt: skip
        uow.session.add(stored)
        await uow.session.flush()
        notify.notify_citizen(uow, anna, "Your ticket", now=tg.clock.now(), media_file_id=stored.id)
        notify.notify_citizen(
            uow, anna, "{text}", {"text": "Lorem ipsum dolor. " * 400}, now=tg.clock.now(),
            buttons=[notify.button("Main menu", "menu.main"),
                     notify.button("Website", url="https://www.ahaus.de")],
        )  # fmt: skip
        await uow.commit()
    stats = await tg.run()
    photo, part1, part2 = tg.fake.sent(4711)
    assert photo.kind == "photo" and photo.text == "Your ticket" and photo.data == image
    assert len(part1.text) <= 4096 and part1.reply_markup is None
    assert part2.buttons[0]["callback_data"] and part2.buttons[1]["url"] == "https://www.ahaus.de"
    assert stats.sent == 2


async def test_console_drain_still_serves_one_chat(tg: Setup) -> None:
    anna = await tg.resident(4711)
    await tg.notify(anna, "Only when asked {n}")
    stats = await tg.sender().drain(only_chats={("telegram", "999")})
    assert stats.sent == 0 and (await tg.statuses())[1].status == PENDING
    stats = await tg.sender().drain(only_chats={("telegram", "4711")})
    assert stats.sent == 1


async def test_fake_limits_are_real(tg: Setup) -> None:
    """Guard for the tests above: without our limiter the fake does answer 429."""
    tg.fake.limits = RateLimits(global_per_second=30)
    for _ in range(3):
        await tg.channel.deliver("4711", Reply(text="a"))
    with pytest.raises(Exception, match="retry"):
        await tg.channel.deliver("4711", Reply(text="b"))


async def test_a_reply_marked_edit_replaces_the_pressed_menu(tg: Setup) -> None:
    from bot.telegram.inbound import Mapped
    from flows.types import Button

    menu = Reply(text="Sprache?", buttons=[Button("Deutsch", "x")], menu="ABCDEFGHJKMN")
    await tg.channel.send("4711", menu)
    [sent] = tg.fake.sent(4711)
    answer = Reply(text="Deutsch gewählt.", edit=True)
    await tg.channel.answer("4711", [answer], Mapped(None, message_id=sent.message_id))
    assert len(tg.fake.sent(4711)) == 1  # no new message: the menu turned into the answer
    assert sent.text == "Deutsch gewählt." and sent.reply_markup is None
    assert sent.history[0].text == "Sprache?"
    gone = Mapped(None, message_id=999)  # the message is gone: a new one instead
    await tg.channel.answer("4711", [Reply(text="Noch einmal.", edit=True)], gone)
    assert tg.fake.last_sent(4711).text == "Noch einmal."
