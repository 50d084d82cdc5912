"""Applying for things: the menu of the town's forms, and what every form does on submit
(open a case in the right department, send the PDF receipt)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flows.context import Ctx
from flows.forms import FORMS, Answers, Field, Form, register_form, show_value
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Media
from services import documents, notify
from services.cases import records as cases
from services.cases.records import Case
from services.i18n import N_

router = Router("applications")
router.menu(
    N_("Apply for something"),
    "apply.menu",
    order=40,
    keywords=["antrag", "beantragen", "anmelden", "anmeldung", "apply", "application", "formular"],
)


@dataclass(frozen=True)
class Application:
    form: str
    department: str
    # one line for a staff room that is not private: labelled facts without personal data
    # (`shared_facts`); private rooms get every answer (docs/staff-rooms.md)
    summary: Callable[[Ctx, Answers], str]


APPLICATIONS: dict[str, Application] = {}


def register_application(
    *,
    department: str,
    summary: Callable[[Ctx, Answers], str],
    keywords: list[str],
    **form_args: Any,
) -> Form:
    """A form whose submission becomes a case of `department` (form_args as for `Form`)."""
    form = register_form(Form(submit=_submitter(form_args["key"]), **form_args))
    APPLICATIONS[form.key] = Application(form.key, department, summary)
    if cases.title_of(form.key) != form.title:
        raise ValueError(f"form {form.key!r}: add its title to services.cases.records.FORM_TITLES")
    router.add_keywords("form.open", keywords, form.key)
    return form


@router.command("apply", "antrag", help=N_("apply for something: dog tax, business, daycare ..."))
async def apply_command(ctx: Ctx, args: str) -> None:
    await apply_menu(ctx, "")


@router.action("apply.menu")
async def apply_menu(ctx: Ctx, arg: str) -> None:
    buttons = [ctx.button(FORMS[k].title, "form.open", k) for k in APPLICATIONS if k in FORMS]
    buttons += [ctx.button("My applications", "case.list"), back_to_menu(ctx)]
    ctx.say(ctx.t("What would you like to apply for?"), buttons)


def _files(answers: Answers) -> list[int]:
    return [int(v["file_id"]) for v in answers.values() if isinstance(v, dict) and "file_id" in v]


def _submitter(key: str) -> Callable[[Ctx, Answers], Awaitable[None]]:
    async def submit(ctx: Ctx, answers: Answers) -> None:
        await submit_case(ctx, key, answers)

    return submit


def shared_facts(ctx: Ctx, key: str, answers: Answers, names: Sequence[str]) -> str:
    """ "Label: value" of the answers `names` (in form order), as `ctx` reads them."""
    form = FORMS[key]
    wanted = [
        f for f in form.fields if f.name in names and f.applies(answers) and f.name in answers
    ]
    return " · ".join(f"{ctx.t(f.label or f.prompt)}: {_shown(ctx, f, answers)}" for f in wanted)


def room_details(ctx: Ctx, key: str, answers: Answers) -> str:
    """Every answer with its label: what a private staff room reads (after the summary)."""
    form = FORMS[key]
    return "\n".join(f"• {label}: {value}" for label, value in answer_lines(ctx, form, answers))


def room_texts(ctx: Ctx, key: str, answers: Answers) -> tuple[str, str]:
    """(summary, details) of an application as its department's room reads them, in the
    room's language: the summary for every room, the details for private rooms only."""
    app = APPLICATIONS[key]
    room = ctx.in_language(notify.room_language(ctx.city, app.department))
    return app.summary(room, answers), room_details(room, key, answers)


async def submit_case(ctx: Ctx, key: str, answers: Answers) -> None:
    app = APPLICATIONS[key]
    summary, details = room_texts(ctx, key, answers)
    case = await cases.submit(
        ctx.uow,
        ctx.city,
        citizen_id=ctx.citizen_id,
        form=key,
        department=app.department,
        answers=answers,
        summary=summary,
        details=details,
        now=ctx.now,
        files=_files(answers),
    )
    lines = [
        ctx.t(
            "Thank you! Your application was sent to {department}. Your reference is {ref}.",
            department=cases.department_name(ctx.city, app.department, ctx.lang),
            ref=case.reference,
        )
    ]
    if case.expected_on:
        lines.append(ctx.t("You can expect a decision by {date}.", date=ctx.date(case.expected_on)))
    lines.append(ctx.t("I will tell you here whenever something happens. Your receipt:"))
    ctx.say(
        "\n".join(lines),
        [
            ctx.button("Show the application", "case.show", case.reference),
            ctx.button("My applications", "case.list"),
            back_to_menu(ctx),
        ],
        media=receipt(ctx, case),
        private=True,
    )


def answer_lines(ctx: Ctx, form: Form, answers: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    for fld in form.fields:
        if fld.applies(answers) and fld.name in answers:
            lines.append((ctx.t(fld.label or fld.prompt), _shown(ctx, fld, answers)))
    return lines


def _shown(ctx: Ctx, fld: Field, answers: dict[str, Any]) -> str:
    try:
        return show_value(ctx, fld, answers[fld.name], answers)
    except (ValueError, KeyError, TypeError):  # an answer from an older version of the form
        return str(answers[fld.name])


def receipt(ctx: Ctx, case: Case) -> Media:
    """The receipt as the town would send it: letterhead, reference, date, the answers, the fee
    estimate and warnings the summary showed, and when a decision can be expected."""
    form = FORMS.get(case.form)
    notes = list(form.notes(ctx, case.answers)) if form and form.notes else []
    if case.expected_on:
        notes.append(ctx.t("You can expect a decision by {date}.", date=ctx.date(case.expected_on)))
    letter = documents.Letter(
        head=documents.letterhead(ctx.city, case.department, ctx.lang),
        title=ctx.t(
            "Receipt for your application: {title}", title=ctx.t(form.title) if form else case.form
        ),
        facts=[
            (ctx.t("Reference"), case.reference),
            (ctx.t("Received on"), ctx.datetime(case.created_at)),
            (ctx.t("Date"), ctx.date(ctx.today())),
        ],
        sections=answer_lines(ctx, form, case.answers) if form else [],
        notes=notes,
        notes_heading=ctx.t("Fees and next steps"),
        footer=ctx.t(
            "Please quote the reference in all enquiries. This receipt confirms that the "
            "application was received; it is not a decision."
        ),
        office_hours_label=ctx.t("Office hours"),
    )
    return Media("document", f"{case.reference}.pdf", "application/pdf", documents.render(letter))
