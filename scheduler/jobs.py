"""The job registry and how one job runs.

A capability adds a job with one line in scheduler/tasks/<capability>.py:

    register(Job("vouchers.remind", daily(9, 0), remind_expiring))

where `async def remind_expiring(uow, env, now) -> object` calls services and returns a short
report; `env` is the running program's Env (city, payment provider, notifier ...). Every run
records (job, period) in `job_run` in the same transaction as the job's work, so a period runs
at most once, on one replica, even when two try at the same moment; a run that fails records
nothing and is tried again. Daily periods are local dates (city time zone).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time as timer
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from services import log_context
from services.city import City
from services.env import Env
from storage.db import Database
from storage.models.scheduler import JobRun
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

JobFn = Callable[[UnitOfWork, Env, datetime], Awaitable[object]]
KEEP_FREQUENT_RUNS = timedelta(days=2)


@dataclass(frozen=True)
class Trigger:
    """When a job runs: daily at a local time, or every N minutes."""

    kind: str  # "daily" | "every"
    hour: int = 0
    minute: int = 0
    minutes: int = 0

    def period(self, now: datetime, tz: ZoneInfo) -> str:
        if self.kind == "daily":
            return now.astimezone(tz).date().isoformat()
        utc = now.astimezone(UTC)
        floored = (
            utc.replace(minute=utc.minute - utc.minute % self.minutes, second=0, microsecond=0)
            if self.minutes <= 60
            else utc
        )
        return floored.strftime("%Y-%m-%dT%H:%MZ")

    def due_today(self, now: datetime, tz: ZoneInfo) -> bool:
        """Has today's (this interval's) time come? Used to catch up after a restart."""
        if self.kind != "daily":
            return True
        return now.astimezone(tz).time() >= time(self.hour, self.minute)

    def next_run(self, now: datetime, tz: ZoneInfo) -> datetime:
        if self.kind == "daily":
            local = now.astimezone(tz)
            at = datetime.combine(local.date(), time(self.hour, self.minute), tz)
            if at <= local:
                at = datetime.combine(
                    local.date() + timedelta(days=1), time(self.hour, self.minute), tz
                )
            return at
        utc = now.astimezone(UTC).replace(second=0, microsecond=0)
        return utc + timedelta(minutes=self.minutes - utc.minute % self.minutes)

    def apscheduler(self, tz: ZoneInfo) -> Any:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.kind == "daily":
            return CronTrigger(hour=self.hour, minute=self.minute, timezone=tz)
        return IntervalTrigger(minutes=self.minutes, timezone=tz)

    def describe(self) -> str:
        if self.kind == "daily":
            return f"daily at {self.hour:02d}:{self.minute:02d}"
        return f"every {self.minutes} min" if self.minutes != 1 else "every minute"


def daily(hour: int, minute: int = 0) -> Trigger:
    return Trigger("daily", hour=hour, minute=minute)


def every(minutes: int) -> Trigger:
    if not 1 <= minutes <= 60 or 60 % minutes:
        raise ValueError("every(minutes) needs a divisor of 60")
    return Trigger("every", minutes=minutes)


@dataclass(frozen=True)
class Job:
    name: str
    trigger: Trigger | Callable[[City], Trigger]  # or taken from the city configuration
    fn: JobFn
    description: str = ""

    def when(self, city: City) -> Trigger:
        return self.trigger if isinstance(self.trigger, Trigger) else self.trigger(city)


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    if job.name in JOBS and JOBS[job.name].fn is not job.fn:
        raise ValueError(f"job {job.name!r} registered twice")
    JOBS[job.name] = job
    return job


def load() -> dict[str, Job]:
    """Every job: imports scheduler/tasks/*.py once."""
    from scheduler import tasks

    for module in pkgutil.iter_modules(tasks.__path__):
        importlib.import_module(f"{tasks.__name__}.{module.name}")
    return JOBS


@dataclass(frozen=True)
class Outcome:
    job: str
    period: str
    ran: bool
    result: str = ""


async def run_job(db: Database, env: Env, job: Job, now: datetime) -> Outcome:
    """Run `job` for the period `now` falls in, unless that period ran already. Reports the run
    to the database's observer (stadtlotse_job_runs_total, stadtlotse_job_seconds)."""
    started = timer.perf_counter()
    outcome = "failed"
    try:
        with log_context.bind(job=job.name):
            result = await _run_job(db, env, job, now)
        outcome = "ok" if result.ran else "skipped"
        return result
    finally:
        db.observer.timing("job", timer.perf_counter() - started, job=job.name, outcome=outcome)


async def _run_job(db: Database, env: Env, job: Job, now: datetime) -> Outcome:
    city = env.city
    trigger = job.when(city)
    period = trigger.period(now, city.tz)
    async with db.uow() as uow:
        record = JobRun(job=job.name, period=period, started_at=now)
        try:
            async with uow.session.begin_nested():
                uow.session.add(record)
                await uow.session.flush()
        except IntegrityError:
            return Outcome(job.name, period, ran=False)
        result = await job.fn(uow, env, now)
        record.finished_at = now
        record.result = str(result if result is not None else "")[:500]
        if trigger.kind != "daily":
            oldest = trigger.period(now - KEEP_FREQUENT_RUNS, city.tz)
            await uow.session.execute(
                delete(JobRun).where(JobRun.job == job.name, JobRun.period < oldest)
            )
        await uow.commit()
    log.info("job %s ran for %s: %s", job.name, period, record.result)
    return Outcome(job.name, period, ran=True, result=record.result)


async def last_runs(db: Database) -> dict[str, JobRun]:
    async with db.uow() as uow:
        newest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
        rows = await uow.session.execute(select(JobRun).join(newest, newest.c.id == JobRun.id))
        found = {run.job: run for run in rows.scalars()}
        uow.session.expunge_all()  # plain values from here on (the session rolls back)
        return found
