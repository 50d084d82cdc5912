"""Logging for `stadtlotse`: readable lines on a terminal, or with STADTLOTSE_LOG_FORMAT=json one
JSON object per line (time, level, logger, message, and the channel/conversation/case/job the
line is about) for a log collector. Log messages carry ids and outcomes, never what a resident
wrote or who they are; the context fields are ids only (services/log_context.py)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from services import log_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# library loggers that talk about every request (the database drivers with the values of every
# query, that is personal data, even at DEBUG): only their problems are written
NOISY = (
    "aiosqlite",
    "sqlalchemy.engine",
    "alembic",
    "apscheduler",
    "httpx",
    "httpcore",
    "telegram",
    "nio",
    "uvicorn.access",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, "context", None)
        if isinstance(context, dict):
            line.update(context)
        for name in log_context.FIELDS:  # given as extra={"case": ...} on one call
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Context(logging.Filter):
    """Attach the task's log context when the line is written (not when formatted later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = log_context.current()
        return True


def configure(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
        handler.addFilter(_Context())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
