"""Helpers shared by the benchmarks: databases, percentiles, writing results."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Database  # noqa: E402

RESULTS = ROOT / "bench" / "results"
POSTGRES_URL = os.environ.get(
    "STADTLOTSE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else 0.0,
    }


async def postgres_available() -> bool:
    try:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


async def fresh_database(kind: str, workdir: Path) -> tuple[Database, Any]:
    """A new empty database with every table; returns (db, cleanup coroutine factory)."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.create_all()

        async def cleanup() -> None:
            await db.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return db, cleanup
    schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(
        POSTGRES_URL,
        connect_args={"server_settings": {"search_path": schema}},
        pool_size=20,
        max_overflow=20,
    )
    await db.create_all()

    async def cleanup_pg() -> None:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()

    return db, cleanup_pg


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "benchmark": name,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        **figures,
    }
    target = RESULTS / f"{name}.json"
    target.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"written to {target}")
    return target


def run(main: Any) -> None:
    asyncio.run(main())


# ----------------------------------------------------------------------- cost per operation
class StatementCounter:
    """Counts the SQL statements a database runs (SQLAlchemy `before_cursor_execute`; BEGIN and
    COMMIT go through the driver's own calls on PostgreSQL and are not counted there)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.count = 0

    def _seen(self, *args: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.db.engine.sync_engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", self._seen)


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load average: other work on the machine skews a figure."""
    return [round(value, 2) for value in os.getloadavg()]


def cpu_seconds() -> float:
    """CPU time of this process, all threads (the SQLite driver works in a thread)."""
    return time.process_time()
