"""An Open311 client nobody here wrote reads the town's services and requests: the `georeport`
library (requests + xmltodict) against the web app served on a loopback port, in JSON and XML."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from storage.db import Database
from tests.defects.conftest import report_anna
from tests.support.chat import Transcript

georeport = pytest.importorskip("georeport", reason="the georeport client is a test dependency")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(db: Database, city: City, clock: FrozenClock) -> AsyncIterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(public_url=base, _env_file=None)  # type: ignore[call-arg]
    app: App = build_app(settings, clock=clock, db=db, city=city)
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(app), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    yield f"{base}/open311/v2"
    server.should_exit = True
    await task


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_the_georeport_library_reads_everything(
    served: str, chat: Transcript, people: dict[str, int], fmt: str
) -> None:
    number = await report_anna(chat)
    await chat.notifications("room:bauhof")
    await chat.press("bodo", "Mit Hinweis abschließen", room="bauhof")
    await chat.send("bodo", "Leuchtmittel getauscht.", room="bauhof")
    await chat.press("bodo", f"Ja, Nr. {number} abschließen", room="bauhof")
    client = georeport.GeoReport(served, jurisdiction="ahaus.de", output_format=fmt)

    services = await asyncio.to_thread(client.get_service_list)
    codes = [s["service_code"] for s in services]
    assert codes == ["lighting", "roads", "waste", "green", "signs", "other"]

    definition = await asyncio.to_thread(client.get_service_definition, "lighting")
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"]
    assert attribute["code"] == "lamp_number"

    found = await asyncio.to_thread(client.get_service_requests, status="closed")
    first = found[0] if isinstance(found, list) else found  # xmltodict: one element, no list
    assert first["service_request_id"] == str(number)
    assert first["status"] == "closed" and first["status_notes"] == "Leuchtmittel getauscht."
    assert first["service_code"] == "lighting" and first["address"] == "Wallstraße"

    one = await asyncio.to_thread(client.get_service_request, str(number))
    assert one["service_request_id"] == str(number)
    assert float(one["lat"]) == pytest.approx(52.07718) and float(one["long"]) == pytest.approx(
        7.00618
    )
