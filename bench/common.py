"""Helpers shared by the benchmarks: databases, percentiles, writing results, and the Meter
that puts CPU time and statements per operation and the machine's load next to throughput.

    with Meter(db) as meter:          # or several databases: Meter(db1, db2)
        ... run `n` operations ...
    figures = meter.figures(n)         # per_second, cpu_ms_per_op, statements_per_op, load ...
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Database  # noqa: E402

RESULTS = ROOT / "bench" / "results"
POSTGRES_URL = os.environ.get(
    "STADTLOTSE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def load_average() -> float:
    """The machine's one-minute load average (other processes included)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


class Meter:
    """Wall time, CPU time of this process (and of child processes that ended meanwhile),
    SQL statements sent (BEGIN/COMMIT not counted) and the load average, sampled every second,
    while the block runs. `figures(n)` gives them per operation."""

    def __init__(self, *dbs: Database, sample_every: float = 1.0) -> None:
        self.engines = [db.engine.sync_engine for db in dbs]
        self.statements = 0
        self.transactions = 0
        self.sample_every = sample_every
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wall = self.cpu = 0.0

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:6].upper() not in ("BEGIN", "BEGIN ", "COMMIT"):
            self.statements += 1

    def _commit(self, conn: Any) -> None:
        self.transactions += 1

    def _sample(self) -> None:
        while not self._stop.wait(self.sample_every):
            self.loads.append(load_average())

    @staticmethod
    def _cpu_now() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def __enter__(self) -> Meter:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit)
        self.loads = [load_average()]
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._wall0, self._cpu0 = time.perf_counter(), self._cpu_now()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = self._cpu_now() - self._cpu0
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.loads.append(load_average())
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._statement)
            event.remove(engine, "commit", self._commit)

    def figures(self, operations: int, unit: str = "op") -> dict[str, Any]:
        n = max(1, operations)
        return {
            "operations": operations,
            "seconds": round(self.wall, 3),
            "per_second": round(operations / self.wall, 1) if self.wall else 0.0,
            f"cpu_ms_per_{unit}": round(self.cpu * 1000 / n, 3),
            "cpu_share_of_one_core": round(self.cpu / self.wall, 2) if self.wall else 0.0,
            f"statements_per_{unit}": round(self.statements / n, 2),
            f"transactions_per_{unit}": round(self.transactions / n, 2),
            "load_average": {
                "start": self.loads[0],
                "end": self.loads[-1],
                "max": max(self.loads),
                "mean": round(statistics.fmean(self.loads), 2),
            },
        }


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
