"""Every Open311 GeoReport v2 endpoint in JSON and XML against the specification: services,
service definitions, posting with an API key (wrong key, wrong code, outside the town, rate
limit), listing with filters (malformed dates, a 91-day range), one request, tokens, the
discovery document, photos without EXIF, and nothing personal in public answers."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.apikeys import keys
from services.city import City
from services.clock import FrozenClock
from storage.db import Database
from tests.defects.conftest import MARKT, MUENSTER, WALLSTRASSE, located, report_anna
from tests.support.chat import Transcript

PUBLIC_URL = "https://ahaus.example"
BASE = "/open311/v2"
RECORD_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url=PUBLIC_URL, _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


async def new_key(
    db: Database, clock: FrozenClock, name: str = "fixmystreet", limit: int = 0
) -> str:
    async with db.uow() as uow:
        _key, secret = await keys.add(uow, name, "open311", clock.now(), rate_limit=limit)
        await uow.commit()
    return secret


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


def error_of(response: httpx.Response, fmt: str) -> tuple[int, str]:
    if fmt == "json":
        [error] = response.json()
        assert set(error) == {"code", "description"}
        return int(error["code"]), str(error["description"])
    root = xml(response)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    return int(root.findtext("error/code") or 0), root.findtext("error/description") or ""


# ---------------------------------------------------------------- services
async def test_services_in_json_and_xml(web: httpx.AsyncClient) -> None:
    found = (await web.get(f"{BASE}/services.json")).json()
    assert [s["service_code"] for s in found] == [
        "lighting",
        "roads",
        "waste",
        "green",
        "signs",
        "other",
    ]
    lighting = found[0]
    assert list(lighting) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert lighting["service_name"] == "Straßenbeleuchtung" and lighting["metadata"] is True
    assert lighting["type"] == "realtime" and "laterne" in lighting["keywords"]
    assert found[1]["metadata"] is False

    english = await web.get(f"{BASE}/services.json", headers={"Accept-Language": "en-GB,en"})
    assert english.json()[0]["service_name"] == "Street lighting"

    root = xml(await web.get(f"{BASE}/services.xml", params={"jurisdiction_id": "ahaus.de"}))
    assert root.tag == "services" and len(root) == 6
    assert root[0].tag == "service" and root[0].findtext("service_code") == "lighting"
    assert root[0].findtext("metadata") == "true" and root[1].findtext("metadata") == "false"


async def test_service_definitions(web: httpx.AsyncClient) -> None:
    found = (await web.get(f"{BASE}/services/lighting.json")).json()
    assert found["service_code"] == "lighting"
    [attribute] = found["attributes"]
    assert attribute == {
        "variable": True,
        "code": "lamp_number",
        "datatype": "string",
        "required": False,
        "datatype_description": "the number on the plate on the post, e.g. 0412",
        "order": 1,
        "description": "Nummer am Laternenmast",
        "values": [],
    }
    root = xml(await web.get(f"{BASE}/services/lighting.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("attributes/attribute/code") == "lamp_number"
    assert root.findtext("attributes/attribute/variable") == "true"
    for fmt in ("json", "xml"):
        missing = await web.get(f"{BASE}/services/bogus.{fmt}")
        assert missing.status_code == 404
        assert error_of(missing, fmt)[0] == 404
        plain = await web.get(f"{BASE}/services/roads.{fmt}")  # metadata false: no definition
        assert plain.status_code == 404
    wrong_format = await web.get(f"{BASE}/services.html")
    assert wrong_format.status_code == 404 and error_of(wrong_format, "json")[0] == 404


async def test_discovery(web: httpx.AsyncClient) -> None:
    found = (await web.get("/open311/discovery.json")).json()
    [endpoint] = found["endpoints"]
    assert endpoint["url"] == f"{PUBLIC_URL}/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert found["contact"] and found["key_service"]


# ---------------------------------------------------------------- posting
async def test_post_with_a_key_reaches_the_staff_room(
    web: httpx.AsyncClient, chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    secret = await new_key(db, clock)
    posted = await web.post(
        f"{BASE}/requests.json",
        data={
            "api_key": secret,
            "jurisdiction_id": "ahaus.de",
            "service_code": "lighting",
            "lat": str(WALLSTRASSE[0]),
            "long": str(WALLSTRASSE[1]),
            "description": "Lampe aus, Mail an mia@example.org",
            "attribute[lamp_number]": "0815",
            "email": "mia@example.org",
            "first_name": "Mia",
            "last_name": "Berger",
            "phone": "0171 2345678",
            "account_id": "acc-7",
            "media_url": "https://fixmystreet.example/photo/1.jpeg",
        },
    )
    assert posted.status_code == 200, posted.text
    [answer] = posted.json()
    assert answer["service_request_id"] == "1" and answer["account_id"] == "acc-7"
    assert answer["token"] and "10 Werktagen" in answer["service_notice"]
    room = await chat.notifications("room:bauhof")
    assert "Neue Meldung Nr. 1: Straßenbeleuchtung" in room and "API (fixmystreet)" in room
    assert "Nummer am Laternenmast: 0815" in room

    by_address = await web.post(
        f"{BASE}/requests.xml",
        data={"api_key": secret, "service_code": "roads", "address_string": "Coesfelder Str. 8"},
    )
    root = xml(by_address)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == "2"

    shown = (await web.get(f"{BASE}/requests/1.json")).json()[0]
    assert shown["media_url"] == "https://fixmystreet.example/photo/1.jpeg"
    text = json.dumps(shown)
    for personal in ("mia@example.org", "Mia", "Berger", "0171", "acc-7"):
        assert personal not in text
    assert shown["description"] == "Lampe aus, Mail an […]"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_wrong_keys_codes_and_places(
    web: httpx.AsyncClient, db: Database, clock: FrozenClock, fmt: str
) -> None:
    secret = await new_key(db, clock)
    good = {"api_key": secret, "service_code": "lighting", "lat": "52.0772", "long": "7.0062"}
    cases = [
        ({**good, "api_key": ""}, 403, "api_key"),
        ({**good, "api_key": "guessed"}, 403, "api_key"),
        ({**good, "service_code": "bogus"}, 400, "service_code"),
        ({**good, "service_code": ""}, 400, "service_code"),
        ({**good, "lat": str(MUENSTER[0]), "long": str(MUENSTER[1])}, 400, "outside Ahaus"),
        ({**good, "lat": "north", "long": "7"}, 400, "decimal degrees"),
        ({"api_key": secret, "service_code": "roads"}, 400, "location is required"),
        (
            {"api_key": secret, "service_code": "roads", "address_string": "Nirgendwo 1"},
            400,
            "not a street",
        ),
        ({**good, "media_url": "javascript:alert(1)"}, 400, "media_url"),
    ]
    for form, status, words in cases:
        response = await web.post(f"{BASE}/requests.{fmt}", data=form)
        assert response.status_code == status, (form, response.text)
        code, description = error_of(response, fmt)
        assert code == status and words in description, description
    async with db.uow() as uow:
        await keys.revoke(uow, "fixmystreet", clock.now())
        await uow.commit()
    revoked = await web.post(f"{BASE}/requests.{fmt}", data=good)
    assert revoked.status_code == 403
    listed = await web.get(f"{BASE}/requests.json")
    assert listed.json() == []  # nothing was filed


async def test_a_key_of_another_purpose_is_refused(
    web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    keys.register_purpose(keys.Purpose("locks", "test locks", 100, timedelta(hours=1)))
    async with db.uow() as uow:
        _key, secret = await keys.add(uow, "door-1", "locks", clock.now())
        await uow.commit()
    response = await web.post(
        f"{BASE}/requests.json",
        data={"api_key": secret, "service_code": "roads", "address_string": "Wallstraße"},
    )
    assert response.status_code == 403


async def test_writes_are_rate_limited_per_key(
    web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    limited = await new_key(db, clock, "small-app", limit=2)
    other = await new_key(db, clock, "other-app", limit=2)
    form = {"service_code": "roads", "address_string": "Wallstraße 3"}
    for _ in range(2):
        assert (
            await web.post(f"{BASE}/requests.json", data={**form, "api_key": limited})
        ).status_code == 200
    refused = await web.post(f"{BASE}/requests.xml", data={**form, "api_key": limited})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 3600
    assert error_of(refused, "xml") == (
        429,
        "too many requests with this api_key; try again in 3600 s",
    )
    assert (
        await web.post(f"{BASE}/requests.json", data={**form, "api_key": other})
    ).status_code == 200
    wrong = await web.post(
        f"{BASE}/requests.json", data={**form, "api_key": limited, "service_code": "x"}
    )
    assert wrong.status_code == 429  # failed attempts count too, and are refused first
    clock.advance(timedelta(hours=1))
    assert (
        await web.post(f"{BASE}/requests.json", data={**form, "api_key": limited})
    ).status_code == 200
    assert len((await web.get(f"{BASE}/requests.json")).json()) == 4


# ---------------------------------------------------------------- reading
async def some_reports(
    chat: Transcript, web: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    """Report 1 by Anna in the chat (closed by Bodo), 2 through the API, 3 a day later."""
    await report_anna(chat)
    await chat.notifications("room:bauhof")
    await chat.press("bodo", "Mit Hinweis abschließen", room="bauhof")
    await chat.send("bodo", "Leuchtmittel getauscht.", room="bauhof")
    await chat.press("bodo", "Ja, Nr. 1 abschließen", room="bauhof")
    secret = await new_key(db, clock)
    await web.post(
        f"{BASE}/requests.json",
        data={
            "api_key": secret,
            "service_code": "waste",
            "lat": str(MARKT[0]),
            "long": str(MARKT[1]),
        },
    )
    clock.advance(timedelta(days=1))
    await web.post(
        f"{BASE}/requests.json",
        data={"api_key": secret, "service_code": "roads", "address_string": "Wallstraße"},
    )


async def test_list_and_one_request_in_both_formats(
    web: httpx.AsyncClient,
    chat: Transcript,
    people: dict[str, int],
    db: Database,
    clock: FrozenClock,
) -> None:
    await some_reports(chat, web, db, clock)
    found = (await web.get(f"{BASE}/requests.json")).json()
    assert [r["service_request_id"] for r in found] == ["3", "2", "1"]  # newest first
    closed = found[2]
    assert list(closed) == RECORD_FIELDS
    assert closed["status"] == "closed" and closed["status_notes"] == "Leuchtmittel getauscht."
    assert closed["service_name"] == "Straßenbeleuchtung" and closed["service_code"] == "lighting"
    assert closed["agency_responsible"] == "Baubetriebshof"
    assert closed["requested_datetime"] == "2026-11-25T10:00:00+01:00"
    assert closed["address"] == "Wallstraße" and closed["zipcode"] == "48683"
    assert (closed["lat"], closed["long"]) == WALLSTRASSE
    assert found[1]["status"] == "open" and found[1]["agency_responsible"] == "Ordnungsamt"

    root = xml(await web.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"] * 3
    assert [child.tag for child in root[2]] == RECORD_FIELDS
    assert root[2].findtext("status") == "closed" and root[2].findtext("lat") == str(WALLSTRASSE[0])

    for fmt in ("json", "xml"):
        one = await web.get(f"{BASE}/requests/1.{fmt}", params={"jurisdiction_id": "ahaus.de"})
        assert one.status_code == 200
        if fmt == "json":
            assert one.json()[0]["service_request_id"] == "1"
        else:
            assert xml(one).findtext("request/service_request_id") == "1"
        missing = await web.get(f"{BASE}/requests/999.{fmt}")
        assert missing.status_code == 404 and error_of(missing, fmt)[0] == 404
        nonsense = await web.get(f"{BASE}/requests/abc.{fmt}")
        assert nonsense.status_code == 404


async def test_list_filters(
    web: httpx.AsyncClient,
    chat: Transcript,
    people: dict[str, int],
    db: Database,
    clock: FrozenClock,
) -> None:
    await some_reports(chat, web, db, clock)

    async def ids(**params: str) -> list[str]:
        response = await web.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert await ids(service_request_id="1,3,77") == ["3", "1"]
    assert await ids(service_request_id="1", status="open") == ["1"]  # ids override the rest
    assert await ids(service_code="roads,waste") == ["3", "2"]
    assert await ids(status="closed") == ["1"]
    assert await ids(status="open,closed") == ["3", "2", "1"]
    assert await ids(start_date="2026-11-26T00:00:00+01:00") == ["3"]
    assert await ids(start_date="2026-11-26T00:00:00 01:00") == ["3"]  # an unencoded "+"
    assert await ids(end_date="2026-11-25T23:00:00Z") == ["2", "1"]
    assert await ids(start_date="2026-11-25", end_date="2026-11-25") == ["2", "1"]
    assert await ids(start_date="2026-08-28T00:00:00Z", end_date="2026-11-26T00:00:00Z") == [
        "2",
        "1",
    ]
    assert await ids(start_date="2026-01-01T00:00:00Z") == []  # 90 days from the start


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_filters(web: httpx.AsyncClient, fmt: str) -> None:
    cases = [
        ({"start_date": "gestern"}, "start_date is not a W3C date-time"),
        ({"end_date": "2026-13-45T00:00:00Z"}, "end_date is not a W3C date-time"),
        (
            {"start_date": "2026-08-27T00:00:00Z", "end_date": "2026-11-26T00:00:00Z"},
            "more than 90 days",
        ),
        ({"start_date": "2026-11-26", "end_date": "2026-11-01"}, "before start_date"),
        ({"status": "pending"}, "status must be"),
        ({"service_code": "bogus"}, "service_code"),
        ({"service_request_id": "1;DROP"}, "service_request_id"),
    ]
    for params, words in cases:
        response = await web.get(f"{BASE}/requests.{fmt}", params=params)
        assert response.status_code == 400, params
        code, description = error_of(response, fmt)
        assert code == 400 and words in description, description


async def test_tokens(web: httpx.AsyncClient, db: Database, clock: FrozenClock) -> None:
    secret = await new_key(db, clock)
    posted = await web.post(
        f"{BASE}/requests.json",
        data={"api_key": secret, "service_code": "roads", "address_string": "Wallstraße"},
    )
    token = posted.json()[0]["token"]
    assert (await web.get(f"{BASE}/tokens/{token}.json")).json() == [
        {"service_request_id": "1", "token": token}
    ]
    root = xml(await web.get(f"{BASE}/tokens/{token}.xml"))
    assert (
        root.findtext("request/service_request_id") == "1"
        and root.findtext("request/token") == token
    )
    for fmt in ("json", "xml"):
        missing = await web.get(f"{BASE}/tokens/NOPE.{fmt}")
        assert missing.status_code == 404 and error_of(missing, fmt)[0] == 404


async def test_chat_reports_in_the_api_with_nothing_personal(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int]
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 0, 200)).save(buffer, "JPEG", exif=exif.tobytes())
    await chat.send("anna", "Laterne kaputt")
    await chat.send("anna", located(WALLSTRASSE))
    await chat.upload("anna", "IMG_1.jpg", "image/jpeg", buffer.getvalue())
    await chat.send("anna", "Anna Schulte hier, Tel. 02561 12345, anna@example.org: Lampe aus")
    await chat.send("anna", "ja")
    for fmt in ("json", "xml"):
        listed = await web.get(f"{BASE}/requests.{fmt}")
        body = listed.text
        for personal in ("Anna", "Schulte", "02561", "anna@example.org", "console", "citizen"):
            assert personal not in body, (fmt, personal)
    [record] = (await web.get(f"{BASE}/requests.json")).json()
    assert record["description"] == "[…] […] hier, Tel. […], […]: Lampe aus"
    url = record["media_url"]
    assert url.startswith(f"{PUBLIC_URL}/open311/media/") and url.endswith(".jpg")
    assert "IMG_1" not in url and "anna" not in url.lower()
    photo = await web.get(url.removeprefix(PUBLIC_URL))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in photo.content
    with Image.open(io.BytesIO(photo.content)) as image:
        assert image.size == (30, 20) and not image.getexif()
    assert (await web.get("/open311/media/guessed.jpg")).status_code == 404


async def test_a_reviewed_clients_report_is_queued_until_staff_accept_it(
    web: httpx.AsyncClient,
    chat: Transcript,
    people: dict[str, int],
    db: Database,
    clock: FrozenClock,
) -> None:
    async with db.uow() as uow:
        _key, secret = await keys.add(uow, "new-app", "open311-review", clock.now())
        await uow.commit()
    form = {"api_key": secret, "service_code": "roads", "address_string": "Kirchstraße 2"}
    posted = await web.post(f"{BASE}/requests.json", data=form)
    [queued] = posted.json()
    assert "service_request_id" not in queued and queued["token"]
    token = queued["token"]
    assert (await web.get(f"{BASE}/tokens/{token}.json")).json() == [
        {"service_request_id": None, "token": token}
    ]
    root = xml(await web.get(f"{BASE}/tokens/{token}.xml"))
    assert (
        root.findtext("request/service_request_id") == ""
        and root.findtext("request/token") == token
    )
    assert (await web.get(f"{BASE}/requests.json")).json() == []  # not public yet
    assert (await web.get(f"{BASE}/requests/1.json")).status_code == 404
    assert 'id="report-1"' not in (await web.get("/meldungen")).text

    room = await chat.notifications("room:bauhof")
    assert "Meldung Nr. 1 wartet auf Ihre Prüfung" in room and "API (new-app)" in room
    await chat.press("bodo", "Annehmen", room="bauhof")
    accepted = await chat.press("bodo", "Ja, Nr. 1 veröffentlichen", room="bauhof")
    assert "ist jetzt öffentlich" in accepted
    assert (await web.get(f"{BASE}/tokens/{token}.json")).json()[0]["service_request_id"] == "1"
    assert [r["service_request_id"] for r in (await web.get(f"{BASE}/requests.json")).json()] == [
        "1"
    ]

    second = (await web.post(f"{BASE}/requests.xml", data=form)).text
    token2 = ElementTree.fromstring(second).findtext("request/token")
    await chat.notifications("room:bauhof")
    await chat.press("bodo", "Ablehnen", room="bauhof")
    await chat.send("bodo", "Testeintrag der App", room="bauhof")
    refused = await chat.press("bodo", "Ja, Nr. 2 ablehnen", room="bauhof")
    assert "bleibt unveröffentlicht" in refused
    assert (await web.get(f"{BASE}/tokens/{token2}.json")).status_code == 404
    assert len((await web.get(f"{BASE}/requests.json")).json()) == 1
