"""Background jobs: APScheduler wiring (scheduler.runner), one leader among replicas
(scheduler.leader), the job registry with run bookkeeping (scheduler.jobs), and the jobs
themselves (scheduler/tasks/<capability>.py). Jobs only call services."""
