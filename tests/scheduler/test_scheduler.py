"""The scheduler: periods run once, catch-up after downtime, one leader among replicas."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.jobs import Job, daily, every, run_job
from scheduler.leader import Leader
from scheduler.runner import SchedulerService
from services.city import City
from services.clock import FrozenClock
from services.env import Env
from storage.db import Database
from storage.models.scheduler import JobRun
from storage.uow import UnitOfWork
from tests.conftest import BERLIN, postgres_database
from tests.support.env import env_with

CALLS: list[str] = []


async def count_call(uow: UnitOfWork, env: Env, now: datetime) -> object:
    CALLS.append(now.isoformat())
    await asyncio.sleep(0.05)  # let a rival replica try meanwhile (not waiting for time to pass)
    return "counted"


TEST_JOB = Job("test.count", daily(0, 5), count_call)


@pytest.fixture(autouse=True)
def registered() -> None:
    jobs.load()
    jobs.register(TEST_JOB)
    CALLS.clear()
    yield
    jobs.JOBS.pop("test.count", None)


def test_periods_and_next_runs_in_berlin() -> None:
    tz = BERLIN
    night = datetime(2027, 3, 28, 0, 30, tzinfo=tz)  # the night of the March switch
    assert daily(0, 5).period(night, tz) == "2027-03-28"
    assert daily(0, 5).next_run(night, tz) == datetime(2027, 3, 29, 0, 5, tzinfo=tz)
    assert daily(3, 0).next_run(night, tz) == datetime(2027, 3, 28, 3, 0, tzinfo=tz)
    assert every(5).period(datetime(2026, 11, 25, 10, 7, tzinfo=tz), tz) == "2026-11-25T09:05Z"
    assert not daily(0, 5).due_today(datetime(2026, 11, 25, 0, 4, tzinfo=tz), tz)
    with pytest.raises(ValueError):
        every(7)


async def test_a_period_runs_once_and_catch_up_runs_once(db: Database, city: City) -> None:
    now = datetime(2026, 11, 25, 0, 5, tzinfo=BERLIN)
    assert (await run_job(db, env_with(city=city), TEST_JOB, now)).ran
    assert not (await run_job(db, env_with(city=city), TEST_JOB, now + timedelta(hours=20))).ran
    # the process was down for three nights; on start it catches up once, for today
    clock = FrozenClock(now + timedelta(days=3, hours=9))
    service = SchedulerService(db, env_with(city=city, clock=clock))
    await service.catch_up()
    await service.catch_up()
    assert len(CALLS) == 2
    async with db.uow() as uow:
        periods = (
            (
                await uow.session.execute(
                    select(JobRun.period).where(JobRun.job == "test.count").order_by(JobRun.id)
                )
            )
            .scalars()
            .all()
        )
    assert periods == ["2026-11-25", "2026-11-28"]


async def test_apscheduler_gets_every_job(db: Database, city: City) -> None:
    service = SchedulerService(
        db, env_with(city=city, clock=FrozenClock(datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)))
    )
    service.start_scheduler()
    try:
        scheduled = {job.id for job in service.scheduler.get_jobs()}  # type: ignore[attr-defined]
        assert {"auction.daily", "auction.reservations", "test.count"} <= scheduled
    finally:
        service.stop_scheduler()


@pytest.mark.postgres
async def test_two_schedulers_on_one_postgres_run_a_job_once(db: Database, city: City) -> None:
    if db.is_sqlite:
        pytest.skip("leader election is a PostgreSQL matter; SQLite has one process")
    other = postgres_database()  # a second replica: its own engine and connections
    key = random.randint(1, 2**40)
    first, second = Leader(db, key), Leader(other, key)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.still_held()
        # both replicas fire the same job at the same moment: it runs once
        now = datetime(2026, 11, 26, 0, 5, tzinfo=BERLIN)
        outcomes = await asyncio.gather(
            run_job(db, env_with(city=city), TEST_JOB, now),
            run_job(other, env_with(city=city), TEST_JOB, now),
        )
        assert sorted(o.ran for o in outcomes) == [False, True]
        assert len(CALLS) == 1
        # the leader's connection dies: it notices and stops; the other takes over
        await first._conn.invalidate()  # type: ignore[union-attr]
        assert not await first.still_held()
        assert await second.acquire()
        assert not await first.acquire()
    finally:
        await first.release()
        await second.release()
        await other.dispose()
    async with db.uow() as uow:
        runs = await uow.session.execute(select(func.count()).select_from(JobRun))
        assert runs.scalar_one() == 1


async def test_leading_process_schedules_until_stopped(db: Database, city: City) -> None:
    if not db.is_sqlite:
        pytest.skip("covered with real leader election above")
    service = SchedulerService(
        db, env_with(city=city, clock=FrozenClock(datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)))
    )
    task = asyncio.create_task(service.lead_once())
    for _ in range(500):  # wait for its database work (a thread with aiosqlite), not for time
        if service.scheduler is not None:
            break
        await asyncio.sleep(0.01)
    assert service.scheduler is not None and len(CALLS) == 1  # caught up today's run
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert service.scheduler is None and not service.leader.leading


async def test_every_registered_job_runs_on_an_empty_database(db: Database) -> None:
    """A job that calls a service by a wrong name, or with wrong arguments, fails here rather
    than at night in production."""
    from scheduler.jobs import load, run_job
    from services.city import load_city

    city = load_city()
    now = datetime(2026, 11, 25, 10, tzinfo=BERLIN)
    registry = load()
    assert {
        "auction.daily",
        "payments.expire",
        "vouchers.remind",
        "events.remind",
        "housekeeping",
    } <= set(registry)
    for job in registry.values():
        outcome = await run_job(db, env_with(city=city), job, now)
        assert outcome.ran, job.name
