"""The Baubetriebshof's room: take, close with a public note, ask the reporter, notes, not ours
(passed on or closed), and every follower told in their own language."""

from __future__ import annotations

from services.defects import reports
from services.defects.places import Place
from tests.defects.conftest import WALLSTRASSE, all_reports, located, north_of, report_anna
from tests.support.chat import Transcript


async def ben_follows(chat: Transcript) -> None:
    await chat.send("ben", "street light broken")
    await chat.send("ben", located(north_of(WALLSTRASSE, 12)))
    followed = await chat.press("ben", "Follow no.")
    assert "You now follow report no." in followed


async def test_bodo_closes_and_reporter_and_follower_are_told(
    chat: Transcript, people: dict[str, int]
) -> None:
    number = await report_anna(chat)
    await ben_follows(chat)
    posted = await chat.notifications("room:bauhof")
    assert f"Neue Meldung Nr. {number}: Straßenbeleuchtung" in posted

    taken = await chat.press("bodo", "Übernehmen", room="bauhof")
    assert f"Bodo kümmert sich jetzt um Meldung Nr. {number}" in taken
    assert (
        f"Um Meldung Nr. {number} (Straßenbeleuchtung, Wallstraße) kümmert sich jetzt: "
        "Baubetriebshof." in await chat.notifications("anna")
    )
    assert (
        f"Report no. {number} (Street lighting, Wallstraße) is being dealt with by the "
        "Municipal works depot." in await chat.notifications("ben")
    )

    asked = await chat.press("bodo", "Mit Hinweis abschließen", room="bauhof")
    assert "Dieser Hinweis ist öffentlich" in asked
    too_short = await chat.send("bodo", "ok", room="bauhof")
    assert "ein paar Worte" in too_short
    confirm = await chat.send("bodo", "Leuchtmittel am 26.11. getauscht.", room="bauhof")
    assert "Alle Folgenden werden sofort informiert" in confirm
    assert (await all_reports(chat))[0].status == "in_progress"  # nothing closed yet
    closed = await chat.press("bodo", f"Ja, Nr. {number} abschließen", room="bauhof")
    assert (
        f"Meldung Nr. {number} von Bodo abgeschlossen. 2 Personen, die der Meldung folgen, "
        "wurden informiert." in closed
    )

    german = await chat.notifications("anna")
    assert f"Meldung Nr. {number} (Straßenbeleuchtung, Wallstraße) ist erledigt." in german
    assert "Leuchtmittel am 26.11. getauscht." in german
    english = await chat.notifications("ben")
    assert f"Report no. {number} (Street lighting, Wallstraße) is done." in english
    # what Bodo wrote in German reaches Ben marked as German (issue 12)
    assert "“Leuchtmittel am 26.11. getauscht.” (in German)" in english

    [report] = await all_reports(chat)
    assert (report.status, report.status_note) == ("done", "Leuchtmittel am 26.11. getauscht.")
    shown = await chat.press("ben", "Show the report")
    assert "Status: done" in shown and "done: Leuchtmittel am 26.11. getauscht." in shown
    late = await chat.send("bodo", "/maengel", room="bauhof")
    assert f"Nr. {number}" not in late


async def test_staff_of_another_department_cannot_act(
    chat: Transcript, people: dict[str, int]
) -> None:
    number = await report_anna(chat)
    refused = await chat.send("olga", "/maengel bauhof", room="ordnung")
    assert "Nur Mitarbeitende dieses Fachbereichs" in refused
    await chat.notifications("room:bauhof")
    # Olga (public order office) in the works depot's room: the room is for its staff only
    pressed = await chat.send("olga", "Übernehmen", room="bauhof")
    assert "In diesem Raum können nur Mitarbeitende von" in pressed
    [report] = await all_reports(chat)
    assert report.status == "submitted" and report.id == number


async def test_question_to_the_reporter_and_the_answer(
    chat: Transcript, people: dict[str, int]
) -> None:
    number = await report_anna(chat)
    await chat.notifications("room:bauhof")
    await chat.press("bodo", "Meldende Person fragen", room="bauhof")
    await chat.send("bodo", "Steht die Laterne vor Hausnummer 5 oder 7?", room="bauhof")
    sent = await chat.press("bodo", "Ja", room="bauhof")
    assert "an die meldende Person geschickt" in sent
    told = await chat.notifications("anna")
    assert "Bodo (Baubetriebshof) hat eine Frage zu Ihrer Meldung" in told
    assert "Hausnummer 5 oder 7" in told
    await chat.send("anna", "Antworten")
    thanks = await chat.send("anna", "Vor der 7.")
    assert "wurde weitergegeben" in thanks
    room = await chat.notifications("room:bauhof")
    assert f"Antwort der meldenden Person zu Meldung Nr. {number}: Vor der 7." in room
    [report] = await all_reports(chat)
    assert report.status == "in_progress"  # asking made Bodo the handler


