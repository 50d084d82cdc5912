"""The declarative form engine, with a small form defined here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from flows import fields
from flows.context import Ctx
from flows.forms import Choice, Field, FieldProblem, Form, register_form
from flows.registry import Router
from storage.db import Database
from storage.models.conversation import FormDraft
from storage.models.outbox import StoredFile
from tests.support.chat import Transcript

SUBMITTED: list[dict[str, Any]] = []
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    SUBMITTED.append(answers)
    ctx.say(ctx.t("Saved."))


def check(ctx: Ctx, answers: dict[str, Any]) -> None:
    if answers.get("pets", 0) > 3 and answers.get("size") == "small":
        raise FieldProblem("pets", "Please enter a number from {low} to {high}.", low=0, high=3)


register_form(
    Form(
        key="testform",
        title="Test form",
        submit=submit,
        check=check,
        fields=[
            Field(
                "name",
                "Please enter your first name.",
                parse=fields.name,
                prefill=lambda ctx: ctx.citizen.first_name,
                label="First name",
            ),
            Field(
                "size",
                "Which language would you like?",
                kind="choice",
                choices=[Choice("small", "Deutsch"), Choice("large", "English")],
            ),
            Field("pets", "Please enter a number, for example 12,5.", parse=fields.integer(0, 9)),
            Field("email", "Please enter your e-mail address.", parse=fields.email, optional=True),
            Field(
                "proof",
                "Please send a photo or a PDF file here.",
                kind="file",
                when=lambda answers: answers.get("size") == "large",
            ),
        ],
    )
)
router = Router("test-forms")


@router.command("testform")
async def open_test_form(ctx: Ctx, args: str) -> None:
    from flows.forms import open_form

    await open_form(ctx, "testform")


async def test_one_question_at_a_time_with_reasks_back_skip_and_summary(chat: Transcript) -> None:
    SUBMITTED.clear()
    answer = await chat.send("anna", "/testform")
    assert "(1/4)" in answer and "Vornamen" in answer
    assert "nur mit Buchstaben" in await chat.send("anna", "1234")
    answer = await chat.send("anna", "Anna")
    assert "(2/4)" in answer and "[1] Deutsch" in answer
    answer = await chat.send("anna", "2")  # picks "English" by number: the proof question appears
    assert "(3/5)" in answer
    answer = await chat.send("anna", "zurück")  # back, by label
    assert "Bisherige Antwort: English" in answer
    await chat.press("anna", "Deutsch")
    assert "ganze Zahl" in await chat.send("anna", "viele")
    answer = await chat.send("anna", "5")  # digits here are input, not a menu pick
    assert "(4/4)" in answer
    answer = await chat.press("anna", "Überspringen")
    # the cross-field check sends the resident back to the question before the summary
    assert "Zahl von 0 bis 3" in answer and "Bisherige Antwort: 5" in answer
    answer = await chat.send("anna", "2")
    assert "prüfen Sie Ihren Antrag" in answer and "(übersprungen)" in answer
    assert "Vorname: Anna" in answer
    await chat.press("anna", "Antwort ändern")
    answer = await chat.press("anna", "Vorname")
    assert "Bisherige Antwort: Anna" in answer
    answer = await chat.send("anna", "Anne")
    assert "Vorname: Anne" in answer
    summary = chat.last["anna"][-1].menu
    answer = await chat.press("anna", "Absenden")
    assert "Gespeichert" in answer
    assert SUBMITTED == [{"name": "Anne", "size": "small", "pets": 2, "email": None}]
    # the summary's send button is stale now: pressed again, nothing is sent twice
    from handlers.menus import pack

    assert "veraltet" in await chat.choose("anna", pack(summary, 0))
    assert len(SUBMITTED) == 1


async def test_profile_answers_are_offered(chat: Transcript) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "1")
    await chat.send("anna", "Anna")
    answer = await chat.send("anna", "/testform")
    assert "Aus Ihrem Profil: Anna" in answer
    answer = await chat.press("anna", "Übernehmen")
    assert "(2/4)" in answer


async def test_draft_survives_a_pause_and_a_restart(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/testform")
    await chat.send("anna", "Anna")
    await chat.send("anna", "/menu")  # a pause: the resident does something else
    chat.restart()  # and the program restarts
    answer = await chat.send("anna", "/testform")
    assert "angefangenen Antrag" in answer
    answer = await chat.press("anna", "Weitermachen")
    assert "(2/4)" in answer
    chat.restart()
    answer = await chat.send("anna", "English")  # restart in the middle of a question
    assert "(3/5)" in answer
    async with db.uow() as uow:
        draft = (await uow.session.execute(select(FormDraft))).scalar_one()
        assert draft.answers == {"name": "Anna", "size": "large"}


async def test_files_where_files_belong(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/testform")
    await chat.send("anna", "Anna")
    await chat.send("anna", "English")
    assert "Foto oder eine PDF-Datei" not in await chat.upload("anna", "x.png", "image/png", PNG)
    answer = await chat.upload(
        "anna", "x.png", "image/png", PNG
    )  # photo where a number is expected
    assert "als Text" in answer
    await chat.send("anna", "1")
    await chat.press("anna", "Überspringen")
    answer = await chat.send("anna", "here is my proof")  # text where a file is expected
    assert "Foto oder eine PDF-Datei" in answer
    answer = await chat.upload(
        "anna", "big.pdf", "application/pdf", b"%PDF" + b"0" * (11 * 1024 * 1024)
    )
    assert "zu groß" in answer
    answer = await chat.upload("anna", "fake.pdf", "application/pdf", b"not a pdf")
    assert "kein lesbares PDF" in answer
    answer = await chat.upload("anna", "nachweis.png", "image/png", PNG)
    assert "prüfen Sie Ihren Antrag" in answer and "nachweis.png" in answer
    async with db.uow() as uow:
        assert (
            await uow.session.execute(select(func.count()).select_from(StoredFile))
        ).scalar_one() == 1


async def test_cancel_keeps_the_draft_and_discard_removes_it(
    chat: Transcript, db: Database
) -> None:
    await chat.send("anna", "/testform")
    await chat.send("anna", "Anna")
    answer = await chat.press("anna", "Abbrechen")
    assert "Entwurf" in answer
    answer = await chat.press("anna", "Entwurf verwerfen")
    assert "verworfen" in answer
    async with db.uow() as uow:
        assert (
            await uow.session.execute(select(func.count()).select_from(FormDraft))
        ).scalar_one() == 0


async def test_numbers_pick_on_the_summary(chat: Transcript) -> None:
    SUBMITTED.clear()
    await chat.send("anna", "/testform")
    for line in ["Anna", "Deutsch", "1"]:
        await chat.send("anna", line)
    answer = await chat.press("anna", "Überspringen")
    assert "prüfen Sie Ihren Antrag" in answer
    assert "Gespeichert" in await chat.send("anna", "1")  # [1] Absenden
    assert len(SUBMITTED) == 1
