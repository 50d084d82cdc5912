"""Fuzzing: random inputs through every command, action, step and deep link (tests/support/
fuzz.py), on SQLite and PostgreSQL, counting unhandled errors, empty replies and replies in the
wrong language. The property test does a few thousand in CI; this does 20,000 per database.

    .venv/bin/python bench/fuzz.py [--inputs 20000] [--seed N] [--no-postgres | --no-sqlite]
        [--name fuzz]

Prints the counts and writes bench/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import fresh_database, postgres_available, save  # noqa: E402  # isort: skip
from tests.support.fuzz import Counts, Fuzzer, RandomDraw, report  # noqa: E402

START = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


async def fuzz(kind: str, inputs: int, seed: int, workdir: Path) -> dict[str, object]:
    db, cleanup = await fresh_database(kind, workdir)
    fuzzer = await Fuzzer.start(db, START)
    draw = RandomDraw(random.Random(seed))
    counts = Counts()
    began = time.perf_counter()
    try:
        for number in range(1, inputs + 1):
            counts.add(await fuzzer.one(draw))
            if number % 2000 == 0:
                rate = number / (time.perf_counter() - began)
                print(f"{kind}: {number} inputs, {counts.problems} problems ({rate:.0f}/s)")
    finally:
        await fuzzer.close()
        await cleanup()
    seconds = time.perf_counter() - began
    print(f"--- {kind}, seed {seed}\n{report(counts)}")
    return {
        "inputs": counts.inputs,
        "problems": counts.problems,
        "unhandled_errors": counts.problem_kinds.get("error logged", 0),
        "apologies": counts.problem_kinds.get("apology", 0),
        "empty_replies": counts.problem_kinds.get("no reply", 0),
        "wrong_language": sum(n for k, n in counts.problem_kinds.items() if k.startswith("not in")),
        "by_kind": dict(sorted(counts.kinds.items())),
        "examples": counts.examples,
        "seconds": round(seconds, 1),
        "inputs_per_second": round(counts.inputs / seconds, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--name", default="fuzz", help="results file (bench/results/NAME.json)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"fuzz: seed {seed} (repeat with --seed {seed})")
    figures: dict[str, object] = {"seed": seed}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            figures["sqlite"] = await fuzz("sqlite", args.inputs, seed, Path(tmp))
        if not args.no_postgres and await postgres_available():
            figures["postgresql"] = await fuzz("postgresql", args.inputs, seed, Path(tmp))
        elif not args.no_postgres:
            print("fuzz: PostgreSQL not reachable, skipped")
    save(args.name, figures)


if __name__ == "__main__":
    asyncio.run(main())