async def test_not_ours_passes_it_on_with_a_reason(
    chat: Transcript, people: dict[str, int]
) -> None:
    number = await report_anna(chat)
    await ben_follows(chat)
    await chat.notifications("room:bauhof")
    choose = await chat.press("bodo", "Nicht zuständig", room="bauhof")
    assert "Ordnungsamt" in choose and "Nicht Sache der Stadt" in choose
    why = await chat.press("bodo", "Ordnungsamt", room="bauhof")
    assert "Warum ist Ordnungsamt zuständig?" in why
    confirm = await chat.send(
        "bodo", "Die Laterne gehört zum Parkplatz, den das Ordnungsamt betreut.", room="bauhof"
    )
    assert "weitergeben an: Ordnungsamt?" in confirm
    done = await chat.press("bodo", "Ja, weitergeben", room="bauhof")
    assert f"Meldung Nr. {number} an Ordnungsamt weitergegeben" in done
    arrived = await chat.notifications("room:ordnung")
    assert f"Meldung Nr. {number} an Sie weitergegeben: Straßenbeleuchtung" in arrived
    assert "Parkplatz" in arrived
    assert "weitergegeben an: Ordnungsamt" in await chat.notifications("anna")
    assert "was passed on to the Public order office" in await chat.notifications("ben")
    [report] = await all_reports(chat)
    assert (report.department, report.status) == ("ordnung", "submitted")
    taken = await chat.press("olga", "Übernehmen", room="ordnung")
    assert "Olga kümmert sich jetzt" in taken


async def test_not_the_towns_at_all(chat: Transcript, people: dict[str, int]) -> None:
    number = await report_anna(chat)
    await chat.notifications("room:bauhof")
    await chat.send("bodo", "/language en", room="bauhof")
    await chat.send("bodo", "/maengel", room="bauhof")
    await chat.press("bodo", f"No. {number}", room="bauhof")
    await chat.press("bodo", "Not ours", room="bauhof")
    why = await chat.press("bodo", "Not the town's", room="bauhof")
    assert "Why can the town not fix it" in why
    confirm = await chat.send(
        "bodo", "Private Laterne des Hotels; Eigentümer informiert.", room="bauhof"
    )
    assert "as not the town's responsibility, with this public reason?" in confirm
    done = await chat.send("bodo", "1", room="bauhof")  # the yes/no list: its number picks
    assert "closed as not the town's responsibility" in done
    told = await chat.notifications("anna")
    assert "kann die Stadt nicht beheben: Private Laterne des Hotels" in told
    [report] = await all_reports(chat)
    assert report.status == "not_ours" and report.closed_at is not None


async def test_notes_stay_internal_and_api_reports_have_nobody_to_ask(
    chat: Transcript, people: dict[str, int]
) -> None:
    async with chat.db.uow() as uow:
        report = await reports.file_report(
            uow,
            chat.city,
            category="roads",
            place=Place(*WALLSTRASSE, "Wallstraße"),
            now=chat.clock.now(),
            description="Gully verstopft",
            source="api",
            client="fixmystreet",
            contact={"email": "x@example.org"},
        )
        await uow.commit()
        number = report.id
    posted = await chat.notifications("room:bauhof")
    assert (
        f"Neue Meldung Nr. {number}: Straßen und Wege" in posted and "API (fixmystreet)" in posted
    )
    nobody = await chat.press("bodo", "Meldende Person fragen", room="bauhof")
    assert "Open311-Schnittstelle" in nobody
    await chat.send("bodo", "/maengel", room="bauhof")
    await chat.press("bodo", f"Nr. {number}", room="bauhof")
    await chat.press("bodo", "Notiz hinzufügen", room="bauhof")
    added = await chat.send("bodo", "Kanalbetrieb informiert", room="bauhof")
    assert "Notiz zu Meldung" in added
    details = await chat.press("bodo", "Details", room="bauhof")
    assert (
        "Notiz von Bodo: Kanalbetrieb informiert" in details or "Kanalbetrieb informiert" in details
    )
    assert "x@example.org" in details  # staff see the API reporter's contact


async def test_typing_an_option_with_the_report_number(
    chat: Transcript, people: dict[str, int]
) -> None:
    first = await report_anna(chat)
    await chat.send("ben", "Schlagloch in der Kirchstraße 2")
    await chat.press("ben", "Nothing to add")
    await chat.send("ben", "no")
    await chat.notifications("room:bauhof")  # two reports, each with "Übernehmen"
    which = await chat.send("bodo", "Übernehmen", room="bauhof")
    assert "Übernehmen" in which and f"Übernehmen {first}" in which  # asks for the reference
    taken = await chat.send("bodo", f"Übernehmen {first + 1}", room="bauhof")
    assert f"Bodo kümmert sich jetzt um Meldung Nr. {first + 1}" in taken
    assert [r.status for r in await all_reports(chat)] == ["submitted", "in_progress"]
