"""The issue's "done when", in one go: a resident reports a broken street light in three
messages plus a location, Bodo in the Baubetriebshof's room closes it with a note, the resident
and a follower are told, and the same report is visible through Open311 and on /meldungen."""

from __future__ import annotations

import httpx

from bot.bootstrap import build_app
from bot.settings import Settings
from bot.web import create_web_app
from tests.defects.conftest import WALLSTRASSE, located, north_of
from tests.support.chat import Transcript


async def test_street_light_from_chat_to_api_and_page(
    chat: Transcript, people: dict[str, int]
) -> None:
    # the resident: three messages plus a location
    await chat.send("anna", "Laterne kaputt")
    await chat.send("anna", located(WALLSTRASSE))
    await chat.send("anna", "Leuchtet seit Montag nicht mehr")
    filed = await chat.send("anna", "Ja")
    assert "Danke! Ihre Meldung Nr. 1 (Straßenbeleuchtung, Wallstraße)" in filed
    # a neighbour follows it instead of reporting it again
    await chat.send("ben", "street light broken")
    await chat.send("ben", located(north_of(WALLSTRASSE, 20)))
    await chat.press("ben", "Follow no. 1 instead")

    # Bodo in the Baubetriebshof's room
    room = await chat.notifications("room:bauhof")
    assert "Neue Meldung Nr. 1: Straßenbeleuchtung" in room
    await chat.press("bodo", "Mit Hinweis abschließen", room="bauhof")
    confirm = await chat.send("bodo", "Leuchtmittel getauscht, brennt wieder.", room="bauhof")
    assert "Meldung Nr. 1 mit diesem öffentlichen Hinweis abschließen?" in confirm
    closed = await chat.press("bodo", "Ja, Nr. 1 abschließen", room="bauhof")
    assert "2 Personen, die der Meldung folgen, wurden informiert" in closed
    told = await chat.notifications("anna")
    assert "ist erledigt.\n🔔 Leuchtmittel getauscht, brennt wieder." in told
    english = await chat.notifications("ben")  # Bodo's German words, marked as such
    assert "is done.\n🔔 “Leuchtmittel getauscht, brennt wieder.” (in German)" in english

    # the same report through Open311 and on the public page
    settings = Settings(public_url="https://ahaus.example", _env_file=None)  # type: ignore[call-arg]
    app = build_app(settings, clock=chat.clock, db=chat.db, city=chat.city)
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="https://ahaus.example") as web:
        [record] = (await web.get("/open311/v2/requests/1.json")).json()
        page = (await web.get("/meldungen?lang=de")).text
    assert record["status"] == "closed" and record["service_code"] == "lighting"
    assert record["status_notes"] == "Leuchtmittel getauscht, brennt wieder."
    assert record["address"] == "Wallstraße"
    assert 'id="report-1"' in page and 'data-status="closed"' in page
    assert "Leuchtmittel getauscht, brennt wieder." in page
