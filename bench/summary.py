"""The figures the hot-path goals are judged by, gathered from the other benchmarks' results
into bench/results/summary.json: a list of {"name", "value", "unit", "goal", "database"} (plus
"met", the load average measured during the run where the benchmark recorded it, and "source").
`make bench` runs it last; on its own it summarises whatever results are there.

    python bench/summary.py
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def load(name: str) -> Any:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def find(data: Any, wanted: Callable[[str], bool]) -> Any:
    """The first value (depth first) whose key `wanted` accepts."""
    if isinstance(data, dict):
        for key, value in data.items():
            if wanted(key) and not isinstance(value, (dict, list)):
                return value
        for value in data.values():
            found = find(value, wanted)
            if found is not None:
                return found
    if isinstance(data, list):
        for value in data:
            found = find(value, wanted)
            if found is not None:
                return found
    return None


def run_of(data: Any, database: str) -> Any:
    """The part of a result file that belongs to one database, in any of the layouts used."""
    if data is None:
        return None
    if isinstance(data, dict) and database in data:
        return data[database]
    runs = data.get("runs") or data.get("results") if isinstance(data, dict) else data
    for run in runs or []:
        if isinstance(run, dict) and run.get("database") == database:
            return run
    if isinstance(data, dict) and str(data.get("database", "")).startswith(database):
        return data
    return None


def entry(
    name: str,
    value: Any,
    unit: str,
    goal: str,
    database: str,
    source: str,
    run: Any = None,
) -> dict[str, Any]:
    sign, target = goal.split(" ")
    compare = {">=": operator.ge, "<=": operator.le}[sign]
    met = None if value is None else bool(compare(float(value), float(target)))
    item = {"name": name, "value": value, "unit": unit, "goal": goal, "database": database}
    item |= {"met": met, "source": source}
    load_average = find(run, lambda key: key == "load_average") if run is not None else None
    if load_average is None and isinstance(run, dict):
        for value_ in run.values():
            if isinstance(value_, dict) and isinstance(value_.get("load_average"), dict):
                load_average = value_["load_average"]
                break
    if load_average is not None:
        item["load_average"] = load_average
    return item


def summary() -> list[dict[str, Any]]:
    out = []
    engine = run_of(load("engine"), "postgresql")
    out.append(
        entry(
            "engine_inputs_pg",
            find(engine, lambda k: k == "inputs_per_second"),
            "inputs/s",
            ">= 500",
            "postgresql",
            "bench/engine.py",
            engine,
        )
    )
    out.append(
        entry(
            "engine_statements_form_step_pg",
            find(engine, lambda k: "statement" in k and "form" in k),
            "statements",
            "<= 6",
            "postgresql",
            "bench/engine.py",
            engine,
        )
    )
    telegram = load("telegram_inbound_postgresql") or load("telegram_inbound")
    out.append(
        entry(
            "telegram_inbound_ratio",
            find(telegram, lambda k: k == "throughput_ratio"),
            "ratio to a bare PTB echo bot",
            ">= 0.5",
            str((telegram or {}).get("database", "postgresql")).split("+")[0],
            "bench/telegram_inbound.py",
            telegram,
        )
    )
    vouchers = run_of(load("vouchers"), "postgresql")
    redemptions = (vouchers or {}).get("redemptions")
    out.append(
        entry(
            "voucher_redemptions_pg",
            find(redemptions, lambda k: k == "per_second"),
            "redemptions/s",
            ">= 500",
            "postgresql",
            "bench/vouchers.py",
            redemptions,
        )
    )
    auction = run_of(load("auction_day"), "postgresql")
    out.append(
        entry(
            "auction_daily_step_pg_s",
            find(auction, lambda k: k == "daily_step_seconds"),
            "s",
            "<= 2.0",
            "postgresql",
            "bench/auction_day.py",
            auction,
        )
    )
    broadcast = run_of(load("broadcast_configured"), "postgresql")
    out.append(
        entry(
            "broadcast_share_of_limit",
            find(broadcast, lambda k: k == "share_of_limit"),
            f"share of {find(broadcast, lambda k: k == 'limit_per_second')}/s",
            ">= 0.97",
            "postgresql",
            "bench/broadcast.py --rate configured",
            broadcast,
        )
    )
    return out


def main() -> None:
    figures = summary()
    target = RESULTS / "summary.json"
    target.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for item in figures:
        mark = {True: "ok ", False: "NOT", None: " ? "}[item["met"]]
        print(f"{mark} {item['name']:<32} {item['value']!s:>10} {item['unit']:<30} {item['goal']}")
    print(f"written to {target}")


if __name__ == "__main__":
    main()
