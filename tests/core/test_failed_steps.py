"""A step that fails is undone as a whole (no savepoint on the way of every input), yet the
input is recorded as handled and answered; a failure that keeps its changes keeps them."""

from __future__ import annotations

from flows.context import Ctx
from flows.registry import Router
from services.errors import InvalidInput
from services.identity import accounts as identity
from storage.db import Database
from tests.support.chat import Transcript

router = Router("test-failed-steps")


@router.command("failrename")
async def fail_rename(ctx: Ctx, args: str) -> None:
    ctx.citizen.first_name = "Changed"
    ctx.goto("somewhere")
    ctx.say("half done")
    raise InvalidInput("Please enter a number from {low} to {high}.", low=1, high=3)


@router.command("crashrename")
async def crash_rename(ctx: Ctx, args: str) -> None:
    ctx.citizen.first_name = "Crashed"
    await ctx.uow.flush()  # already written inside the transaction when it fails
    raise RuntimeError("boom")


@router.command("keeprename")
async def keep_rename(ctx: Ctx, args: str) -> None:
    ctx.citizen.first_name = "Counted"
    error = InvalidInput("Please enter a number from {low} to {high}.", low=1, high=3)
    raise error.keeping_changes()


async def _first_name(db: Database) -> str | None:
    async with db.uow() as uow:
        account = await identity.find_account(uow, "console", "anna")
        assert account is not None
        citizen = await identity.citizen(uow, account.citizen_id)
        assert citizen is not None
        return citizen.first_name


async def test_a_failed_step_is_undone_and_answered_once(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    answer = await chat.send("anna", "/failrename", key="fail-1")
    assert "1" in answer and "3" in answer and "half done" not in answer
    assert await _first_name(db) is None
    assert await chat.send("anna", "/failrename", key="fail-1") == ""  # recorded: not run twice

    answer = await chat.send("anna", "/crashrename", key="crash-1")
    assert "Es wurde nichts geändert" in answer
    assert await _first_name(db) is None
    assert await chat.send("anna", "/crashrename", key="crash-1") == ""

    assert "1" in await chat.send("anna", "/keeprename")
    assert await _first_name(db) == "Counted"


async def test_a_first_contact_that_fails_still_creates_the_resident(
    chat: Transcript, db: Database
) -> None:
    answer = await chat.send("bert", "/failrename")
    assert "1" in answer
    async with db.uow() as uow:
        assert await identity.find_account(uow, "console", "bert") is not None
