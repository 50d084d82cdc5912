"""Working days of the town: weekends and the public holidays of its state (holidays library,
`holidays.Germany(subdiv="NW")` for Ahaus) are not working days. Office hours close on them,
and a deadline that ends on one moves to the next working day (§ 31 Abs. 3 VwVfG NRW,
§ 193 BGB)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays
from pydantic import BaseModel, ConfigDict, Field

from services import city


class CalendarRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    subdivision: str = Field(default="NW", pattern=r"^[A-Z]{1,3}$")  # the state: NW = NRW
    weekend: list[int] = Field(default_factory=lambda: [5, 6])  # 0 = Monday


city.register_section("calendar", CalendarRules)


def rules(town: city.City) -> CalendarRules:
    return town.section("calendar", CalendarRules)


@functools.cache
def _holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    found = holidays.country_holidays(country, subdiv=subdivision, years=year, language="de")
    return dict(found.items())


def holiday_name(town: city.City, day: date) -> str | None:
    """The public holiday on `day` in the town's state ("Fronleichnam"), or None."""
    cal = rules(town)
    return _holidays(cal.country, cal.subdivision, day.year).get(day)


def is_open_day(town: city.City, day: date) -> bool:
    """Not a public holiday (office hours say which weekdays are open)."""
    return holiday_name(town, day) is None


def is_working_day(town: city.City, day: date) -> bool:
    return day.weekday() not in rules(town).weekend and holiday_name(town, day) is None


def next_working_day(town: city.City, day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(town, day):
        day += timedelta(days=1)
    return day


def deadline(town: city.City, start: date, days: int) -> date:
    """A period of `days` calendar days from `start`; ending on a weekend or public holiday, it
    ends on the next working day (§ 31 Abs. 3 VwVfG NRW)."""
    return next_working_day(town, start + timedelta(days=days))
