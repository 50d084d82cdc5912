"""A simulated lock, built the way docs/keys.md tells a lock vendor to build one.

It knows its own id and keeps a copy of what the town publishes — the public keys
(/.well-known/stadtlotse-keys.json) and the revocation list — refreshed whenever it is online.
It checks a presented key offline with its own clock (which may drift), opens or refuses, and
keeps a log of what happened to upload later through POST /keys/events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.keys import lock as locks
from services.keys.lock import Decision
from services.trust import tokens
from storage.db import Database


@dataclass
class SimulatedLock:
    lock_id: str
    keys_document: dict[str, Any] = field(default_factory=dict)
    revoked_document: dict[str, Any] = field(default_factory=dict)
    tolerance: timedelta = timedelta(seconds=120)
    drift: timedelta = timedelta(0)  # the lock's clock minus the true time
    is_open: bool = False
    log: list[dict[str, Any]] = field(default_factory=list)

    async def refresh(self, db: Database, now: datetime) -> None:
        """What a lock downloads while it is online (round-tripped through JSON as over HTTP)."""
        async with db.uow() as uow:
            keys = (await tokens.keyset(uow)).to_json()
            revoked = await tokens.revocation_list(uow, now)
        self.keys_document = json.loads(json.dumps(keys))
        self.revoked_document = json.loads(json.dumps(revoked))

    async def download(self, web: httpx.AsyncClient) -> None:
        """The same over HTTP, from the paths docs/keys.md names."""
        keys = await web.get("/.well-known/stadtlotse-keys.json")
        revoked = await web.get("/.well-known/stadtlotse-revoked.json")
        keys.raise_for_status()
        revoked.raise_for_status()
        self.keys_document, self.revoked_document = keys.json(), revoked.json()

    def present(self, token: str, at: datetime) -> Decision:
        """Someone holds a QR code to the reader at the true time `at`."""
        lock_time = at + self.drift
        revoked = {e["jti"] for e in self.revoked_document.get("revoked", [])}
        decision = locks.decide(
            token,
            tokens.KeySet.from_json(self.keys_document),
            lock=self.lock_id,
            now=lock_time,
            revoked=revoked,
            tolerance=self.tolerance,
        )
        self.is_open = decision.open
        if decision.booking_id is not None and decision.reason != locks.WRONG_LOCK:
            self.log.append(
                {
                    "booking": decision.booking_id,
                    "event": locks.OPENED if decision.open else locks.REFUSED,
                    "at": lock_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    **({} if decision.open else {"reason": decision.reason}),
                }
            )
        return decision

    def take_log(self) -> list[dict[str, Any]]:
        log, self.log = self.log, []
        return log
