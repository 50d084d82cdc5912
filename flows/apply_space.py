"""Special use of public space (Sondernutzungserlaubnis): terraces, scaffolding, containers ..."""

from __future__ import annotations

from datetime import date

from flows import fields
from flows.applications import register_application, shared_facts
from flows.context import Ctx
from flows.forms import Answers, Choice, Field, FieldProblem
from services.cases.rules import rules, short_lead, space_fee
from services.i18n import N_

PURPOSES = [
    Choice("terrace", N_("Café terrace (tables and chairs)")),
    Choice("scaffolding", N_("Scaffolding")),
    Choice("container", N_("Container or skip")),
    Choice("stand", N_("Stand or booth")),
    Choice("removal", N_("Removal van (no-parking zone)")),
    Choice("other", N_("Something else")),
]
MAX_DAYS = 365


def _days(a: Answers) -> tuple[date, date] | None:
    if not a.get("first_day") or not a.get("last_day"):
        return None
    return date.fromisoformat(a["first_day"]), date.fromisoformat(a["last_day"])


def _check(ctx: Ctx, answers: Answers) -> None:
    period = _days(answers)
    if period is None:
        return
    first, last = period
    if last < first:
        raise FieldProblem("last_day", "The last day is before the first day. Please check it.")
    if (last - first).days >= MAX_DAYS:
        raise FieldProblem(
            "last_day",
            "A permit covers at most one year. Please choose an "
            "earlier last day and apply again later.",
        )


def _notes(ctx: Ctx, answers: Answers) -> list[str]:
    period = _days(answers)
    if period is None or answers.get("area") is None:
        return []
    town = rules(ctx.city)
    first, last = period
    fee = space_fee(town, str(answers.get("purpose")), answers["area"], first, last)
    notes = [
        ctx.t(
            "Estimated fee: {fee} (the notice of the town sets the exact amount).",
            fee=ctx.money(fee),
        )
    ]
    if short_lead(town, first, ctx.today()):
        notes.append(
            ctx.t(
                "⚠️ The town asks for applications at least {days} days ahead. Yours starts "
                "sooner, so the permit may not be ready in time.",
                days=town.space_lead_days,
            )
        )
    return notes


def _summary(ctx: Ctx, a: Answers) -> str:
    """What a shared staff room reads: no address, no phone number."""
    return shared_facts(ctx, "space", a, ("purpose", "first_day", "last_day", "area"))


def _area(ctx: Ctx, value: object) -> str:
    return ctx.t("{area} m²", area=float(str(value)))


register_application(
    key="space",
    title=N_("Special use of public space"),
    department="ordnung",
    summary=_summary,
    keywords=["sondernutzung", "gerüst", "container", "terrasse", "umzug", "public space"],
    intro=N_(
        "For café terraces, scaffolding, containers, stands or a removal van on a public "
        "street or square."
    ),
    check=_check,
    notes=_notes,
    fields=[
        Field(
            "purpose",
            N_("What would you like to use the public space for?"),
            kind="choice",
            choices=PURPOSES,
            label=N_("Purpose"),
        ),
        Field(
            "purpose_detail",
            N_("Please describe the purpose in a few words."),
            parse=fields.text,
            when=lambda a: a.get("purpose") == "other",
            label=N_("Description"),
        ),
        Field(
            "place",
            N_("Where exactly (street, number, town)?"),
            parse=fields.address,
            label=N_("Place"),
        ),
        Field(
            "pin",
            N_("If you can, share a location pin of the spot. Otherwise skip."),
            kind="location",
            optional=True,
            label=N_("Location pin"),
        ),
        Field(
            "first_day",
            N_("From which day do you need the space?"),
            parse=fields.day(past=False, max_days=365),
            show=fields.show_day,
            label=N_("First day"),
        ),
        Field(
            "last_day",
            N_("Until which day (inclusive)?"),
            parse=fields.day(past=False, max_days=730),
            show=fields.show_day,
            label=N_("Last day"),
        ),
        Field(
            "area",
            N_("How many square metres will you use, for example 12,5?"),
            parse=fields.decimal_number(0.5, 5000),
            show=_area,
            label=N_("Area"),
        ),
        Field(
            "sketch",
            N_("Please send a sketch or a photo of the spot (photo or PDF)."),
            kind="file",
            label=N_("Sketch or photo"),
        ),
        Field(
            "phone",
            N_("At which phone number can we reach you with questions?"),
            parse=fields.phone,
            prefill=lambda ctx: ctx.citizen.phone,
            label=N_("Phone"),
        ),
    ],
)
