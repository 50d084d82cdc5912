"""A declarative way to write multi-step forms.

A `Form` is a list of `Field`s and a `submit` function. The engine asks one question at a time,
validates with a clear re-ask, offers Back / Skip (optional fields) / Cancel, fills in what the
profile already holds and asks to confirm it, shows a summary where every answer can be changed,
and keeps a draft in the database, so a pause (or a restart) loses nothing.

Answers are JSON values: text, ISO dates, choice values, {"file_id": ...} for photos and PDFs,
{"lat": ..., "lon": ...} for a location pin, None for a skipped optional field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flows import fields, intent
from flows.context import Ctx
from flows.menu import back_to_menu, show_main_menu
from flows.registry import REGISTRY, Router
from flows.types import Attachment, Button
from services import drafts, files
from services.errors import DomainError, InvalidInput
from services.files import FILE_TYPES, MAX_FILE_BYTES
from services.i18n import N_
from services.town_area import in_town

FieldKind = Literal["text", "choice", "photo", "file", "location"]
Answers = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # msgid


@dataclass(frozen=True)
class Field:
    name: str
    prompt: str  # msgid: the question
    kind: FieldKind = "text"
    parse: Callable[[Ctx, str], Any] | None = None  # text -> JSON value; raises InvalidInput
    choices: Sequence[Choice] | Callable[[Ctx, Answers], Sequence[Choice]] = ()
    optional: bool = False
    when: Callable[[Answers], bool] | None = None  # ask only if this holds
    prefill: Callable[[Ctx], Any] | None = None  # a value the profile already holds
    show: Callable[[Ctx, Any], str] | None = None  # how the answer reads in the summary
    label: str = ""  # msgid for the summary; defaults to the field name
    max_bytes: int = MAX_FILE_BYTES
    accept: tuple[str, ...] = FILE_TYPES
    numbers: bool | None = None  # can the answer be a number? None: decided by `parse`

    def numbers_are_answers(self) -> bool:
        """A typed number is this field's answer (not a pick of Use this / Skip / Back)."""
        if self.numbers is not None:
            return self.numbers
        return self.kind in ("text", "location") and fields.numbers_are_answers(self.parse)

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)

    def options(self, ctx: Ctx, answers: Answers) -> Sequence[Choice]:
        return self.choices(ctx, answers) if callable(self.choices) else self.choices


@dataclass
class Form:
    key: str
    title: str  # msgid
    fields: list[Field]
    submit: Callable[[Ctx, Answers], Awaitable[None]]
    intro: str = ""  # msgid shown before the first question
    check: Callable[[Ctx, Answers], None] | None = None  # across fields; raise FieldProblem
    notes: Callable[[Ctx, Answers], list[str]] | None = (
        None  # fee estimates, warnings: shown in summary
    )
    roles: frozenset[str] = frozenset()
    by_name: dict[str, Field] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        if len(self.by_name) != len(self.fields):
            raise ValueError(f"form {self.key}: field names must be unique")


