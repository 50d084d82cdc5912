"""What the log lines of the current task are about: the channel, conversation, case or job.
Handlers and jobs `bind` these ids; the JSON log format (bot/logs.py) adds them to every line.
Only ids and short names go here, never what a resident wrote or who they are."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

FIELDS = ("channel", "conversation", "case", "job")

_current: ContextVar[dict[str, str]] = ContextVar("stadtlotse_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def bind(**fields: object) -> Iterator[None]:
    """Within the block (and tasks started in it), log lines carry these fields."""
    token = _current.set(_merged(fields))
    try:
        yield
    finally:
        _current.reset(token)


def add(**fields: object) -> None:
    """Add fields for the rest of the current task (until the enclosing `bind` ends)."""
    _current.set(_merged(fields))


def current() -> dict[str, str]:
    return _current.get()


def _merged(fields: dict[str, object]) -> dict[str, str]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"log context takes only {', '.join(FIELDS)}, not {sorted(unknown)}")
    merged = dict(_current.get())
    merged.update({k: str(v) for k, v in fields.items() if v is not None and v != ""})
    return merged
