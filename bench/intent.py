"""How long the intent layer (flows/intent.py `classify`) takes per input: every utterance of
the test corpus, first seen (typo lookups not yet remembered) and seen again, plus the build of
the index at the first call. Pure CPU, no database. Run: python bench/intent.py"""

from __future__ import annotations

import time
import tomllib

from common import ROOT, percentile, save

import flows  # noqa: F401  (registers every flow's keywords)
from flows import intent


def corpus() -> list[str]:
    path = ROOT / "tests" / "conversation" / "intent_corpus.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [text for table in data.values() for texts in table.values() for text in texts]


def timed(texts: list[str]) -> list[float]:
    took = []
    for text in texts:
        started = time.perf_counter()
        intent.classify(text)
        took.append(time.perf_counter() - started)
    return took


def micro(values: list[float]) -> dict[str, float]:
    return {
        "p50_us": round(percentile(values, 50) * 1e6, 1),
        "p95_us": round(percentile(values, 95) * 1e6, 1),
        "max_us": round(max(values) * 1e6, 1),
        "mean_us": round(sum(values) / len(values) * 1e6, 1),
    }


def main() -> None:
    texts = corpus()
    started = time.perf_counter()
    intent.tables()
    build = time.perf_counter() - started
    first = timed(texts)
    again = [t for _ in range(20) for t in timed(texts)]
    save(
        "intent",
        {
            "inputs": len(texts),
            "index_build_ms": round(build * 1000, 1),
            "first_seen": micro(first),
            "seen_again": micro(again),
        },
    )


if __name__ == "__main__":
    main()
