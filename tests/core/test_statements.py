"""How many SQL statements one input costs (issue 14): `/menu` at most 4, a form step at most 6
on PostgreSQL. SQLite is held to the same limits. Counted with SQLAlchemy's
`before_cursor_execute`, which sees every statement sent to the database. BEGIN and COMMIT are
not counted: asyncpg sends them through its own calls, which that event does not see, and the
BEGIN that SQLite gets as a statement is left out so both databases are counted alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from flows import fields
from flows.context import Ctx
from flows.forms import Field, Form, open_form, register_form
from flows.registry import Router
from storage.db import Database
from tests.support.chat import Transcript

MENU_LIMIT = 4
FORM_STEP_LIMIT = 6


async def _submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    ctx.say(ctx.t("Saved."))


register_form(
    Form(
        key="statements",
        title="Test form",
        submit=_submit,
        fields=[
            Field("first", "Please enter your first name.", parse=fields.name),
            Field("last", "Please enter your last name.", parse=fields.name),
            Field("email", "Please enter your e-mail address.", parse=fields.email),
        ],
    )
)
router = Router("test-statements")


@router.command("statementform")
async def _open(ctx: Ctx, args: str) -> None:
    await open_form(ctx, "statements")


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            return
        statements.append(" ".join(statement.split())[:160])

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)


def _shown(statements: list[str]) -> str:
    return "\n".join(f"  {n}. {s}" for n, s in enumerate(statements, 1))


async def test_menu_statements(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    await chat.send("anna", "/menu")
    with counting(db) as statements:
        answer = await chat.send("anna", "/menu")
    assert answer
    print(f"{db.dialect}: /menu ran {len(statements)} statements\n{_shown(statements)}")
    assert len(statements) <= MENU_LIMIT, _shown(statements)


async def test_form_step_statements(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    assert "(1/3)" in await chat.send("anna", "/statementform")
    assert "(2/3)" in await chat.send("anna", "Anna")
    with counting(db) as statements:
        answer = await chat.send("anna", "Schulte")
    assert "(3/3)" in answer
    print(f"{db.dialect}: a form step ran {len(statements)} statements\n{_shown(statements)}")
    assert len(statements) <= FORM_STEP_LIMIT, _shown(statements)
