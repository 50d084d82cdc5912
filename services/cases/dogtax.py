"""Dog tax (Hundesteuer) as the statute sets it: a yearly rate per dog that depends on how many
dogs the household keeps, a higher rate for listed (dangerous) dogs, exemptions, and the part
of the first year from the month the dog came into the household. The rates are the `[dogtax]`
section of the city configuration; services/cities/ahaus.d/dogtax.toml names their source."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services import city


class DogTaxRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # per dog and year, by the number of dogs in the household: [1 dog, 2 dogs, 3 or more]
    rates_cents: list[int] = Field(default_factory=lambda: [5400, 7200, 8400])
    dangerous_rate_cents: int = Field(default=60000, ge=0)  # per listed dog and year
    exemptions: list[str] = Field(default_factory=lambda: ["assistance", "rescue"])
    tag_series: str = Field(default="dogtag", max_length=20)
    tag_prefix: str = Field(default="AH", max_length=5)

    @field_validator("rates_cents")
    @classmethod
    def _rates(cls, value: list[int]) -> list[int]:
        if not value or any(r < 0 for r in value):
            raise ValueError("give at least one rate, none negative")
        return value


city.register_section("dogtax", DogTaxRules)


def rules(town: city.City) -> DogTaxRules:
    return town.section("dogtax", DogTaxRules)


def yearly_rate(rules: DogTaxRules, dogs_in_household: int, listed: bool) -> int:
    """Cents per year for one dog: the listed-dog rate, else the rate for the household's
    number of dogs (the last rate holds for that many dogs and more)."""
    if listed:
        return rules.dangerous_rate_cents
    index = min(max(dogs_in_household, 1), len(rules.rates_cents)) - 1
    return rules.rates_cents[index]


def first_year_cents(yearly_cents: int, since: date, year: int) -> int:
    """The tax owed for `year`: from the first of the month the dog came (whole year if it
    came earlier), in twelfths, rounded to the cent."""
    if since.year > year:
        return 0
    months = 12 if since.year < year else 13 - since.month
    return round(yearly_cents * months / 12)


def tag_number(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"
