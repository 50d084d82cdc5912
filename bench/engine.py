"""The conversation engine under load: 1,000 simulated residents each walk a 6-step form through
the in-process console channel, with 50 talking at the same time, on SQLite and PostgreSQL.
Reports inputs per second, p50/p95 latency, CPU milliseconds and SQL statements per input (and
per `/menu` and per form step, counted alone), with the machine's load average; then 10,000
residents are left in the middle of the form and the growth of the program's resident memory
(RSS) is measured: their state lives in the database, so memory must not grow with them.

    python bench/engine.py [--residents 1000] [--concurrency 50] [--idle 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import Meter, fresh_database, postgres_available, run, save, summary_ms

import flows  # noqa: F401
from flows import fields
from flows.context import Ctx
from flows.forms import Choice, Field, Form, open_form, register_form
from flows.registry import Router
from flows.types import Inbound
from handlers.dispatch import Dispatcher
from services.city import load_city
from services.clock import FrozenClock
from services.env import Env

SUBMITTED: list[int] = []


async def _submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    SUBMITTED.append(ctx.citizen_id)
    ctx.say(ctx.t("Saved."))


register_form(
    Form(
        key="bench",
        title="Bench form",
        submit=_submit,
        fields=[
            Field("first", "Please enter your first name.", parse=fields.name),
            Field("last", "Please enter your last name.", parse=fields.name),
            Field("email", "Please enter your e-mail address.", parse=fields.email),
            Field(
                "street",
                "Please enter street and house number, for example Rathausplatz 1.",
                parse=fields.street,
            ),
            Field(
                "postal",
                "Please enter your postal code, for example 48683.",
                parse=fields.postal_code,
            ),
            Field(
                "lang",
                "Which language would you like?",
                kind="choice",
                choices=[Choice("de", "Deutsch"), Choice("en", "English")],
            ),
        ],
    )
)
router = Router("bench")


@router.command("benchform")
async def _open(ctx: Ctx, args: str) -> None:
    await open_form(ctx, "bench")


ANSWERS = ["Anna", "Schulte", "anna@example.org", "Marktstraße 7", "48683", "2", "1"]


def inbound(user: str, text: str, n: int) -> Inbound:
    if text.startswith("/"):
        return Inbound(
            channel="bench",
            user_id=user,
            chat_id=user,
            kind="command",
            command=text[1:],
            key=f"{user}:{n}",
        )
    return Inbound(
        channel="bench", user_id=user, chat_id=user, kind="text", text=text, key=f"{user}:{n}"
    )


async def walk(dispatcher: Dispatcher, user: str, steps: list[str], latencies: list[float]) -> None:
    for n, text in enumerate(steps):
        started = time.perf_counter()
        replies = await dispatcher.handle(inbound(user, text, n))
        latencies.append(time.perf_counter() - started)
        assert replies, f"no answer to {text!r}"


async def single_inputs(dispatcher: Dispatcher, db: Any) -> dict[str, int]:
    """Statements of one `/menu` and of one form step (a text answer), each counted alone."""
    await walk(dispatcher, "single-menu", ["/menu"], [])
    with Meter(db) as menu:
        await dispatcher.handle(inbound("single-menu", "/menu", 1))
    await walk(dispatcher, "single-form", ["/benchform"], [])
    with Meter(db) as step:
        replies = await dispatcher.handle(inbound("single-form", ANSWERS[0], 1))
    assert "(2/6)" in replies[-1].text, replies
    return {"statements_menu": menu.statements, "statements_form_step": step.statements}


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def measure(kind: str, residents: int, concurrency: int, idle: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp())
    db, cleanup = await fresh_database(kind, workdir)
    city = load_city()
    clock = FrozenClock(datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Europe/Berlin")))
    dispatcher = Dispatcher(db, Env(city, clock))
    SUBMITTED.clear()
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            await walk(dispatcher, f"r{i}", ["/benchform", *ANSWERS], latencies)

    with Meter(db) as meter:
        await asyncio.gather(*(one(i) for i in range(residents)))
    assert len(SUBMITTED) == residents, f"only {len(SUBMITTED)} of {residents} forms were sent"
    measured = meter.figures(len(latencies), "input")
    figures: dict[str, Any] = {
        "residents": residents,
        "inputs": len(latencies),
        "seconds": measured.pop("seconds"),
        "inputs_per_second": measured.pop("per_second"),
        **summary_ms(latencies),
        **measured,
        **await single_inputs(dispatcher, db),
    }

    # memory: residents left in the middle of the form (after the first two answers)
    gc.collect()
    before = rss_bytes()
    idle_latencies: list[float] = []

    async def half(i: int) -> None:
        async with semaphore:
            await walk(dispatcher, f"idle{i}", ["/benchform", *ANSWERS[:2]], idle_latencies)

    started = time.perf_counter()
    await asyncio.gather(*(half(i) for i in range(idle)))
    idle_elapsed = time.perf_counter() - started
    gc.collect()
    growth = rss_bytes() - before
    figures.update(
        {
            "idle_conversations": idle,
            "idle_inputs_per_second": round(len(idle_latencies) / idle_elapsed, 1),
            "rss_before_idle_mb": round(before / 2**20, 1),
            "idle_seconds": round(idle_elapsed, 1),
            "memory_growth_bytes": growth,
            "memory_growth_per_conversation_bytes": round(growth / idle, 1),
            "locks_held_after": len(dispatcher.locks),
        }
    )
    await cleanup()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--idle", type=int, default=10000)
    args = parser.parse_args()
    results: dict[str, Any] = {"form_steps": 6}
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    for kind in kinds:
        print(f"measuring {kind} ...", flush=True)
        results[kind] = await measure(kind, args.residents, args.concurrency, args.idle)
    if "postgresql" not in kinds:
        results["postgresql"] = "not reachable: skipped"
    save("engine", results)


if __name__ == "__main__":
    run(main)
