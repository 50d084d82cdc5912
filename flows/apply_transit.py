"""Subsidised transit ticket (Sozialticket / Deutschlandticket Sozial): eligibility and proof.
After approval the resident buys the monthly pass (flows/transit.py)."""

from __future__ import annotations

from flows import fields
from flows.applications import register_application, shared_facts
from flows.context import Ctx
from flows.forms import Answers, Choice, Field
from services.i18n import N_


def _summary(ctx: Ctx, a: Answers) -> str:
    """What a shared staff room reads: the benefit is social data, so only the proof's date."""
    return shared_facts(ctx, "transit", a, ("proof_until",))


register_application(
    key="transit",
    title=N_("Subsidised transit ticket"),
    department="buergerbuero",
    summary=_summary,
    keywords=["sozialticket", "deutschlandticket", "transit", "ticket", "bus"],
    intro=N_(
        "With the Sozialticket you travel by bus and train at a reduced monthly price. "
        "Please have your current benefit notice ready as a photo or PDF."
    ),
    fields=[
        Field(
            "holder_name",
            N_("Who is the ticket for? First and last name, please."),
            parse=fields.full_name,
            prefill=lambda ctx: ctx.citizen.full_name,
            label=N_("Ticket holder"),
        ),
        Field(
            "holder_birth",
            N_("What is their date of birth (day.month.year)?"),
            parse=fields.day(past=True, max_years_back=110),
            show=fields.show_day,
            label=N_("Date of birth"),
        ),
        Field(
            "basis",
            N_("On what basis are you eligible?"),
            kind="choice",
            choices=[
                Choice("buergergeld", N_("Citizen's income (Bürgergeld)")),
                Choice("sozialhilfe", N_("Social assistance or basic income support")),
                Choice("asylblg", N_("Asylum seekers' benefits (AsylbLG)")),
                Choice("wohngeld", N_("Housing benefit (Wohngeld)")),
                Choice("other", N_("Other benefit (e.g. war victims' welfare)")),
            ],
            label=N_("Eligibility"),
        ),
        Field(
            "proof",
            N_("Please send your benefit notice as a photo or PDF."),
            kind="file",
            label=N_("Proof"),
        ),
        Field(
            "proof_until",
            N_("Until when is the notice valid (last day)?"),
            parse=fields.day(past=False, max_days=2 * 366),
            show=fields.show_day,
            label=N_("Proof valid until"),
        ),
    ],
)