class FieldProblem(InvalidInput):
    """A cross-field check failed: ask `field` again with this message."""

    def __init__(self, field: str, message: str, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


FORMS: dict[str, Form] = {}
router = Router("forms")


# Other capabilities add lines to every summary before sending (trust: "this application needs
# your identity checked in person").
SummaryNote = Callable[[Ctx, str], Awaitable[list[str]]]
SUMMARY_NOTES: list[SummaryNote] = []


def summary_note(note: SummaryNote) -> SummaryNote:
    SUMMARY_NOTES.append(note)
    return note


def register_form(form: Form) -> Form:
    if form.key in FORMS:
        raise ValueError(f"form {form.key!r} registered twice")
    FORMS[form.key] = form
    return form


# ---------------------------------------------------------------- drafts
async def _save(ctx: Ctx, key: str, answers: Answers, current: str) -> None:
    await drafts.save(ctx.uow, ctx.citizen_id, key, answers, current, ctx.now)


async def _answers(ctx: Ctx, key: str) -> Answers:
    return await drafts.answers(ctx.uow, ctx.citizen_id, key) or {}


async def discard_draft(ctx: Ctx, key: str) -> None:
    await drafts.discard(ctx.uow, ctx.citizen_id, key)


# ---------------------------------------------------------------- the walk
def _form(ctx: Ctx, key: str) -> Form:
    form = FORMS.get(key)
    if form is None:
        raise InvalidInput("This form is not available.")
    if form.roles and not any(ctx.has_role(role) for role in form.roles):
        raise InvalidInput("This form is only for authorised staff.")
    return form


def _next_field(form: Form, answers: Answers) -> Field | None:
    return next((f for f in form.fields if f.applies(answers) and f.name not in answers), None)


def _previous_field(form: Form, answers: Answers, current: str) -> Field | None:
    names = [f.name for f in form.fields]
    index = names.index(current) if current in names else len(names)
    for candidate in reversed(form.fields[:index]):
        if candidate.applies(answers):
            return candidate
    return None


def show_value(ctx: Ctx, fld: Field, value: Any, answers: Answers | None = None) -> str:
    if value is None:
        return ctx.t("(skipped)")
    if fld.show is not None:
        return fld.show(ctx, value)
    if fld.kind == "choice":
        for choice in fld.options(ctx, answers or {}):
            if choice.value == value:
                return ctx.t(choice.label)
    if isinstance(value, dict) and "file_id" in value:
        return str(value.get("filename") or ctx.t("file"))
    if isinstance(value, dict) and "lat" in value:
        return f"{value['lat']:.5f}, {value['lon']:.5f}"
    return str(value)


async def open_form(ctx: Ctx, key: str) -> None:
    form = _form(ctx, key)
    answers = await _answers(ctx, key)
    if answers:
        ctx.say(
            ctx.t(
                "You have an unfinished application: {title}. Continue where you left off?",
                title=ctx.t(form.title),
            ),
            [
                ctx.button("Continue", "form.resume", key),
                ctx.button("Start over", "form.restart", key),
                back_to_menu(ctx),
            ],
        )
        return
    if form.intro:
        ctx.say(ctx.t(form.intro))
    await _advance(ctx, form, answers)


async def _advance(ctx: Ctx, form: Form, answers: Answers) -> None:
    nxt = _next_field(form, answers)
    if nxt is None:
        await _summary(ctx, form, answers)
    else:
        await _ask(ctx, form, nxt, answers)


async def _ask(ctx: Ctx, form: Form, fld: Field, answers: Answers, problem: str = "") -> None:
    await _save(ctx, form.key, answers, fld.name)
    position = [f.name for f in form.fields if f.applies(answers)]
    number = position.index(fld.name) + 1 if fld.name in position else 0
    lines = [problem] if problem else []
    lines.append(f"{ctx.t(form.title)} ({number}/{len(position)})")
    lines.append(ctx.t(fld.prompt))
    buttons: list[Button] = []
    if fld.kind == "choice":
        buttons += [ctx.button(c.label, "form.choose", c.value) for c in fld.options(ctx, answers)]
    current = answers.get(fld.name)
    if fld.name in answers and current is not None:
        lines.append(ctx.t("Current answer: {value}", value=show_value(ctx, fld, current, answers)))
        buttons.append(ctx.button("Keep this answer", "form.keep", fld.name))
    elif fld.prefill is not None and (known := fld.prefill(ctx)) not in (None, ""):
        lines.append(
            ctx.t("From your profile: {value}", value=show_value(ctx, fld, known, answers))
        )
        buttons.append(ctx.button("Use this", "form.prefill", fld.name))
    if fld.optional:
        buttons.append(ctx.button("Skip", "form.skip", fld.name))
    if _previous_field(form, answers, fld.name) is not None:
        buttons.append(ctx.button("Back", "form.back", fld.name))
    buttons.append(ctx.button("Cancel", "form.cancel", form.key))
    step = "form.pick" if fld.kind == "choice" else "form.input"
    ctx.ask(step, "\n".join(lines), buttons, form=form.key, field=fld.name)


async def _summary(ctx: Ctx, form: Form, answers: Answers) -> None:
    if form.check is not None:
        try:
            form.check(ctx, answers)
        except FieldProblem as problem:
            await _ask(
                ctx,
                form,
                form.by_name[problem.field],
                answers,
                ctx.t(problem.message, **problem.params),
            )
            return
    await _save(ctx, form.key, answers, "")
    lines = [ctx.t("Please check your application: {title}", title=ctx.t(form.title))]
    for fld in form.fields:
        if fld.applies(answers) and fld.name in answers:
            label = ctx.t(fld.label or fld.prompt)
            lines.append(f"• {label}: {show_value(ctx, fld, answers[fld.name], answers)}")
    if form.notes is not None:
        lines += form.notes(ctx, answers)
    for note in SUMMARY_NOTES:
        lines += await note(ctx, form.key)
    ctx.ask(
        "form.summary",
        "\n".join(lines),
        [
            ctx.button("Send", "form.submit", form.key),
            ctx.button("Change an answer", "form.changes", form.key),
            ctx.button("Cancel", "form.cancel", form.key),
        ],
        form=form.key,
        field="",
    )


async def _accept(ctx: Ctx, form: Form, fld: Field, value: Any) -> None:
    answers = await _answers(ctx, form.key)
    answers[fld.name] = value
    for later in form.fields:  # answers to questions that no longer apply are dropped
        if later.name in answers and not later.applies(answers):
            del answers[later.name]
    await _advance(ctx, form, answers)


def _current(ctx: Ctx) -> tuple[Form, Field] | None:
    key, name = ctx.data.get("form"), ctx.data.get("field")
    form = FORMS.get(str(key))
    if form is None or name not in form.by_name:
        return None
    return form, form.by_name[str(name)]


# ---------------------------------------------------------------- input
def _numbers_are_answers(ctx: Ctx) -> bool:
    found = _current(ctx)
    return found is None or found[1].numbers_are_answers()


@router.step("form.input", free_text=_numbers_are_answers)
async def input_given(ctx: Ctx) -> None:
    await _input(ctx)


@router.step("form.pick", free_text=False)
async def pick_given(ctx: Ctx) -> None:
    await _input(ctx)


@router.step("form.summary", free_text=False)
async def summary_text(ctx: Ctx) -> None:
    form = FORMS.get(str(ctx.data.get("form")))
    if form is None:
        show_main_menu(ctx)
        return
    ctx.say(ctx.t("Please choose Send, Change an answer or Cancel."))
    await _summary(ctx, form, await _answers(ctx, form.key))


async def _input(ctx: Ctx) -> None:
    found = _current(ctx)
    if found is None:
        show_main_menu(ctx)
        return
    form, fld = found
    answers = await _answers(ctx, form.key)
    try:
        value = await _value(ctx, form, fld, answers)
    except DomainError as problem:
        if await _aside(ctx, form):
            await _ask(ctx, form, fld, answers)
        else:
            await _ask(ctx, form, fld, answers, ctx.t(problem.message, **problem.params))
        return
    await _accept(ctx, form, fld, value)


# read-only answers to a question asked in the middle of a form (flows/info.py)
ASIDE_ACTIONS = frozenset(
    {"info.fee", "info.bring", "info.office", "info.transit", "info.auction", "info.moving"}
)


async def _aside(ctx: Ctx, form: Form) -> bool:
    """A text that is no answer to the form's question but a question of its own (what does it
    cost, what to bring, when is the office open, help): answered, and the form's question is
    asked again below it. Anything else is a wrong answer, said as such."""
    if ctx.inbound.kind != "text" or not ctx.inbound.text.strip():
        return False
    understood = intent.classify(ctx.inbound.text)
    if understood.action == "help.show":
        ctx.say(
            ctx.t(
                "You are filling in {title}. Type your answer to the question below; "
                "“Back” goes to the previous question, “Cancel” pauses the form (your answers "
                "are kept).",
                title=ctx.t(form.title),
            )
        )
        return True
    name, arg = understood.action, understood.arg
    if name in ("info.fee", "info.bring") and arg in ("", form.key):
        name, arg = f"{name}_here", form.key  # "what does it cost?": this form's fee
    action = REGISTRY.action(name) if understood.action in ASIDE_ACTIONS else None
    if action is None:
        return False
    await action.handler(ctx, arg)
    return True


async def _value(ctx: Ctx, form: Form, fld: Field, answers: Answers) -> Any:
    inbound = ctx.inbound
    if fld.kind in ("photo", "file"):
        if not inbound.attachments:
            if fld.kind == "photo":
                raise InvalidInput("Please send a photo here (not text).")
            raise InvalidInput("Please send a photo or a PDF file here.")
        return await store_attachment(ctx, inbound.attachments[0], f"form:{form.key}", fld)
    if fld.kind == "location":
        if inbound.location is not None:
            lat, lon = inbound.location
            if not in_town(ctx.city, lat, lon):
                raise InvalidInput(
                    "This place is outside {town}. Please share a location in {town}, or skip "
                    "this question.",
                    town=ctx.city.name,
                )
            return {"lat": lat, "lon": lon}
        if inbound.kind == "text" and fld.parse is not None:
            return fld.parse(ctx, inbound.text)
        raise InvalidInput("Please share a location pin, or skip this question.")
    if inbound.kind != "text":
        raise InvalidInput("Please type your answer as text.")
    text = inbound.text.strip()
    if fld.kind == "choice":
        folded = text.casefold()
        for choice in fld.options(ctx, answers):
            if folded in (choice.value.casefold(), ctx.t(choice.label).casefold()):
                return choice.value
        raise InvalidInput("Please choose one of the options.")
    if len(text) > 1000:
        raise InvalidInput("That is too long: at most {max} characters, please.", max=1000)
    return fld.parse(ctx, text) if fld.parse is not None else _plain_text(text)


def _plain_text(text: str) -> str:
    from services.identity.profile import clean_text

    return clean_text(text, 1000)


async def store_attachment(
    ctx: Ctx, attachment: Attachment, purpose: str, fld: Field | None = None
) -> dict[str, Any]:
    """Keep a photo or PDF in the database, owned by the resident; return its answer value."""
    mime = files.check_upload(
        attachment.mime,
        attachment.data,
        accept=fld.accept if fld else FILE_TYPES,
        limit=fld.max_bytes if fld else MAX_FILE_BYTES,
    )
    stored = await files.store(
        ctx.uow,
        citizen_id=ctx.citizen_id,
        purpose=purpose,
        filename=attachment.filename,
        mime=mime,
        data=attachment.data,
        now=ctx.now,
    )
    return {
        "file_id": stored.id,
        "filename": stored.filename,
        "mime": stored.mime,
        "size": stored.size,
    }


# ---------------------------------------------------------------- buttons
@router.action("form.open")
async def form_open(ctx: Ctx, key: str) -> None:
    await open_form(ctx, key)


@router.action("form.resume")
async def form_resume(ctx: Ctx, key: str) -> None:
    form = _form(ctx, key)
    await _advance(ctx, form, await _answers(ctx, key))


@router.action("form.restart")
async def form_restart(ctx: Ctx, key: str) -> None:
    form = _form(ctx, key)
    await discard_draft(ctx, key)
    if form.intro:
        ctx.say(ctx.t(form.intro))
    await _advance(ctx, form, {})


@router.action("form.choose")
async def form_choose(ctx: Ctx, value: str) -> None:
    found = _current(ctx)
    if found is None:
        show_main_menu(ctx)
        return
    form, fld = found
    answers = await _answers(ctx, form.key)
    if value not in {c.value for c in fld.options(ctx, answers)}:
        await _ask(ctx, form, fld, answers, ctx.t("Please choose one of the options."))
        return
    await _accept(ctx, form, fld, value)


@router.action("form.keep")
async def form_keep(ctx: Ctx, name: str) -> None:
    found = _current(ctx)
    if found is None:
        show_main_menu(ctx)
        return
    form, _fld = found
    await _advance(ctx, form, await _answers(ctx, form.key))


@router.action("form.prefill")
async def form_prefill(ctx: Ctx, name: str) -> None:
    found = _current(ctx)
    if found is None or found[1].prefill is None:
        show_main_menu(ctx)
        return
    form, fld = found
    assert fld.prefill is not None
    await _accept(ctx, form, fld, fld.prefill(ctx))


@router.action("form.skip")
async def form_skip(ctx: Ctx, name: str) -> None:
    found = _current(ctx)
    if found is None or not found[1].optional:
        show_main_menu(ctx)
        return
    await _accept(ctx, found[0], found[1], None)


@router.action("form.back")
async def form_back(ctx: Ctx, name: str) -> None:
    found = _current(ctx)
    if found is None:
        show_main_menu(ctx)
        return
    form, fld = found
    answers = await _answers(ctx, form.key)
    previous = _previous_field(form, answers, fld.name)
    await _ask(ctx, form, previous or fld, answers)


@router.action("form.changes")
async def form_changes(ctx: Ctx, key: str) -> None:
    form = _form(ctx, key)
    answers = await _answers(ctx, key)
    buttons = [
        ctx.button(f.label or f.prompt, "form.edit", f"{key}.{f.name}")
        for f in form.fields
        if f.applies(answers) and f.name in answers
    ]
    buttons.append(ctx.button("Back to the summary", "form.resume", key))
    ctx.say(ctx.t("Which answer would you like to change?"), buttons)


@router.action("form.edit")
async def form_edit(ctx: Ctx, arg: str) -> None:
    key, _sep, name = arg.partition(".")
    form = _form(ctx, key)
    answers = await _answers(ctx, key)
    if name not in form.by_name:
        await _summary(ctx, form, answers)
        return
    await _ask(ctx, form, form.by_name[name], answers)


@router.action("form.cancel")
async def form_cancel(ctx: Ctx, key: str) -> None:
    form = FORMS.get(key)
    ctx.done()
    if form is None:
        show_main_menu(ctx)
        return
    ctx.say(
        ctx.t(
            "Paused. Your answers are kept as a draft: choose {title} in the menu to continue.",
            title=ctx.t(form.title),
        ),
        [
            ctx.button("Continue", "form.resume", key),
            ctx.button("Discard the draft", "form.discard", key),
            back_to_menu(ctx),
        ],
    )


@router.action("form.discard")
async def form_discard(ctx: Ctx, key: str) -> None:
    await discard_draft(ctx, key)
    show_main_menu(ctx, ctx.t("The draft was discarded."))


@router.action("form.submit")
async def form_submit(ctx: Ctx, key: str) -> None:
    form = _form(ctx, key)
    answers = await drafts.answers(ctx.uow, ctx.citizen_id, key)
    if answers is None or _next_field(form, answers) is not None:
        show_main_menu(ctx, ctx.t("This application was already sent or is incomplete."))
        return
    if form.check is not None:
        form.check(ctx, answers)
    ctx.done()
    await form.submit(ctx, answers)
    await discard_draft(ctx, key)


def form_buttons(ctx: Ctx, keys: Sequence[str]) -> list[Button]:
    return [ctx.button(FORMS[k].title, "form.open", k) for k in keys if k in FORMS]


__all__ = [
    "N_",
    "Choice",
    "Field",
    "FieldProblem",
    "Form",
    "discard_draft",
    "form_buttons",
    "open_form",
    "register_form",
    "show_value",
    "store_attachment",
]
