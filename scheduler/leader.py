"""One replica runs the jobs: the holder of the `scheduler` advisory lock (storage/locks.py),
taken on a connection of its own and held as long as that connection lives. On SQLite there is
one process, which leads."""

from __future__ import annotations

from storage.db import Database
from storage.locks import AdvisoryLock


class Leader(AdvisoryLock):
    def __init__(self, db: Database, key: int | None = None) -> None:
        super().__init__(db, "scheduler", key=key)

    @property
    def leading(self) -> bool:
        return self.held
