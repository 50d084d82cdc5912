"""Prometheus metrics of one replica, served at GET /metrics.

Counters and histograms are fed by the database's observer (storage/observe.py): inputs,
job runs, payments, sends. Gauges are read when Prometheus scrapes: the outbox by channel and
status (a database count, cached for a few seconds so that many scrapers cost one query) and
which singleton roles this replica holds."""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401  (re-exported)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from storage.db import Database

OUTBOX_CACHE_SECONDS = 5.0
INPUT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)


class Metrics:
    """The metrics of one running program, in a registry of its own (tests build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.inputs = Counter(
            "stadtlotse_inputs",
            "Inputs (messages, button presses) handled",
            ["channel"],
            registry=r,
        )
        self.input_seconds = Histogram(
            "stadtlotse_input_seconds",
            "Time to handle one input, from receipt to replies ready",
            ["channel"],
            buckets=INPUT_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "stadtlotse_sends",
            "Notifications the outbox sender tried to deliver, by result (sent, throttled = 429, "
            "retry, unreachable, parked, failed)",
            ["channel", "outcome"],
            registry=r,
        )
        self.job_runs = Counter(
            "stadtlotse_job_runs",
            "Scheduled job runs (ok, skipped = period already done, failed)",
            ["job", "outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "stadtlotse_job_seconds",
            "Duration of scheduled job runs",
            ["job", "outcome"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.payments = Counter(
            "stadtlotse_payments",
            "Payments started and settled (paid, failed, expired, cancelled, refunded)",
            ["provider", "outcome"],
            registry=r,
        )
        self.outbox = Gauge(
            "stadtlotse_outbox_messages",
            "Notifications in the outbox by channel and status (the whole database)",
            ["channel", "status"],
            registry=r,
        )
        self.leader = Gauge(
            "stadtlotse_leader",
            "1 when this replica holds the singleton role (Telegram polling, Matrix sync, "
            "outbox sender, scheduler)",
            ["role"],
            registry=r,
        )
        self._outbox_read_at = -OUTBOX_CACHE_SECONDS

    # ------------------------------------------------------------ the Observer protocol
    def count(self, event: str, /, **labels: str) -> None:
        if event == "payment":
            self.payments.labels(labels.get("provider", ""), labels.get("outcome", "")).inc()
        elif event == "send":
            self.sends.labels(labels.get("channel", ""), labels.get("outcome", "")).inc()

    def timing(self, event: str, seconds: float, /, **labels: str) -> None:
        if event == "input":
            channel = labels.get("channel", "")
            self.inputs.labels(channel).inc()
            self.input_seconds.labels(channel).observe(seconds)
        elif event == "job":
            job, outcome = labels.get("job", ""), labels.get("outcome", "")
            self.job_runs.labels(job, outcome).inc()
            self.job_seconds.labels(job, outcome).observe(seconds)

    # ------------------------------------------------------------ read at scrape time
    def set_roles(self, roles: Mapping[str, bool]) -> None:
        for role, held in roles.items():
            self.leader.labels(role).set(1 if held else 0)

    async def refresh_outbox(self, db: Database) -> None:
        now = time.monotonic()
        if now - self._outbox_read_at < OUTBOX_CACHE_SECONDS:
            return
        from bot.sender.outbox import counts

        found = await counts(db)
        self.outbox.clear()
        for (channel, status), number in found.items():
            self.outbox.labels(channel, status).set(number)
        self._outbox_read_at = now

    def render(self) -> bytes:
        return generate_latest(self.registry)
