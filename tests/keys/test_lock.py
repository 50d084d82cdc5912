"""The simulated lock against real keys (both databases): it opens within the slot and its grace
time, and refuses before and after, at the wrong lock, a tampered key (one character changed),
a key of a cancelled booking (revoked), and the first key after it was passed on — each with its
reason. The online check (`decide_online`) answers the same from the server's state."""

from __future__ import annotations

from datetime import timedelta

from services.identity import privacy
from services.keys import changes, records
from services.keys import lock as locks
from services.keys.records import CANCELLED
from storage.db import Database
from tests.keys.conftest import book, fresh
from tests.keys.lock_sim import SimulatedLock
from tests.support.chat import Transcript


def tamper(token: str, index: int) -> str:
    """The token with one character changed (to another base64url character)."""
    char = token[index]
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]


async def test_the_lock_opens_only_within_the_slot(
    chat: Transcript, people: dict[str, int]
) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    assert booking.token and booking.lock_id == "fahrradbox-bahnhof-01"
    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(chat.db, chat.clock.now())
    grace = timedelta(minutes=15)

    assert lock.present(booking.token, chat.clock.now()).open
    assert lock.present(booking.token, booking.starts_at - grace).open
    assert lock.present(booking.token, booking.ends_at + grace - timedelta(seconds=1)).open
    too_early = lock.present(booking.token, booking.starts_at - grace - timedelta(minutes=5))
    assert (too_early.open, too_early.reason) == (False, "not_yet_valid")
    too_late = lock.present(booking.token, booking.ends_at + grace + timedelta(minutes=5))
    assert (too_late.open, too_late.reason) == (False, "expired")
    assert too_late.booking_id == booking.id


async def test_clock_tolerance_of_an_offline_lock(chat: Transcript, people: dict[str, int]) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    assert booking.token
    lock = SimulatedLock(booking.lock_id, drift=timedelta(seconds=-90))  # its clock is slow
    await lock.refresh(chat.db, chat.clock.now())
    edge = booking.starts_at - timedelta(minutes=15) - timedelta(seconds=60)
    assert lock.present(booking.token, edge + timedelta(seconds=90)).open
    lock.tolerance = timedelta(0)
    assert lock.present(booking.token, edge + timedelta(seconds=90)).reason == "not_yet_valid"


async def test_wrong_lock_and_tampered_keys_are_refused(
    chat: Transcript, people: dict[str, int]
) -> None:
    booking = await book(chat.db, chat.env, people["anna"])
    token = booking.token or ""
    neighbour = SimulatedLock("fahrradbox-bahnhof-02")
    await neighbour.refresh(chat.db, chat.clock.now())
    assert neighbour.present(token, chat.clock.now()).reason == locks.WRONG_LOCK
    assert neighbour.take_log() == []  # not its booking: nothing to report

    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(chat.db, chat.clock.now())
    payload_at = token.index(".", 3) + 5  # a character inside the signed claims
    for index in (payload_at, len(token) - 3):
        decision = lock.present(tamper(token, index), chat.clock.now())
        assert not decision.open and decision.reason in ("signature", "malformed")
    assert lock.present("not a key", chat.clock.now()).reason == "malformed"
    assert lock.present("", chat.clock.now()).reason == "malformed"
    assert not lock.is_open


async def test_a_cancelled_booking_revokes_the_key(
    chat: Transcript, people: dict[str, int], db: Database
) -> None:
    booking = await book(db, chat.env, people["anna"])
    token = booking.token or ""
    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(db, chat.clock.now())
    assert lock.present(token, chat.clock.now()).open
    async with db.uow() as uow:
        assert (
            await changes.cancel(
                uow,
                chat.env,
                citizen_id=people["anna"],
                booking_id=booking.id or 0,
                now=chat.clock.now(),
            )
            == 0
        )
        await uow.commit()
    assert (await fresh(db, booking.id or 0)).status == CANCELLED
    assert lock.present(token, chat.clock.now()).open  # offline, before its next download
    await lock.refresh(db, chat.clock.now())
    assert lock.present(token, chat.clock.now()).reason == "revoked"
    async with db.uow() as uow:
        online = await locks.decide_online(uow, token, lock=booking.lock_id, now=chat.clock.now())
    assert (online.open, online.reason) == (False, "revoked")
    # the box is free again: ben books it
    again = await book(db, chat.env, people["ben"])
    assert again.lock_id == booking.lock_id


async def test_a_key_passed_on_stops_working_and_the_new_one_opens(
    chat: Transcript, people: dict[str, int], db: Database
) -> None:
    booking = await book(db, chat.env, people["anna"])
    first = booking.token or ""
    async with db.uow() as uow:
        code = await changes.start_handover(
            uow,
            chat.city,
            citizen_id=people["anna"],
            booking_id=booking.id or 0,
            now=chat.clock.now(),
        )
        await uow.commit()
    async with db.uow() as uow:
        taken = await changes.take_over(
            uow, chat.city, citizen_id=people["ben"], code=code, now=chat.clock.now()
        )
        await uow.commit()
        second = taken.token or ""
    assert second and second != first and taken.holder_id == people["ben"]
    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(db, chat.clock.now())
    assert lock.present(first, chat.clock.now()).reason == "revoked"
    assert lock.present(second, chat.clock.now()).open
    async with db.uow() as uow:
        old = await locks.decide_online(uow, first, lock=booking.lock_id, now=chat.clock.now())
        new = await locks.decide_online(uow, second, lock=booking.lock_id, now=chat.clock.now())
    assert (old.open, old.reason, new.open) == (False, "revoked", True)


async def test_lock_events_are_kept_once_in_the_history(
    chat: Transcript, people: dict[str, int], db: Database
) -> None:
    booking = await book(db, chat.env, people["anna"])
    lock = SimulatedLock(booking.lock_id)
    await lock.refresh(db, chat.clock.now())
    lock.present(booking.token or "", chat.clock.now())
    lock.present(booking.token or "", chat.clock.now() + timedelta(hours=15))
    events = [locks.parse_event(e) for e in lock.take_log()]
    async with db.uow() as uow:
        assert await locks.record_events(
            uow, chat.city, lock.lock_id, events, chat.clock.now()
        ) == (2, 0)
        await uow.commit()
    async with db.uow() as uow:  # the lock sends them again after a lost answer
        assert await locks.record_events(
            uow, chat.city, lock.lock_id, events, chat.clock.now()
        ) == (0, 2)
        await uow.commit()
    async with db.uow() as uow:
        kinds = [e.kind for e in await records.history(uow, booking.id or 0)]
    assert kinds == ["booked", "issued", "opened", "refused"]


async def test_deleting_the_account_revokes_every_key(
    chat: Transcript, people: dict[str, int], db: Database
) -> None:
    booking = await book(db, chat.env, people["anna"])
    async with db.uow() as uow:
        assert await privacy.close_holdings(uow, people["anna"], chat.clock.now()) >= 1
        await uow.commit()
    async with db.uow() as uow:
        decision = await locks.decide_online(
            uow, booking.token or "", lock=booking.lock_id, now=chat.clock.now()
        )
    assert (decision.open, decision.reason) == (False, "revoked")
    assert (await fresh(db, booking.id or 0)).status == CANCELLED
