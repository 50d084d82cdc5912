"""People for the trust tests (the same helpers as the forms and cases tests)."""

from __future__ import annotations

import pytest

from tests.cases.conftest import make_person
from tests.support.chat import Transcript


@pytest.fixture
async def people(chat: Transcript) -> dict[str, int]:
    return {
        "anna": await make_person(chat, "anna", "Anna", "Schulte"),
        "ben": await make_person(chat, "ben", "Ben", "Terhaar"),
        "petra": await make_person(
            chat, "petra", "Petra", "Wessels", role="staff", scope="buergerbuero"
        ),
        "stefan": await make_person(
            chat, "stefan", "Stefan", "Kock", role="staff", scope="steuern"
        ),
    }
