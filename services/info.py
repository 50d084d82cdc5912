"""What the town tells before any form starts: the opening hours of its offices, what to bring,
fees that are no rule of a form, and which office answers for moves and lost property. Contacts
(phone, e-mail, room) come from the letterhead section; fee rules of the forms from theirs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services import city


class OfficeFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours_de: str = ""
    hours_en: str = ""

    def hours(self, lang: str) -> str:
        return (self.hours_en if lang == "en" else self.hours_de) or self.hours_de


class FormFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fee_cents: int | None = Field(default=None, ge=0)  # a fixed fee for the application
    bring: list[str] = Field(default_factory=list)  # keys of flows/info.py BRING


class InfoRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offices: dict[str, OfficeFacts] = Field(default_factory=dict)  # department key -> facts
    forms: dict[str, FormFacts] = Field(default_factory=dict)  # form key -> facts
    moving_office: str = "buergerbuero"
    moving_days: int = Field(default=14, gt=0)  # § 17 BMG: register a move within two weeks
    moving_bring: list[str] = Field(default_factory=lambda: ["id", "landlord"])
    lost_office: str = "fundbuero"
    daycare_free_years: int = Field(default=2, ge=0)  # years before school free of contributions


city.register_section("info", InfoRules)


def rules(town: city.City) -> InfoRules:
    return town.section("info", InfoRules)


def office(town: city.City, key: str) -> OfficeFacts:
    return rules(town).offices.get(key, OfficeFacts())
