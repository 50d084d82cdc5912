"""The `[defects]` section of the city configuration: categories (Open311 services) with their
department, keywords and extra attributes; the town's area; its streets; the public map."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.city import City, register_section

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class AttributeValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name_de: str
    name_en: str


class Attribute(BaseModel):
    """An Open311 attribute a category asks for (e.g. the number on the lamp post)."""

    model_config = ConfigDict(extra="forbid")
    code: str
    datatype: Datatype = "string"
    required: bool = False
    description_de: str
    description_en: str
    datatype_description: str = ""
    values: list[AttributeValue] = Field(default_factory=list)
    # in the chat, optional attributes are not asked one by one: this pattern finds the value
    # in the resident's description ("Mast Nr. 12"); its first group is the value
    chat_pattern: str = ""

    @field_validator("chat_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        if value:
            try:
                if re.compile(value).groups < 1:
                    raise ValueError("chat_pattern needs one group: the value")
            except re.error as error:
                raise ValueError(f"chat_pattern is no regular expression: {error}") from error
        return value

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_de


class Category(BaseModel):
    """One kind of defect; an Open311 service."""

    model_config = ConfigDict(extra="forbid")
    code: str
    name_de: str
    name_en: str
    description_de: str = ""
    description_en: str = ""
    group: str = ""
    department: str
    keywords: list[str] = Field(default_factory=list)  # free-text words that mean this category
    attributes: list[Attribute] = Field(default_factory=list)
    service_notice_de: str = ""
    service_notice_en: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_-]{1,40}", value):
            raise ValueError("a category code has 1-40 of a-z, 0-9, _ and -")
        return value

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_de

    def notice(self, lang: str) -> str:
        return self.service_notice_en if lang == "en" else self.service_notice_de


class Street(BaseModel):
    """A street of the town and one representative point on it."""

    model_config = ConfigDict(extra="forbid")
    name: str
    lat: float
    lon: float
    zipcode: str = ""
    aliases: list[str] = Field(default_factory=list)


class Area(BaseModel):
    """The town's area as a polygon of (lat, lon) points; reports outside are refused."""

    model_config = ConfigDict(extra="forbid")
    polygon: list[tuple[float, float]] = Field(default_factory=list)

    @field_validator("polygon")
    @classmethod
    def _enough_points(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if value and len(value) < 3:
            raise ValueError("the area needs at least 3 points (or none: no limit)")
        return value


class DefectRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_radius_m: float = 30.0
    recently_closed_days: int = 30  # closed reports stay on /meldungen this long
    default_zipcode: str = ""
    geocoder: str = "streets"  # a registered geocoder (services.defects.places)
    categories: list[Category] = Field(default_factory=list)
    streets: list[Street] = Field(default_factory=list)
    area: Area = Field(default_factory=Area)
    # the public page's map
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    map_center: tuple[float, float] = (0.0, 0.0)
    map_zoom: int = 15
    # the Open311 API
    api_write_limit: int = 30  # POST requests per key and window
    api_write_window_minutes: int = 60
    api_contact: str = ""
    api_key_service: str = ""

    @model_validator(mode="after")
    def _unique_codes(self) -> DefectRules:
        codes = [c.code for c in self.categories]
        if len(codes) != len(set(codes)):
            raise ValueError("category codes must be unique")
        return self

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


register_section("defects", DefectRules)


def rules(city: City) -> DefectRules:
    return city.section("defects", DefectRules)


def check_departments(city: City) -> None:
    """Every category routes to a department the city has (called at start)."""
    for category in rules(city).categories:
        if city.department(category.department) is None:
            raise ValueError(
                f"defects category {category.code!r} routes to unknown department "
                f"{category.department!r}"
            )
