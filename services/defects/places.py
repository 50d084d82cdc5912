"""Where a defect is: distances, the town's area, and typed addresses resolved to a point.

No geocoding service is reachable from here, so the default geocoder resolves against the
street list in the city configuration (one point per street; house numbers are kept in the
address but do not move the point). Another geocoder plugs in with `register_geocoder(name,
factory)` and `[defects] geocoder = "name"`; it must answer quickly, as it runs while a
resident waits for the reply."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.city import City
from services.defects.config import DefectRules, Street, rules

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    address: str = ""  # "Wallstraße 7"; empty for a bare location
    zipcode: str = ""

    def as_data(self) -> dict[str, object]:
        return {"lat": self.lat, "lon": self.lon, "address": self.address, "zipcode": self.zipcode}

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Place:
        return cls(
            float(data["lat"]),
            float(data["lon"]),
            str(data.get("address") or ""),
            str(data.get("zipcode") or ""),
        )


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in metres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def box_around(point: tuple[float, float], radius_m: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) of a box holding every point within radius_m."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians(point[0])))
    return point[0] - dlat, point[0] + dlat, point[1] - dlon, point[1] + dlon


def inside(polygon: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Ray casting; a town's area is small enough to treat degrees as a plane."""
    if not polygon:
        return True
    lat, lon = point
    result = False
    j = len(polygon) - 1
    for i, (lat_i, lon_i) in enumerate(polygon):
        lat_j, lon_j = polygon[j]
        if (lat_i > lat) != (lat_j > lat):
            crossing = lon_i + (lat - lat_i) * (lon_j - lon_i) / (lat_j - lat_i)
            if lon < crossing:
                result = not result
        j = i
    return result


def in_town(city: City, lat: float, lon: float) -> bool:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    return inside(rules(city).area.polygon, (lat, lon))


# ---------------------------------------------------------------- typed addresses
def fold(text: str) -> str:
    """Lower case, 'str.'/'strasse' -> 'straße', no accents but umlauts kept, single spaces."""
    text = unicodedata.normalize("NFC", text.casefold())
    text = re.sub(r"stra(?:ss|ß)e\b", "straße", text)
    text = re.sub(r"str\b\.?", "straße", text)
    text = re.sub(r"[^\wäöüß.-]+", " ", text)
    return " ".join(text.split())


HOUSE_NUMBER = re.compile(r"^[\s.,]*(\d{1,4}\s?[a-z]?)\b")


@dataclass(frozen=True)
class StreetMatch:
    street: Street
    number: str  # "7", "12a" or ""
    exact: bool  # False: a spelling guess worth confirming


class Geocoder(Protocol):
    def lookup(self, text: str) -> list[StreetMatch]:
        """Streets the text may name, best first (an exact match alone when there is one)."""
        ...


class StreetListGeocoder:
    """Resolves against the configured street list: exact names and aliases anywhere in the
    text ("Schlagloch in der Wallstr. 7"), else close spellings ("Walstrasse")."""

    def __init__(self, defects: DefectRules) -> None:
        self.names: dict[str, Street] = {}
        for street in defects.streets:
            for name in (street.name, *street.aliases):
                self.names[fold(name)] = street

    def lookup(self, text: str) -> list[StreetMatch]:
        folded = fold(text)
        best: tuple[int, StreetMatch] | None = None
        for name, street in self.names.items():
            for found in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", folded):
                number = HOUSE_NUMBER.match(folded[found.end() :])
                match = StreetMatch(
                    street, number.group(1).replace(" ", "") if number else "", True
                )
                if best is None or len(name) > best[0]:
                    best = (len(name), match)
        if best is not None:
            return [best[1]]
        words = folded.split()
        guesses: dict[str, StreetMatch] = {}
        for size in (3, 2, 1):  # "van delden straße", "coesfelder straße", "wallstraße"
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if len(phrase) < 5:
                    continue
                rest = " ".join(words[start + size :])
                number = HOUSE_NUMBER.match(rest)
                for name in difflib.get_close_matches(phrase, list(self.names), n=3, cutoff=0.82):
                    street = self.names[name]
                    guesses.setdefault(
                        street.name,
                        StreetMatch(
                            street, number.group(1).replace(" ", "") if number else "", False
                        ),
                    )
        return list(guesses.values())[:3]


GeocoderFactory = Callable[[DefectRules], Geocoder]
_GEOCODERS: dict[str, GeocoderFactory] = {"streets": StreetListGeocoder}


def register_geocoder(name: str, factory: GeocoderFactory) -> None:
    _GEOCODERS[name] = factory


def geocoder(city: City) -> Geocoder:
    defects = rules(city)
    factory = _GEOCODERS.get(defects.geocoder)
    if factory is None:
        raise ValueError(f"unknown geocoder {defects.geocoder!r}; known: {', '.join(_GEOCODERS)}")
    cache: dict[str, Geocoder] = city.__dict__.setdefault("_geocoders", {})
    if defects.geocoder not in cache:
        cache[defects.geocoder] = factory(defects)
    return cache[defects.geocoder]


def place_of(city: City, match: StreetMatch) -> Place:
    address = f"{match.street.name} {match.number}".strip()
    return Place(
        match.street.lat,
        match.street.lon,
        address,
        match.street.zipcode or rules(city).default_zipcode,
    )


def resolve(city: City, text: str) -> tuple[Place | None, list[StreetMatch]]:
    """(the place, []) when the text names one street; (None, spelling guesses) else."""
    matches = geocoder(city).lookup(text)
    if len(matches) == 1 and matches[0].exact:
        return place_of(city, matches[0]), []
    return None, matches


def nearest_street(city: City, lat: float, lon: float, within_m: float = 150) -> str:
    """The configured street nearest to a shared location (a hint for staff and the page)."""
    best = ("", within_m)
    for street in rules(city).streets:
        distance = distance_m((lat, lon), (street.lat, street.lon))
        if distance <= best[1]:
            best = (street.name, distance)
    return best[0]
