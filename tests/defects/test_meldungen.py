"""/meldungen: open and recently closed reports as a list and on a map, German and English,
nothing personal; checked in the HTML and in headless Chromium at a phone's size (a screenshot
is written to var/test-output/ and named in the test output)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bot.bootstrap import App, build_app
from bot.meldungen.routes import tile_origin
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from services.defects import actions, reports
from services.defects.places import Place
from storage.db import Database
from tests.defects.conftest import MARKT, report_anna
from tests.support import browser
from tests.support.chat import Transcript

OUTPUT = Path(__file__).resolve().parents[2] / "var" / "test-output"


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url="http://127.0.0.1:8080", _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def town(chat: Transcript, bodo: int) -> dict[str, int]:
    """An open report (Anna's street light), one done yesterday with a note, one closed 40 days
    ago (no longer shown), one not the town's."""
    clock = chat.clock
    from services.cases.records import Actor

    staff = Actor(bodo, "Bodo", frozenset({("staff", "bauhof")}))
    async with chat.db.uow() as uow:
        old = await reports.file_report(
            uow,
            chat.city,
            category="green",
            place=Place(*MARKT, "Marktstraße"),
            now=clock.now() - timedelta(days=50),
            description="Bank kaputt",
        )
        await actions.close(
            uow, chat.city, staff, str(old.id), "Bank erneuert.", clock.now() - timedelta(days=40)
        )
        done = await reports.file_report(
            uow,
            chat.city,
            category="roads",
            place=Place(52.0760, 7.0072, "Kirchstraße 2"),
            now=clock.now() - timedelta(days=3),
            description="Schlagloch <b>tief</b>",
        )
        await actions.close(
            uow,
            chat.city,
            staff,
            str(done.id),
            "Loch verfüllt & gewalzt.",
            clock.now() - timedelta(days=1),
        )
        other = await reports.file_report(
            uow,
            chat.city,
            category="signs",
            place=Place(52.0771, 7.0090, "Rathausplatz"),
            now=clock.now() - timedelta(days=2),
        )
        await actions.not_ours(
            uow, chat.city, staff, str(other.id), "Schild der Bahn; dort gemeldet.", clock.now()
        )
        await uow.commit()
        numbers = {"old": old.id or 0, "done": done.id or 0, "other": other.id or 0}
    numbers["open"] = await report_anna(chat)
    return numbers


async def test_the_page_in_german_and_english(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int]
) -> None:
    numbers = await town(chat, people["bodo"])
    german = await web.get("/meldungen")
    assert german.status_code == 200 and german.headers["content-language"] == "de"
    html = german.text
    assert "<title>Mängelmeldungen in Ahaus</title>" in html
    assert "1 offene und 2 kürzlich abgeschlossene Meldungen" in html
    assert f'id="report-{numbers["open"]}"' in html and f'id="report-{numbers["old"]}"' not in html
    assert "Loch verfüllt &amp; gewalzt." in html and "Schlagloch &lt;b&gt;tief&lt;/b&gt;" in html
    assert "Straßenbeleuchtung" in html and "gemeldet" in html and "erledigt" in html
    assert "nicht Sache der Stadt" in html
    for personal in ("Anna", "Schulte", "anna@example.org", "console"):
        assert personal not in html
    policy = german.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "https://tile.openstreetmap.org" in policy

    english = await web.get("/meldungen", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<title>Defect reports in Ahaus</title>" in english.text
    assert "Street lighting" in english.text and "in progress" not in english.text
    assert "Defect reports in Ahaus" in (await web.get("/meldungen?lang=en")).text
    assert (
        "Mängelmeldungen"
        in (await web.get("/meldungen?lang=de", headers={"Accept-Language": "en"})).text
    )
    assert (await web.head("/meldungen")).status_code == 200

    leaflet = await web.get("/meldungen/assets/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and b"Leaflet" in leaflet.content[:300]
    assert leaflet.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert (await web.get("/meldungen/assets/leaflet/images/marker-icon.png")).status_code == 200
    assert (await web.get("/meldungen/assets/leaflet/LICENSE")).status_code == 200
    assert (await web.get("/meldungen/assets/../routes.py")).status_code == 404
    assert (await web.get("/meldungen/assets/%2e%2e/page.py")).status_code == 404


def test_tile_origin() -> None:
    assert (
        tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        == "https://tile.openstreetmap.org"
    )
    assert tile_origin("https://{s}.tiles.example/{z}/{x}/{y}.png") == "https://*.tiles.example"


async def test_the_page_in_chromium_on_a_phone(
    app: App, chat: Transcript, people: dict[str, int], request: pytest.FixtureRequest
) -> None:
    browser.chromium_or_skip()
    numbers = await town(chat, people["bodo"])
    async with browser.serve(create_web_app(app)) as base:
        dom = await browser.dump_dom(f"{base}/meldungen")
        name = f"meldungen-{request.node.callspec.id}.png"
        shot = await browser.screenshot(f"{base}/meldungen", OUTPUT / name)
    print(f"\nscreenshot of /meldungen on a phone: {shot}")
    request.node.user_properties.append(("screenshot", str(shot)))

    from html.parser import HTMLParser

    class Reports(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.items: list[dict[str, str | None]] = []
            self.map: dict[str, str | None] = {}
            self.leaflet = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "li" and "report" in (found.get("class") or ""):
                self.items.append(found)
            if found.get("id") == "map":
                self.map = found
            if "leaflet-interactive" in (found.get("class") or ""):
                self.leaflet = True

    parsed = Reports()
    parsed.feed(dom)
    shown = [(int(i["data-id"] or 0), i["data-status"]) for i in parsed.items]
    assert shown == [
        (numbers["open"], "open"),
        (numbers["other"], "closed"),
        (numbers["done"], "closed"),
    ]
    assert parsed.map.get("data-ready") == "3"  # the page's script put 3 markers on the map
    assert "leaflet-container" in (parsed.map.get("class") or "")
    assert parsed.leaflet  # Leaflet drew the markers
    with Image.open(shot) as image:
        assert image.size == browser.PHONE
