"""Business registration (Gewerbeanmeldung, after the federal form GewA 1)."""

from __future__ import annotations

import re

from flows import fields
from flows.applications import register_application, shared_facts
from flows.context import Ctx
from flows.forms import Answers, Choice, Field
from services.errors import InvalidInput
from services.i18n import N_

REGISTERED_FORMS = ("gmbh", "ug", "ohg", "kg", "ag", "ek")


def register_number(ctx: Ctx, text: str) -> str:
    cleaned = " ".join(text.upper().split())
    match = re.fullmatch(r"(HRA|HRB|GNR|PR|VR) ?([0-9]{1,6})( ?[A-Z]{1,2})?", cleaned)
    if not match:
        raise InvalidInput("Please enter the register number, for example HRB 12345.")
    return f"{match[1]} {match[2]}{match[3] or ''}".replace("GNR", "GnR")


def _company(a: Answers) -> bool:
    return a.get("kind") == "company"


def _summary(ctx: Ctx, a: Answers) -> str:
    """What a shared staff room reads: no names, premises or contact data."""
    return shared_facts(ctx, "business", a, ("kind", "activity", "start_date"))


register_application(
    key="business",
    title=N_("Business registration"),
    department="ordnung",
    summary=_summary,
    keywords=["gewerbe", "gewerbeanmeldung", "business", "firma"],
    intro=N_("This follows the federal business registration form (GewA 1)."),
    fields=[
        Field(
            "kind",
            N_("Who runs the business?"),
            kind="choice",
            choices=[
                Choice("person", N_("I, as a person")),
                Choice("company", N_("A company (for example a GmbH)")),
            ],
            label=N_("Business run by"),
        ),
        Field(
            "legal_form",
            N_("What is the company's legal form?"),
            kind="choice",
            when=_company,
            choices=[
                Choice("gmbh", "GmbH"),
                Choice("ug", "UG (haftungsbeschränkt)"),
                Choice("gbr", "GbR"),
                Choice("ohg", "OHG"),
                Choice("kg", "KG"),
                Choice("ag", "AG"),
                Choice("ek", "e. K."),
            ],
            label=N_("Legal form"),
        ),
        Field(
            "company_name",
            N_("What is the company's registered name?"),
            parse=fields.short_text,
            when=_company,
            label=N_("Company name"),
        ),
        Field(
            "register_court",
            N_(
                "At which register court is the company registered, for example "
                "Amtsgericht Coesfeld?"
            ),
            parse=fields.short_text,
            when=lambda a: _company(a) and a.get("legal_form") in REGISTERED_FORMS,
            label=N_("Register court"),
        ),
        Field(
            "register_number",
            N_("What is the register number, for example HRB 12345?"),
            parse=register_number,
            when=lambda a: _company(a) and a.get("legal_form") in REGISTERED_FORMS,
            label=N_("Register number"),
        ),
        Field(
            "holder_name",
            N_("Your first and last name (for a company: the managing director)."),
            parse=fields.full_name,
            prefill=lambda ctx: ctx.citizen.full_name,
            label=N_("Name"),
        ),
        Field(
            "holder_birth",
            N_("Your date of birth (day.month.year)?"),
            # § 112 BGB: a minor runs a business only with the family court's authorisation,
            # which the office checks in person
            parse=fields.day(
                past=True,
                max_years_back=100,
                min_age=18,
                too_young=N_(
                    "Born on {born}, you are {age}. A business can be registered here from "
                    "{min_age} on; a minor needs the authorisation of the family court "
                    "(§ 112 BGB). Please check the date, or contact the public order office."
                ),
            ),
            show=fields.show_day,
            label=N_("Date of birth"),
        ),
        Field(
            "business_name",
            N_("Does the business have a trading name? Otherwise skip."),
            parse=fields.short_text,
            optional=True,
            label=N_("Trading name"),
        ),
        Field(
            "premises",
            N_("Where are the business premises (street, number, town)?"),
            parse=fields.address,
            prefill=lambda ctx: ctx.citizen.postal_address,
            label=N_("Business premises"),
        ),
        Field(
            "start_date",
            N_("When does (or did) the business start?"),
            parse=fields.day(min_days=-90, max_days=365),
            show=fields.show_day,
            label=N_("Start of the business"),
        ),
        Field(
            "activity",
            N_(
                "Which activity will you carry out? Please describe it precisely, for "
                'example "retail of bicycles and repairs".'
            ),
            parse=fields.text,
            label=N_("Activity"),
        ),
        Field(
            "scope",
            N_("Is it a full-time or a part-time business?"),
            kind="choice",
            choices=[Choice("full", N_("Full time")), Choice("part", N_("Part time"))],
            label=N_("Scope"),
        ),
        Field(
            "employees",
            N_("How many people will you employ at the start (0 if none)?"),
            parse=fields.integer(0, 100000),
            label=N_("Employees"),
        ),
        Field(
            "email",
            N_("At which e-mail address can we reach you?"),
            parse=fields.email,
            prefill=lambda ctx: ctx.citizen.email,
            label=N_("E-mail"),
        ),
    ],
)
