"""Daycare registration (Kita-Anmeldung): up to N preferred daycares, ranked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from flows import fields
from flows.applications import register_application, shared_facts
from flows.context import Ctx
from flows.forms import Answers, Choice, Field, FieldProblem
from services.cases.rules import rules
from services.i18n import N_

MAX_CHOICES = 10  # fields exist up to this many; the city configuration sets how many are asked


def _count_choices(ctx: Ctx, answers: Answers) -> Sequence[Choice]:
    most = min(rules(ctx.city).daycare_max_choices, MAX_CHOICES, len(rules(ctx.city).daycares))
    return [Choice(str(n), str(n)) for n in range(1, most + 1)]


def _daycare_choices(rank: int) -> Callable[[Ctx, Answers], Sequence[Choice]]:
    def options(ctx: Ctx, answers: Answers) -> Sequence[Choice]:
        taken = {answers.get(f"daycare_{n}") for n in range(1, rank)}
        return [Choice(d.key, d.name) for d in rules(ctx.city).daycares if d.key not in taken]

    return options


def _daycare_shown(ctx: Ctx, value: object) -> str:
    found = rules(ctx.city).daycare(str(value))
    return found.name if found else str(value)


def _daycare_field(rank: int) -> Field:
    return Field(
        f"daycare_{rank}",
        PROMPTS[rank - 1],
        kind="choice",
        choices=_daycare_choices(rank),
        when=lambda a: int(a.get("choices") or 0) >= rank,
        show=_daycare_shown,
        label=LABELS[rank - 1],
    )


PROMPTS = [
    N_("Which daycare is your first choice?"),
    N_("Which daycare is your second choice?"),
    N_("Which daycare is your third choice?"),
    N_("Which daycare is your fourth choice?"),
    N_("Which daycare is your fifth choice?"),
    N_("Which daycare is your sixth choice?"),
    N_("Which daycare is your seventh choice?"),
    N_("Which daycare is your eighth choice?"),
    N_("Which daycare is your ninth choice?"),
    N_("Which daycare is your tenth choice?"),
]
LABELS = [
    N_("1st choice"),
    N_("2nd choice"),
    N_("3rd choice"),
    N_("4th choice"),
    N_("5th choice"),
    N_("6th choice"),
    N_("7th choice"),
    N_("8th choice"),
    N_("9th choice"),
    N_("10th choice"),
]


def _check(ctx: Ctx, answers: Answers) -> None:
    birth, start = answers.get("child_birth"), answers.get("start")
    if birth and start:
        born, begins = date.fromisoformat(birth), date.fromisoformat(start)
        if begins < born:
            raise FieldProblem("start", "The start is before the child's birth. Please check it.")
        if (begins - born).days > 6 * 365 + 183:
            raise FieldProblem(
                "start", "By then the child will be of school age. Please check the dates."
            )


def _summary(ctx: Ctx, a: Answers) -> str:
    """What a shared staff room reads: no names, birth date or contact data."""
    ranked = [f"daycare_{n}" for n in range(1, MAX_CHOICES + 1)]
    return shared_facts(ctx, "daycare", a, ("start", "hours", *ranked))


register_application(
    key="daycare",
    title=N_("Daycare registration"),
    department="kita",
    summary=_summary,
    keywords=["kita", "kindergarten", "daycare", "betreuung"],
    intro=N_(
        "Register your child for a place in a daycare in Ahaus. You can name several "
        "daycares in order of preference."
    ),
    check=_check,
    fields=[
        Field(
            "child_first",
            N_("What is the child's first name?"),
            parse=fields.name,
            label=N_("Child's first name"),
        ),
        Field(
            "child_last",
            N_("What is the child's last name?"),
            parse=fields.name,
            prefill=lambda ctx: ctx.citizen.last_name,
            label=N_("Child's last name"),
        ),
        Field(
            "child_birth",
            N_("When was the child born (day.month.year)?"),
            parse=fields.day(past=True, max_years_back=7),
            show=fields.show_day,
            label=N_("Child's date of birth"),
        ),
        Field(
            "start",
            N_("From when do you need the place?"),
            parse=fields.day(past=False, max_days=3 * 365),
            show=fields.show_day,
            label=N_("Desired start"),
        ),
        Field(
            "hours",
            N_("How many hours of care a week?"),
            kind="choice",
            choices=[
                Choice("25", N_("25 hours")),
                Choice("35", N_("35 hours")),
                Choice("45", N_("45 hours")),
            ],
            label=N_("Weekly hours"),
        ),
        Field(
            "choices",
            N_("How many daycares would you like to name, in order of preference?"),
            kind="choice",
            choices=_count_choices,
            label=N_("Daycares named"),
        ),
        *[_daycare_field(rank) for rank in range(1, MAX_CHOICES + 1)],
        Field(
            "siblings",
            N_(
                "Do brothers or sisters already attend one of these daycares? Name and "
                "daycare, or skip."
            ),
            parse=fields.text,
            optional=True,
            label=N_("Siblings there"),
        ),
        Field(
            "parent_name",
            N_("Your first and last name, as a parent?"),
            parse=fields.full_name,
            prefill=lambda ctx: ctx.citizen.full_name,
            label=N_("Parent"),
        ),
        Field(
            "parent_phone",
            N_("At which phone number can the daycare reach you?"),
            parse=fields.phone,
            prefill=lambda ctx: ctx.citizen.phone,
            label=N_("Phone"),
        ),
        Field(
            "parent_email",
            N_("And your e-mail address?"),
            parse=fields.email,
            prefill=lambda ctx: ctx.citizen.email,
            label=N_("E-mail"),
        ),
    ],
)
