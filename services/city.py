"""The city configuration: name, time zone, departments and their staff rooms, merchants, and
one section per capability (vouchers, auction, forms ...).

A capability declares its section with `register_section(name, Model)`; `load_city` validates
every declared section, so a wrong value stops start-up with one line naming it.
The default city (Ahaus) ships as services/cities/ahaus.toml plus services/cities/ahaus.d/*.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CITY = Path(__file__).parent / "cities" / "ahaus.toml"

M = TypeVar("M", bound=BaseModel)
_SECTIONS: dict[str, type[BaseModel]] = {}


class CityConfigError(ValueError):
    pass


class Rooms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    telegram: str = ""  # a group chat id, e.g. "-1001234567890"
    matrix: str = ""  # a room id or alias, e.g. "!abc:example.org"
    console: str = ""  # name of the console staff view, e.g. "buergerbuero"


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name_de: str
    name_en: str
    rooms: Rooms = Field(default_factory=Rooms)
    # The language of the department's room messages ("de", "en"); empty: the city's default.
    # A staff member's own answers (commands, buttons, details in private chat) follow their
    # own language setting.
    language: str = ""
    # Channels whose room of this department only its staff can read (a Matrix room with
    # invited staff, the console staff view on an operator's terminal): personal data of
    # residents may be shown there. Elsewhere (a Telegram group) the room gets the reference,
    # the type and the actions; personal data goes to the staff member's private chat.
    private_rooms: list[str] = Field(default_factory=lambda: ["console"])

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de

    def room_language(self, default: str) -> str:
        return self.language or default

    def room_is_private(self, channel: str) -> bool:
        return channel in self.private_rooms


class Merchant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name: str
    address: str = ""
    category: str = ""


class City(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    timezone: str = "Europe/Berlin"
    default_language: str = "de"
    departments: list[Department] = Field(default_factory=list)
    merchants: list[Merchant] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def department(self, key: str) -> Department | None:
        return next((d for d in self.departments if d.key == key), None)

    def merchant(self, key: str) -> Merchant | None:
        return next((m for m in self.merchants if m.key == key), None)

    def section(self, name: str, model: type[M]) -> M:
        """The validated section `name` (defaults when the file has none)."""
        cache: dict[str, BaseModel] = self.__dict__.setdefault("_sections", {})
        if name not in cache:
            raw = (self.model_extra or {}).get(name, {})
            cache[name] = model.model_validate(raw)
        found = cache[name]
        assert isinstance(found, model)
        return found


def register_section(name: str, model: type[BaseModel]) -> None:
    _SECTIONS[name] = model


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + value
        else:
            merged[key] = value
    return merged


def read_city_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CityConfigError(f"city configuration {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CityConfigError(f"city configuration {path} is not valid TOML: {exc}") from exc
    extra_dir = path.with_suffix(".d")
    if extra_dir.is_dir():
        for part in sorted(extra_dir.glob("*.toml")):
            data = _merge(data, read_city_file(part))
    return data


def _validated(source: Path, prefix: str, build: Any) -> Any:
    try:
        return build()
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise CityConfigError(
            f"city configuration {source}: {prefix}{where}: {error['msg']}"
        ) from exc


def load_city(path: Path | None = None) -> City:
    source = path or DEFAULT_CITY
    data = read_city_file(source)
    city: City = _validated(source, "", lambda: City.model_validate(data))
    for name, model in _SECTIONS.items():
        _validated(source, f"{name}.", lambda n=name, m=model: city.section(n, m))
    keys = [d.key for d in city.departments]
    if len(keys) != len(set(keys)):
        raise CityConfigError(f"city configuration {source}: department keys must be unique")
    return city
