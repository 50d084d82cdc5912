"""Counting what happens without a metrics library below bot/: services, handlers and jobs
report events to an `Observer`; the running program plugs in one that feeds Prometheus
(bot/metrics.py). Label values are short names (a channel, a job, an outcome), never personal
data."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def count(self, event: str, /, **labels: str) -> None:
        """One `event` happened (a payment settled, a message sent)."""
        ...

    def timing(self, event: str, seconds: float, /, **labels: str) -> None:
        """One `event` happened and took `seconds` (an input handled, a job run)."""
        ...


class Unobserved:
    """The observer of tools, tests and benchmarks: events are not recorded anywhere."""

    def count(self, event: str, /, **labels: str) -> None:
        return None

    def timing(self, event: str, seconds: float, /, **labels: str) -> None:
        return None
