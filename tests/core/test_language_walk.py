"""Issue 12, "One language at a time": a walk through every command, button and form in German
finds no English sentence, and in English no German one (tests/core/language_walk.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.clock import FrozenClock
from tests.core.language_walk import foreign_sentences, walk_everything


def test_the_heuristic_tells_the_languages_apart() -> None:
    german = "Der Hund kann nicht vor seiner Geburt zu Ihnen gekommen sein."
    english = "The dog cannot have come to you before it was born."
    assert foreign_sentences(english, "de") == [english]
    assert foreign_sentences(german, "de") == []
    assert foreign_sentences(german, "en") == [german]
    assert foreign_sentences(english, "en") == []
    mixed = f"Bitte prüfen Sie das.\n{english}"
    assert foreign_sentences(mixed, "de") == [english]
    # content in one language only, marked or known, is no mixed sentence
    marked = "For: “Stadtgutschein für die Familie” (in German)"
    assert foreign_sentences(marked, "en") == []
    shown = "Weihnachtsmarkt auf dem Schlossplatz – 12 Dec, 18:00"
    assert foreign_sentences(shown, "en", ["Weihnachtsmarkt auf dem Schlossplatz"]) == []


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_flow_speaks_one_language(
    lang: str, tmp_path: Path, clock: FrozenClock
) -> None:
    walk, content = await walk_everything(tmp_path, clock, lang)
    assert len(walk.seen) > 300 and len(walk.visited) > 100  # the walk went everywhere
    found = sorted(
        {
            f"{where}: {sentence}"
            for where, text in walk.seen
            for sentence in foreign_sentences(text, lang, content)
        }
    )
    # the staff rooms read the demo applications and whatever the walk sent, in German (the
    # rooms' configured language), whatever the walker's own language
    found += sorted(
        {
            f"{room}: {sentence}"
            for room, text in walk.rooms
            for sentence in foreign_sentences(text, "de", content)
        }
    )
    assert any("Neuer Antrag" in text for _room, text in walk.rooms)
    assert found == [], "\n".join(found)
