"""Pure rules: distances, the town's area, typed streets, categories from free text, the Matrix
geo URI, and the configuration check."""

from __future__ import annotations

import pytest

from bot.matrix.events import parse_location
from services.city import City
from services.defects import places
from services.defects.config import DefectRules, check_departments, rules
from tests.defects.conftest import MARKT, MUENSTER, WALLSTRASSE, east_of, north_of


def test_distances_in_metres() -> None:
    assert places.distance_m(WALLSTRASSE, WALLSTRASSE) == 0
    assert places.distance_m(WALLSTRASSE, north_of(WALLSTRASSE, 29)) == pytest.approx(29, abs=0.01)
    assert places.distance_m(WALLSTRASSE, east_of(WALLSTRASSE, 31)) == pytest.approx(31, abs=0.01)
    assert places.distance_m(MARKT, MUENSTER) == pytest.approx(44_200, rel=0.01)
    lat_min, lat_max, lon_min, lon_max = places.box_around(MARKT, 30)
    assert lat_min < north_of(MARKT, -29)[0] and north_of(MARKT, 29)[0] < lat_max
    assert lon_min < east_of(MARKT, -29)[1] and east_of(MARKT, 29)[1] < lon_max


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        (MARKT, True),
        ((52.128, 6.918), True),  # Alstätte
        ((52.142, 6.978), True),  # Ottenstein
        (MUENSTER, False),
        ((52.2125, 7.0260), False),  # Gronau
        ((51.9928, 6.9156), False),  # Stadtlohn
        ((52.0860, 6.7900), False),  # Enschede side of the border
        ((91.0, 7.0), False),
    ],
)
def test_the_towns_area(city: City, point: tuple[float, float], inside: bool) -> None:
    assert places.in_town(city, *point) is inside


@pytest.mark.parametrize(
    ("typed", "street", "number"),
    [
        ("Wallstraße 7", "Wallstraße", "7"),
        ("wallstr. 7a", "Wallstraße", "7a"),
        ("Schlagloch in der Wallstrasse 12", "Wallstraße", "12"),
        ("Coesfelder Str. 8", "Coesfelder Straße", "8"),
        ("am Marktplatz", "Marktstraße", ""),
        ("Van-Delden-Straße", "Van-Delden-Straße", ""),
        ("schlossstraße 3", "Schloßstraße", "3"),
    ],
)
def test_typed_streets(city: City, typed: str, street: str, number: str) -> None:
    found, guesses = places.resolve(city, typed)
    assert found is not None, guesses
    assert found.address == f"{street} {number}".strip()
    assert found.zipcode == "48683"


def test_spelling_guesses_and_unknown_streets(city: City) -> None:
    found, guesses = places.resolve(city, "Walstrase 7")
    assert found is None and [g.street.name for g in guesses] == ["Wallstraße"]
    assert guesses[0].number == "7" and not guesses[0].exact
    assert places.resolve(city, "Prinzipalmarkt") == (None, [])
    assert places.resolve(city, "Laterne kaputt") == (None, [])


def test_a_geocoder_plugs_in(city: City) -> None:
    class Fixed:
        def __init__(self, defects: DefectRules) -> None:
            self.street = defects.streets[0]

        def lookup(self, text: str) -> list[places.StreetMatch]:
            return [places.StreetMatch(self.street, "1", True)]

    places.register_geocoder("fixed", Fixed)
    mine = city.model_copy(deep=True)
    mine.__dict__.pop("_sections", None)
    mine.__dict__.pop("_geocoders", None)
    rules(mine).geocoder = "fixed"
    found, _ = places.resolve(mine, "anything at all")
    assert found is not None and found.address == "Marktstraße 1"


def test_every_category_routes_to_a_known_department(city: City) -> None:
    check_departments(city)
    broken = city.model_copy(deep=True)
    broken.__dict__.pop("_sections", None)
    rules(broken).categories[0].department = "nowhere"
    with pytest.raises(ValueError, match="unknown department 'nowhere'"):
        check_departments(broken)


def test_matrix_geo_uri() -> None:
    assert parse_location({"msgtype": "m.location", "geo_uri": "geo:52.0772,7.0062;u=35"}) == (
        52.0772,
        7.0062,
    )
    assert parse_location(
        {
            "msgtype": "m.location",
            "body": "Location",
            "org.matrix.msc3488.location": {"uri": "geo:52.1,7.0"},
        }
    ) == (52.1, 7.0)
    assert parse_location({"msgtype": "m.text", "geo_uri": "geo:52,7"}) is None
    assert parse_location({"msgtype": "m.location", "geo_uri": "geo:north,south"}) is None
    assert parse_location({"msgtype": "m.location", "geo_uri": "geo:99,7"}) is None
