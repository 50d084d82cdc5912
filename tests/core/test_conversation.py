"""The conversation engine through the console channel: menus, buttons, steps, bad input."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from flows.context import Ctx
from flows.registry import Router
from flows.types import Inbound
from storage.db import Database
from storage.models.conversation import Conversation, ProcessedUpdate
from storage.models.identity import ChannelAccount, Citizen
from tests.support.chat import Transcript

crash_router = Router("test-crash")


@crash_router.command("crash")
async def crash(ctx: Ctx, args: str) -> None:
    ctx.citizen.first_name = "Changed"
    raise RuntimeError("boom")


@crash_router.command("slowcount")
async def slow_count(ctx: Ctx, args: str) -> None:
    count = int(ctx.data.get("count", 0))
    await asyncio.sleep(0)  # let the other input try to run in between
    ctx.data["count"] = count + 1
    ctx.say(f"count={count + 1}")


async def test_start_shows_the_menu_in_german_by_default(chat: Transcript) -> None:
    answer = await chat.send("anna", "/start")
    assert "willkommen" in answer
    assert "[1]" in answer and "Mein Profil" in answer


async def test_telegram_language_hint_picks_english(chat: Transcript) -> None:
    inbound = Inbound(
        channel="console",
        user_id="tom",
        chat_id="tom",
        kind="command",
        command="start",
        key="k-tom",
        language_hint="en-GB",
    )
    answer = await chat.handle(inbound)
    assert "welcome" in answer.lower()


async def test_language_switch_both_ways(chat: Transcript) -> None:
    await chat.send("anna", "/start")
    answer = await chat.send("anna", "/language")
    assert "English" in answer and "Deutsch" in answer
    answer = await chat.press("anna", "English")
    assert "speak English" in answer and "My profile" in answer
    answer = await chat.send("anna", "deutsch")
    assert "Deutsch" in answer and "Mein Profil" in answer


async def test_typing_a_number_or_a_label_picks_the_button(chat: Transcript) -> None:
    menu = await chat.send("anna", "/start")
    number = next(
        line.split("]")[0].strip(" [") for line in menu.splitlines() if "Mein Profil" in line
    )
    by_number = await chat.send("anna", number)
    assert "Ihr Profil" in by_number
    await chat.send("anna", "/start")
    by_label = await chat.send("anna", "mein profil")
    assert "Ihr Profil" in by_label


async def test_free_text_keywords_land_where_expected(chat: Transcript) -> None:
    assert "Ihr Profil" in await chat.send("anna", "Ich möchte mein Profil ändern")
    assert "Welche Sprache" in await chat.send("anna", "language")


async def test_stale_button_answers_with_the_current_menu(chat: Transcript) -> None:
    await chat.send("anna", "/start")
    old_reply = chat.last["anna"][-1]
    await chat.send("anna", "/profile")
    from handlers.menus import pack

    answer = await chat.choose("anna", pack(old_reply.menu, 0))
    assert "veraltet" in answer
    assert "Ihr Profil" in answer  # the current menu again


async def test_forged_and_foreign_buttons_are_refused(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    await chat.send("ben", "/start")
    from handlers.menus import pack

    bens_menu = chat.last["ben"][-1].menu
    for token in [
        "x" * 64,
        "ZZZZZZZZZZZZ:0",
        pack(bens_menu, 0),
        pack(chat.last["anna"][-1].menu, 99),
    ]:
        answer = await chat.choose("anna", token)
        assert "nicht gültig" in answer
    async with db.uow() as uow:
        ben = (
            await uow.session.execute(select(Conversation).where(Conversation.user_id == "ben"))
        ).scalar_one()
        assert ben.step == ""


async def test_repeated_update_is_ignored(chat: Transcript, db: Database) -> None:
    first = await chat.send("anna", "/start", key="same-update")
    again = await chat.send("anna", "/start", key="same-update")
    assert first and again == ""
    async with db.uow() as uow:
        seen = (
            await uow.session.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar_one()
        assert seen == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/frobnicate", "Den Befehl /frobnicate kenne ich nicht"),
        ("   ", "leere Nachricht"),
        ("\x00\x07\x1b", "leere Nachricht"),
        ("🙂🙂🙂", "nur mit Buchstaben"),
        ("x" * 10_000, "zu lang"),
    ],
)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    chat: Transcript, db: Database, line: str, expected: str
) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "1")  # now waiting for the first name
    answer = await chat.send("anna", line)
    assert expected in answer
    async with db.uow() as uow:
        citizen = (await uow.session.execute(select(Citizen))).scalar_one()
        assert citizen.first_name is None


async def test_a_number_where_a_name_is_expected_is_asked_again(chat: Transcript) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "1")
    answer = await chat.send("anna", "12345")
    assert "nur mit Buchstaben" in answer
    answer = await chat.send("anna", "Anna")
    assert "Vorname: Anna" in answer


async def test_a_crash_inside_a_flow_apologises_and_keeps_the_conversation(
    chat: Transcript, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "1")  # waiting for the first name
    answer = await chat.send("anna", "/crash")
    assert "Entschuldigung" in answer and "Traceback" not in answer
    assert "flow failed" in caplog.text
    async with db.uow() as uow:
        citizen = (await uow.session.execute(select(Citizen))).scalar_one()
        assert citizen.first_name is None  # the half-done change was rolled back
    answer = await chat.send("anna", "Anna")
    assert "Vorname: Anna" in answer  # still at the same question


async def test_two_concurrent_inputs_of_one_conversation_run_in_order(chat: Transcript) -> None:
    answers = await asyncio.gather(*(chat.send("anna", "/slowcount") for _ in range(5)))
    counts = sorted(int(a.split("=")[1]) for a in answers)
    assert counts == [1, 2, 3, 4, 5]


async def test_restart_in_the_middle_of_a_step_continues_there(chat: Transcript) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "6")  # e-mail
    chat.restart()
    answer = await chat.send("anna", "anna@example.org")
    assert "E-Mail: anna@example.org" in answer


async def test_accounts_are_created_once(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    await chat.send("anna", "/menu")
    async with db.uow() as uow:
        assert (
            await uow.session.execute(select(func.count()).select_from(ChannelAccount))
        ).scalar_one() == 1
        assert (
            await uow.session.execute(select(func.count()).select_from(Citizen))
        ).scalar_one() == 1


async def test_help_lists_the_commands(chat: Transcript) -> None:
    answer = await chat.send("anna", "/help")
    for command in ("/start", "/menu", "/cancel", "/language", "/link", "/mydata", "/deleteme"):
        assert command in answer


async def test_cancel_leaves_the_step(chat: Transcript) -> None:
    await chat.send("anna", "/profile")
    await chat.send("anna", "1")
    assert "Abgebrochen" in await chat.send("anna", "/cancel")
    assert "nicht verstanden" in await chat.send("anna", "Anna")
    assert "nichts abzubrechen" in await chat.send("anna", "/cancel")
