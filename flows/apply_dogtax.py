"""Dog tax registration (Hundesteuer-Anmeldung)."""

from __future__ import annotations

from datetime import date

from flows import fields
from flows.applications import register_application, shared_facts
from flows.context import Ctx
from flows.forms import Answers, Choice, Field, FieldProblem
from services.cases.rules import chip_problem, dangerous_breed, rules, valid_chip
from services.errors import InvalidInput
from services.i18n import N_


def chip_number(ctx: Ctx, text: str) -> str:
    found = valid_chip(text.replace("-", "").replace("/", "").replace(".", ""))
    if found is None:
        message, params = chip_problem(text)
        raise InvalidInput(message, **params)
    return found


def _check(ctx: Ctx, answers: Answers) -> None:
    litter, since = answers.get("litter_date"), answers.get("since")
    if litter and since and date.fromisoformat(since) < date.fromisoformat(litter):
        raise FieldProblem("since", "The dog cannot have come to you before it was born.")


def _notes(ctx: Ctx, answers: Answers) -> list[str]:
    notes = [ctx.t("The tax is due from the month in which the dog came into your household.")]
    listed = dangerous_breed(str(answers.get("breed", "")), rules(ctx.city).dangerous_breeds)
    if listed:
        notes.append(
            ctx.t(
                "⚠️ {breed} is listed in the dog law of NRW (Landeshundegesetz): the higher "
                "tax rate for listed dogs applies, and keeping it needs a permit.",
                breed=listed,
            )
        )
    return notes


def _summary(ctx: Ctx, a: Answers) -> str:
    """What a shared staff room reads: no names, address or chip number."""
    line = shared_facts(ctx, "dogtax", a, ("breed", "since"))
    listed = dangerous_breed(str(a.get("breed", "")), rules(ctx.city).dangerous_breeds)
    if listed:  # the flag for the higher rate, as it would be on paper
        line += " – " + ctx.t("⚠️ listed breed ({breed}): higher tax rate", breed=listed)
    if a.get("exemption") not in (None, "no"):
        line += " – " + ctx.t("exemption requested")
    return line


register_application(
    key="dogtax",
    title=N_("Dog tax registration"),
    department="steuern",
    summary=_summary,
    keywords=["hundesteuer", "hund", "dog tax", "dog"],
    intro=N_("Registering a dog takes about 3 minutes. Please have the microchip number ready."),
    check=_check,
    notes=_notes,
    fields=[
        Field(
            "holder_name",
            N_("Who keeps the dog? Please enter first and last name."),
            parse=fields.full_name,
            prefill=lambda ctx: ctx.citizen.full_name,
            label=N_("Dog holder"),
        ),
        Field(
            "holder_address",
            N_("What is the holder's address (street, number, town)?"),
            parse=fields.address,
            prefill=lambda ctx: ctx.citizen.postal_address,
            label=N_("Address"),
        ),
        Field(
            "holder_birth",
            N_("What is the holder's date of birth (day.month.year)?"),
            parse=fields.day(past=True, max_years_back=110),
            show=fields.show_day,
            label=N_("Holder's date of birth"),
        ),
        Field(
            "dog_name",
            N_("What is the dog's name?"),
            parse=fields.short_text,
            label=N_("Name of the dog"),
        ),
        Field(
            "dog_sex",
            N_("Is the dog male or female?"),
            kind="choice",
            choices=[Choice("m", N_("male")), Choice("f", N_("female"))],
            label=N_("Sex"),
        ),
        Field(
            "breed",
            N_("Which breed is it? For a crossbreed, name the breeds."),
            parse=fields.short_text,
            label=N_("Breed"),
        ),
        Field(
            "litter_date",
            N_("When was the dog born (litter date)?"),
            parse=fields.day(past=True, max_years_back=30),
            show=fields.show_day,
            label=N_("Litter date"),
        ),
        Field(
            "colour",
            N_("What colour is the dog's coat?"),
            parse=fields.short_text,
            label=N_("Colour"),
        ),
        Field(
            "chip",
            N_("Please enter the microchip number (15 digits)."),
            parse=chip_number,
            label=N_("Microchip number"),
        ),
        Field(
            "since",
            N_("Since when has the dog lived in your household?"),
            parse=fields.day(max_days=31, max_years_back=30),
            show=fields.show_day,
            label=N_("In the household since"),
        ),
        Field(
            "other_dogs",
            N_("How many other dogs already live in your household?"),
            parse=fields.integer(0, 20),
            label=N_("Other dogs in the household"),
        ),
        Field(
            "exemption",
            N_("Are you asking for an exemption from the tax?"),
            kind="choice",
            choices=[
                Choice("no", N_("No exemption")),
                Choice("assistance", N_("Assistance or guide dog")),
                Choice("rescue", N_("Certified rescue dog")),
            ],
            label=N_("Exemption"),
        ),
        Field(
            "exemption_proof",
            N_(
                "Please send the proof for the exemption (photo or PDF), for example the "
                "certificate of the assistance dog."
            ),
            kind="file",
            when=lambda a: a.get("exemption") not in (None, "no"),
            label=N_("Proof for the exemption"),
        ),
    ],
)
