"""The lock side of a digital key: the decision a lock makes, offline or online, and the
openings locks report.

Offline, a lock needs only the town's public keys and the revocation list
(/.well-known/stadtlotse-keys.json): `decide` is the reference implementation of its check, and
`stadtlotse key verify TOKEN --lock LOCK [--at TIME]` runs it. Online, `POST /keys/verify`
answers with the same decision from the server's clock and the live revocation list; locks
report what happened with `POST /keys/events` (services/keys/lock.py `record_events`)."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.city import City
from services.keys.config import rules as key_rules
from services.keys.records import TOKEN_KIND
from services.trust import tokens
from storage.models.keys import KeyBooking, KeyEvent
from storage.uow import UnitOfWork

WRONG_LOCK = "wrong_lock"
OPENED, REFUSED = "opened", "refused"
EVENT_KINDS = (OPENED, REFUSED)
TIME_REASONS = ("not_yet_valid", "expired")


@dataclass(frozen=True)
class Decision:
    open: bool
    reason: str  # "ok", "wrong_lock", or a reason of services/trust/tokens.py
    booking_id: int | None = None
    token_id: str = ""

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"open": self.open, "reason": self.reason}
        if self.booking_id is not None:
            answer["booking"] = self.booking_id
        return answer


def _decision(verdict: tokens.Verdict, lock: str) -> Decision:
    booking = verdict.claims.get("booking")
    booking_id = booking if isinstance(booking, int) else None
    if verdict.claims and verdict.claims.get("lock") != lock:
        return Decision(False, WRONG_LOCK, booking_id, verdict.token_id)
    if not verdict.valid:
        return Decision(False, verdict.reason, booking_id, verdict.token_id)
    return Decision(True, "ok", booking_id, verdict.token_id)


def decide(
    token: str,
    keyset: tokens.KeySet,
    *,
    lock: str,
    now: datetime,
    revoked: Container[str] = (),
    tolerance: timedelta = timedelta(0),
) -> Decision:
    """Open or not, and why: the signature, the kind "key", this lock, the time (a lock's clock
    may be off by up to `tolerance` either way) and the revocation list. A key for another
    lock is refused as "wrong_lock" even when it is also outside its time."""
    token = token.strip()
    verdict = tokens.check(token, keyset, kind=TOKEN_KIND, now=now, revoked=revoked)
    if not verdict.valid and verdict.reason in TIME_REASONS and tolerance:
        shifted = now + tolerance if verdict.reason == "not_yet_valid" else now - tolerance
        again = tokens.check(token, keyset, kind=TOKEN_KIND, now=shifted, revoked=revoked)
        if again.valid:
            verdict = again
    return _decision(verdict, lock)


async def decide_online(uow: UnitOfWork, token: str, *, lock: str, now: datetime) -> Decision:
    """The server's answer for a lock that asks (POST /keys/verify): its clock, the live
    revocation list, and the booking still confirmed for this lock."""
    verdict = await tokens.check_online(uow, token.strip(), kind=TOKEN_KIND, now=now)
    decision = _decision(verdict, lock)
    if decision.open and decision.booking_id is not None:
        booking = await uow.session.get(KeyBooking, decision.booking_id)
        if booking is None or booking.token_id != decision.token_id:
            return Decision(False, "revoked", decision.booking_id, decision.token_id)
    return decision


# ---------------------------------------------------------------- events from locks
@dataclass(frozen=True)
class LockEvent:
    booking_id: int
    kind: str  # "opened" or "refused"
    at: datetime
    detail: str = ""


class BadEvent(ValueError):
    pass


def parse_event(raw: Any) -> LockEvent:
    """One event as a lock sends it: {"booking": 12, "event": "opened", "at": ISO 8601,
    "reason": "..."} (reason only for refusals)."""
    if not isinstance(raw, dict):
        raise BadEvent("an event is an object")
    booking, kind, at = raw.get("booking"), raw.get("event"), raw.get("at")
    if not isinstance(booking, int) or isinstance(booking, bool) or booking <= 0:
        raise BadEvent("booking must be the booking number from the key's claims")
    if kind not in EVENT_KINDS:
        raise BadEvent(f"event must be one of {', '.join(EVENT_KINDS)}")
    if not isinstance(at, str) or len(at) > 40:
        raise BadEvent("at must be an ISO 8601 time with offset, e.g. 2026-11-25T09:03:00Z")
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent("at must be an ISO 8601 time with offset") from None
    if moment.tzinfo is None:
        raise BadEvent("at needs a UTC offset (Z or +01:00)")
    reason = raw.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 40:
        raise BadEvent("reason is a short word such as wrong_lock")
    return LockEvent(booking, kind, moment.astimezone(UTC), reason)


async def record_events(
    uow: UnitOfWork, city: City, lock: str, events: Sequence[LockEvent], now: datetime
) -> tuple[int, int]:
    """Store what a lock reports in its bookings' history. An event for a booking of another
    lock is refused; one sent twice is kept once. Returns (stored, duplicates)."""
    if key_rules(city).facility_of_lock(lock) is None:
        raise BadEvent(f"lock {lock} is not configured")
    stored = duplicates = 0
    for event in events:
        booking = await uow.session.get(KeyBooking, event.booking_id)
        if booking is None or booking.lock_id != lock:
            raise BadEvent(f"booking {event.booking_id} is not a booking of lock {lock}")
        if event.at > now + timedelta(days=1):
            raise BadEvent("at lies in the future: please check the lock's clock")
        row = KeyEvent(
            booking_id=event.booking_id,
            kind=event.kind,
            at=event.at,
            lock_id=lock,
            detail=event.detail,
            dedupe=f"{lock}|{event.booking_id}|{event.kind}|{event.at:%Y%m%dT%H%M%S}",
            created_at=now,
        )
        try:
            async with uow.session.begin_nested():
                uow.session.add(row)
                await uow.session.flush()
        except IntegrityError:
            duplicates += 1
            continue
        stored += 1
    return stored, duplicates
