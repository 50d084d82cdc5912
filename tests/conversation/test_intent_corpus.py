"""The intent corpus: what people write and where it must lead (intent_corpus.toml). Reports
the accuracy per language (run with -s to see it) and fails below 95 % in either language."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from flows.intent import classify

CORPUS = Path(__file__).with_name("intent_corpus.toml")
REQUIRED = 0.95


def corpus() -> dict[str, list[tuple[str, str]]]:
    data = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    return {
        lang: [(text, want) for want, texts in table.items() for text in texts]
        for lang, table in data.items()
    }


def reached(want: str, text: str) -> tuple[bool, str]:
    found = classify(text)
    if want.endswith(":*"):
        return found.action == want[:-2], found.destination
    return found.destination == want, found.destination


def test_the_corpus_is_big_enough_and_covers_both_languages() -> None:
    cases = corpus()
    assert set(cases) == {"de", "en"}
    assert sum(len(v) for v in cases.values()) >= 400
    assert min(len(v) for v in cases.values()) >= 150


@pytest.mark.parametrize("lang", ["de", "en"])
def test_accuracy_per_language(lang: str) -> None:
    cases = corpus()[lang]
    wrong = []
    for text, want in cases:
        ok, got = reached(want, text)
        if not ok:
            wrong.append(f"{text!r}: {got} (want {want})")
    accuracy = 1 - len(wrong) / len(cases)
    print(f"\nintent corpus [{lang}]: {len(cases) - len(wrong)}/{len(cases)} = {accuracy:.1%}")
    for line in wrong:
        print("  wrong:", line)
    assert accuracy >= REQUIRED, "\n".join(wrong)


def test_every_destination_is_a_registered_action() -> None:
    from flows.registry import REGISTRY

    for lang_cases in corpus().values():
        for _text, want in lang_cases:
            action = want.split(":", 1)[0]
            assert REGISTRY.action(action) is not None, want
