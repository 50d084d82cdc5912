"""Benchmark: Open311 `GET requests.json` with 10,000 defect reports in the database.

10,000 reports of the last 80 days around Ahaus (a fifth of them from chat residents, some with
public notes), then each request timed through the whole web app in process (FastAPI, the query,
the scrubbing of descriptions, JSON): the default list (newest 1,000 of the last 90 days), all
10,000 at once (`limit=10000`), one category and status, a list of ids, one report, and the
same default list as XML. On SQLite and, where reachable, PostgreSQL.

    python bench/defects_api.py              # both databases
    python bench/defects_api.py --reports 50000 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert

from common import fresh_database, postgres_available, run, save, summary_ms  # isort: skip

import flows  # noqa: F401
import storage.models  # noqa: F401
from bot.bootstrap import build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.city import load_city
from services.clock import FrozenClock
from services.defects.states import DONE, IN_PROGRESS, NOT_OURS, SUBMITTED
from storage.models.defects import DefectEvent, DefectReport
from storage.models.identity import Citizen

START = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
CATEGORIES = ["lighting", "roads", "waste", "green", "signs", "other"]
STREETS = ["Marktstraße", "Wallstraße", "Kirchstraße", "Coesfelder Straße", "Wüllener Straße"]


async def fill(db: Any, total: int) -> None:
    rng = random.Random(11)
    now = START
    async with db.uow() as uow:
        await uow.session.execute(
            insert(Citizen),
            [
                {
                    "first_name": f"Person{i}",
                    "last_name": "Muster",
                    "language": "de",
                    "created_at": now,
                }
                for i in range(500)
            ],
        )
        rows = []
        for number in range(total):
            created = now - timedelta(minutes=rng.randrange(80 * 24 * 60))
            status = rng.choice([SUBMITTED, SUBMITTED, IN_PROGRESS, DONE, NOT_OURS])
            closed = status in (DONE, NOT_OURS)
            rows.append(
                {
                    "token": f"T{number:015d}",
                    "citizen_id": rng.randrange(1, 501) if number % 5 == 0 else None,
                    "source": "chat" if number % 5 == 0 else "api",
                    "client": None if number % 5 == 0 else "bench-app",
                    "category": rng.choice(CATEGORIES),
                    "department": "bauhof",
                    "status": status,
                    "lat": 52.05 + rng.random() * 0.05,
                    "lon": 6.98 + rng.random() * 0.06,
                    "address": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}",
                    "zipcode": "48683",
                    "description": "Laterne flackert, Tel. 02561 1234 – bitte prüfen",
                    "attributes": {},
                    "contact": {"email": "x@example.org"},
                    "confirmations": rng.randrange(4),
                    "status_note": "Erledigt." if closed else None,
                    "created_at": created,
                    "updated_at": created,
                    "closed_at": created + timedelta(days=1) if closed else None,
                }
            )
        for start in range(0, total, 2000):
            await uow.session.execute(insert(DefectReport), rows[start : start + 2000])
        await uow.session.execute(
            insert(DefectEvent),
            [
                {
                    "report_id": number,
                    "at": now,
                    "kind": "closed",
                    "status": DONE,
                    "text": "Erledigt.",
                    "public": True,
                }
                for number in range(1, total + 1, 3)
            ],
        )
        await uow.commit()


async def measure(kind: str, total: int, rounds: int, workdir: Path) -> dict[str, Any]:
    db, cleanup = await fresh_database(kind, workdir)
    try:
        started = time.perf_counter()
        await fill(db, total)
        filled = time.perf_counter() - started
        settings = Settings(public_url="https://ahaus.example", _env_file=None)  # type: ignore[call-arg]
        app = build_app(settings, clock=FrozenClock(START), db=db, city=load_city())
        transport = httpx.ASGITransport(app=create_web_app(app))
        figures: dict[str, Any] = {
            "reports": total,
            "fill_seconds": round(filled, 1),
            "load_average_before": [round(x, 1) for x in os.getloadavg()],
        }
        paths = {
            "default_list_json": "/open311/v2/requests.json",
            "all_10000_json": f"/open311/v2/requests.json?limit={min(total, 10000)}",
            "code_and_status_json": "/open311/v2/requests.json?service_code=lighting&status=open",
            "ids_json": "/open311/v2/requests.json?service_request_id="
            + ",".join(str(n) for n in range(1, 200, 10)),
            "one_json": "/open311/v2/requests/4711.json",
            "default_list_xml": "/open311/v2/requests.xml",
        }
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, path in paths.items():
                times = []
                size = count = 0
                for _ in range(rounds):
                    began = time.perf_counter()
                    response = await client.get(path)
                    times.append(time.perf_counter() - began)
                    assert response.status_code == 200, response.text[:200]
                    size = len(response.content)
                    if ".json" in path:
                        count = len(response.json())
                    else:
                        count = response.content.count(b"<request>")
                figures[name] = {**summary_ms(times), "records": count, "bytes": size}
                print(f"{kind:>10} {name:<22} {figures[name]}")
        return figures
    finally:
        await cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await measure("sqlite", args.reports, args.rounds, Path(folder))
        if await postgres_available():
            results["postgresql"] = await measure(
                "postgresql", args.reports, args.rounds, Path(folder)
            )
        else:
            results["postgresql"] = "not reachable"
    results["load_average_after"] = [round(x, 1) for x in os.getloadavg()]  # a shared machine
    save("defects_api", results)


if __name__ == "__main__":
    run(main)
