"""Residents report defects on the console: German and English, location or typed street,
duplicates nearby (29 m and 31 m), places outside the town, photos without EXIF."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from services.defects.places import distance_m
from storage.models.defects import DefectFollower
from storage.models.outbox import StoredFile
from tests.defects.conftest import (
    MARKT,
    MUENSTER,
    WALLSTRASSE,
    all_reports,
    east_of,
    located,
    north_of,
    report_anna,
)
from tests.support.chat import Transcript


async def test_broken_street_light_in_three_messages_and_a_location(
    chat: Transcript, people: dict[str, int]
) -> None:
    asked = await chat.send("anna", "Laterne kaputt")
    assert "Straßenbeleuchtung: Wo ist es?" in asked
    describe = await chat.send("anna", located(north_of(WALLSTRASSE, 10)))
    assert "Bitte beschreiben Sie kurz" in describe
    assert "Nummer am Laternenmast" in describe  # the category's attribute as a hint
    updates = await chat.send("anna", "Leuchtet seit drei Tagen nicht, Mast Nr. 0412")
    assert "Möchten Sie erfahren" in updates
    done = await chat.send("anna", "ja")
    assert "Danke! Ihre Meldung Nr. 1 (Straßenbeleuchtung, Wallstraße)" in done
    assert "Baubetriebshof" in done
    [report] = await all_reports(chat)
    assert (report.category, report.department, report.status) == (
        "lighting",
        "bauhof",
        "submitted",
    )
    assert report.attributes == {"lamp_number": "0412"}
    assert report.address == "Wallstraße"  # the nearest street names a shared location
    room = await chat.notifications("room:bauhof")
    assert "Neue Meldung Nr. 1: Straßenbeleuchtung" in room
    assert "Nummer am Laternenmast: 0412" in room
    assert "Anna" not in room and "Schulte" not in room  # the reporter stays private
    async with chat.db.uow() as uow:
        followers = (
            await uow.session.execute(select(DefectFollower.citizen_id, DefectFollower.role))
        ).all()
    assert [tuple(f) for f in followers] == [(people["anna"], "reporter")]


async def test_english_with_a_typed_street_and_typos(
    chat: Transcript, people: dict[str, int]
) -> None:
    asked = await chat.send("ben", "the street light is broken")
    assert "Street lighting: where is it?" in asked
    guess = await chat.send("ben", "Walstrase 7")
    assert "Did you mean one of these streets?" in guess and "Wallstraße" in guess
    describe = await chat.press("ben", "Wallstraße")
    assert "Please describe briefly" in describe
    await chat.send("ben", "flickers all night")
    done = await chat.send("ben", "no")
    assert "Thank you! Your report no. 1 (Street lighting, Wallstraße 7)" in done
    assert "Municipal works depot" in done
    assert "You will hear from us" not in done
    [report] = await all_reports(chat)
    assert (report.lat, report.lon) == WALLSTRASSE
    async with chat.db.uow() as uow:
        assert (await uow.session.execute(select(DefectFollower))).first() is None


async def test_category_and_street_from_one_sentence(
    chat: Transcript, people: dict[str, int]
) -> None:
    describe = await chat.send("anna", "Schlagloch in der Wallstr. 7")
    assert "Bitte beschreiben Sie kurz" in describe
    await chat.press("anna", "Nichts hinzuzufügen")
    done = await chat.send("anna", "nein")
    assert "Straßen und Wege, Wallstraße 7" in done
    [report] = await all_reports(chat)
    assert report.description == "Schlagloch in der Wallstr. 7"


async def test_choosing_a_category_when_the_text_does_not_say(
    chat: Transcript, people: dict[str, int]
) -> None:
    menu = await chat.send("anna", "Mangel melden")
    assert "Was möchten Sie melden?" in menu
    for name in ("Straßenbeleuchtung", "Müll und wilde Ablagerungen", "Verkehrszeichen"):
        assert name in menu
    place = await chat.send("anna", "Müll")  # typed instead of pressed
    assert "Müll und wilde Ablagerungen: Wo ist es?" in place
    await chat.send("anna", "Marktplatz")
    await chat.send("anna", "Papierkorb quillt über")
    done = await chat.send("anna", "ja")
    assert "Ordnungsamt" in done  # waste routes to the public order office
    assert "Neue Meldung Nr. 1" in await chat.notifications("room:ordnung")
    assert await chat.notifications("room:bauhof") == ""


async def test_places_outside_the_town_are_refused_politely(
    chat: Transcript, people: dict[str, int]
) -> None:
    await chat.send("anna", "Laterne kaputt")
    refused = await chat.send("anna", located(MUENSTER))
    assert "außerhalb von Ahaus" in refused and "leider" in refused
    unknown = await chat.send("anna", "Prinzipalmarkt 1")
    assert "Die Straße „Prinzipalmarkt 1“ kenne ich in Ahaus nicht" in unknown
    assert await all_reports(chat) == []
    still = await chat.send("anna", located(MARKT))  # the question is still open
    assert "Bitte beschreiben Sie kurz" in still


async def test_an_open_report_29_m_away_is_offered_31_m_is_not(
    chat: Transcript, people: dict[str, int]
) -> None:
    first = await report_anna(chat)
    near = north_of(WALLSTRASSE, 29)
    far = east_of(WALLSTRASSE, 31)
    assert round(distance_m(WALLSTRASSE, near)) == 29 and round(distance_m(WALLSTRASSE, far)) == 31

    await chat.send("ben", "street light broken")
    offered = await chat.send("ben", located(near))
    assert "This was already reported on 25 Nov 2026: report no. 1" in offered
    assert "(29 m from your place)" in offered
    followed = await chat.press("ben", "Follow no. 1 instead")
    assert "You now follow report no. 1" in followed and "It has been confirmed once." in followed
    assert len(await all_reports(chat)) == 1
    [report] = await all_reports(chat)
    assert report.id == first and report.confirmations == 1

    await chat.send("carla", "Laterne kaputt")
    not_offered = await chat.send("carla", located(far))
    assert "bereits" not in not_offered and "Bitte beschreiben Sie kurz" in not_offered

    # another category at the same spot is no duplicate; "something else" files a new one
    await chat.send("carla", "/cancel")
    await chat.send("carla", "Laterne kaputt")
    again = await chat.send("carla", located(near))
    assert "Das wurde bereits am" in again
    describe = await chat.press("carla", "Nein, das ist etwas anderes")
    assert "Bitte beschreiben Sie kurz" in describe


async def test_following_twice_counts_once(chat: Transcript, people: dict[str, int]) -> None:
    number = await report_anna(chat)
    await chat.send("ben", "streetlight broken")
    await chat.send("ben", located(north_of(WALLSTRASSE, 5)))
    await chat.press("ben", "Follow no.")
    await chat.send("ben", "streetlight broken")
    await chat.send("ben", located(north_of(WALLSTRASSE, 5)))
    again = await chat.press("ben", "Follow no.")
    assert f"You already follow report no. {number}" in again
    [report] = await all_reports(chat)
    assert report.confirmations == 1


async def test_a_photo_is_kept_without_its_exif(chat: Transcript, people: dict[str, int]) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (52.0, 4.0, 37.0)}  # GPS latitude
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    original = buffer.getvalue()
    assert b"SecretCam" in original

    await chat.send("anna", "Laterne kaputt")
    await chat.send("anna", located(MARKT))
    thanks = await chat.upload("anna", "IMG_2041.jpg", "image/jpeg", original)
    assert "Danke für das Foto" in thanks
    await chat.send("anna", "Mast umgeknickt")
    await chat.send("anna", "nein")
    [report] = await all_reports(chat)
    assert report.photo_file_id is not None and report.photo_token
    async with chat.db.uow() as uow:
        stored = await uow.session.get(StoredFile, report.photo_file_id)
        assert stored is not None and stored.filename == "photo.jpg"
        data = stored.data
    assert b"SecretCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48) and not image.getexif()
    room = await chat.notifications("room:bauhof")
    assert "Neue Meldung" in room and "[image:" in room  # staff see the photo


async def test_not_a_photo_and_cancel(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "Laterne kaputt")
    await chat.send("anna", located(MARKT))
    broken = await chat.upload("anna", "x.jpg", "image/jpeg", b"not really a jpeg")
    assert "Dieses Foto konnte ich nicht lesen" in broken
    cancelled = await chat.press("anna", "Abbrechen")
    assert "es wurde nichts gemeldet" in cancelled
    assert await all_reports(chat) == []


async def test_my_reports_and_showing_one(chat: Transcript, people: dict[str, int]) -> None:
    number = await report_anna(chat)
    mine = await chat.send("anna", "/meldungen")
    assert f"Nr. {number} · Straßenbeleuchtung · Wallstraße" in mine
    shown = await chat.press("anna", f"Nr. {number}")
    assert "Status: gemeldet" in shown
    assert "Ihre Beschreibung: Leuchtet seit drei Tagen nicht" in shown
    stopped = await chat.press("anna", "Keine Neuigkeiten mehr")
    assert "keine Nachrichten mehr" in stopped
    other = await chat.send("ben", "/meldungen")
    assert "You have not reported or followed any defects yet." in other
