"""APScheduler 3.11 (AsyncIOScheduler, MemoryJobStore) inside `stadtlotse run`.

Only the leader schedules. On becoming leader it first catches up: every job whose current
period has not run (the process was down at 00:05, say) runs once at once. A missed run while
sleeping coalesces into one run (misfire grace 6 h). Jobs take `now` from the app clock, so the
time machine (STADTLOTSE_NOW) applies to them too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from scheduler.jobs import Job, load, run_job
from scheduler.leader import Leader
from services.env import Env
from storage.db import Database
from storage.locks import hold_once, hold_role

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # how often the leader checks it still holds the lock
RETRY_SECONDS = 5.0  # how often a follower asks for the lock


class SchedulerService:
    def __init__(self, db: Database, env: Env, leader: Leader | None = None):
        self.db = db
        self.env = env
        self.city = env.city
        self.clock = env.clock
        self.leader = leader or Leader(db)
        self.scheduler: object | None = None

    async def fire(self, name: str) -> None:
        job = load()[name]
        try:
            await run_job(self.db, self.env, job, self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed; it runs again at its next time", name)

    async def catch_up(self) -> None:
        now = self.clock.now()
        for job in load().values():
            if job.when(self.city).due_today(now, self.city.tz):
                await self.fire(job.name)

    def start_scheduler(self) -> None:
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(
            timezone=self.city.tz,
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        )
        for job in load().values():
            self._add(scheduler, job)
        scheduler.start()
        self.scheduler = scheduler

    def _add(self, scheduler: object, job: Job) -> None:
        scheduler.add_job(  # type: ignore[attr-defined]
            self.fire,
            job.when(self.city).apscheduler(self.city.tz),
            args=[job.name],
            id=job.name,
            name=job.name,
            replace_existing=True,
        )

    def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
            self.scheduler = None

    async def lead(self) -> None:
        """The leader's work: catch up, then schedule until cancelled (the lock was lost)."""
        log.info("this process runs the scheduled jobs")
        try:
            await self.catch_up()
            self.start_scheduler()
            await asyncio.Event().wait()
        finally:
            self.stop_scheduler()

    async def lead_once(self) -> bool:
        """Try to become leader; if so, lead until the lock is lost."""
        return await hold_once(self.leader, self.lead, check=CHECK_SECONDS)

    async def run_forever(self, on_change: Callable[[bool], None] | None = None) -> None:
        await hold_role(
            self.leader, self.lead, on_change=on_change, retry=RETRY_SECONDS, check=CHECK_SECONDS
        )
