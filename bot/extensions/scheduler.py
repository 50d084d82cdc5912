"""The scheduler in `stadtlotse run`, and `stadtlotse jobs` / `stadtlotse jobs run NAME`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.bootstrap import App


async def run(app: App) -> None:
    """Among replicas one runs the jobs: the holder of the `scheduler` role."""
    from bot.roles import SCHEDULER
    from scheduler.runner import SchedulerService

    def changed(held: bool) -> None:
        app.roles[SCHEDULER] = held

    app.roles.setdefault(SCHEDULER, False)
    await SchedulerService(app.db, app.env).run_forever(on_change=changed)


def cli(commands: Any) -> None:
    jobs = commands.add_parser(
        "jobs", help="scheduled jobs: list them with last and next run, or run one now"
    )
    actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    run_one = actions.add_parser("run", help="run one job now (for the time machine's now)")
    run_one.add_argument("name", help="job name, see `stadtlotse jobs`")
    jobs.set_defaults(handler=jobs_command)


async def jobs_command(args: argparse.Namespace) -> int:
    from bot.bootstrap import build_app
    from scheduler.jobs import last_runs, load, run_job
    from storage.migrate import upgrade

    app = build_app(args.settings)
    try:
        await upgrade(app.db)
        registry = load()
        now = app.clock.now()
        if getattr(args, "jobs_command", None) == "run":
            job = registry.get(args.name)
            if job is None:
                print(f"stadtlotse: no job {args.name!r}; known: " + ", ".join(sorted(registry)))
                return 2
            outcome = await run_job(app.db, app.env, job, now)
            if outcome.ran:
                print(f"{job.name} ran for {outcome.period}: {outcome.result}")
            else:
                print(f"{job.name} already ran for {outcome.period}; nothing to do")
            return 0
        last = await last_runs(app.db)
        tz = app.city.tz
        print(f"{'job':<22} {'schedule':<18} {'last run':<36} next run")
        for name, job in sorted(registry.items()):
            trigger = job.when(app.city)
            run = last.get(name)
            done = (
                f"{run.period} at {run.started_at.astimezone(tz):%Y-%m-%d %H:%M}"
                if run
                else "never"
            )
            upcoming = trigger.next_run(now, tz).astimezone(tz)
            print(f"{name:<22} {trigger.describe():<18} {done:<40} {upcoming:%Y-%m-%d %H:%M %Z}")
        return 0
    finally:
        await app.close()
