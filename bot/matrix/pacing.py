"""Per-room and overall pacing of what the bot sends (generic cell rate algorithm).

A room may get `room_burst` messages at once, then `room_rate` per second; all rooms together
get `send_rate` per second. `wait(room)` tells how long to hold a message back; `book(room)`
takes the slot. Time is the monotonic clock of this process (injectable for tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        room_rate: float = 1.0,
        room_burst: int = 5,
        send_rate: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.room_interval = 1.0 / room_rate
        self.room_tolerance = (room_burst - 1) * self.room_interval
        self.send_interval = 1.0 / send_rate
        self.send_tolerance = max(0.0, send_rate - 1) * self.send_interval
        self.clock = clock
        self._rooms: dict[str, float] = {}  # theoretical arrival time per room
        self._all = 0.0

    def wait(self, room: str) -> float:
        now = self.clock()
        room_at = self._rooms.get(room, now) - self.room_tolerance
        all_at = self._all - self.send_tolerance
        return max(0.0, room_at - now, all_at - now)

    def book(self, room: str) -> None:
        now = self.clock()
        self._rooms[room] = max(self._rooms.get(room, now), now) + self.room_interval
        self._all = max(self._all, now) + self.send_interval
        if len(self._rooms) > 10_000:  # forget rooms whose budget is full again
            self._rooms = {r: t for r, t in self._rooms.items() if t > now}
