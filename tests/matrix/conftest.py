"""A real Synapse for the Matrix channel tests (one per session), the bot as `stadtlotse run`
would start it, and residents as matrix-nio clients."""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.city import City
from services.clock import FrozenClock
from storage.db import Database

if importlib.util.find_spec("synapse") is None:  # pragma: no cover - depends on the install
    pytest.skip(
        "matrix-synapse is not installed (pip install -e '.[test]')", allow_module_level=True
    )

from tests.matrix.support import BotRunner, Resident, staff_city
from tests.support.synapse import SynapseServer

_names = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/matrix/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.matrix)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    with server:
        yield server


@pytest.fixture
def unique() -> str:
    return f"u{next(_names)}"


@pytest.fixture
async def bot(
    synapse: SynapseServer, db: Database, clock: FrozenClock, tmp_path: Path, unique: str
) -> AsyncIterator[BotRunner]:
    runner = BotRunner(synapse, db, clock, tmp_path / "bot", f"bot{unique}", city=staff_city())
    yield runner
    await runner.stop()


@pytest.fixture
async def resident(synapse: SynapseServer, tmp_path: Path, unique: str) -> AsyncIterator[Resident]:
    person = await Resident.create(synapse, tmp_path / "resident", f"anna{unique}", encrypted=False)
    yield person
    await person.close()


@pytest.fixture
def city() -> City:
    return staff_city()
