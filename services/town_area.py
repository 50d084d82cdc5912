"""The town's area: is a location pin inside the town? The outline is a polygon of
(latitude, longitude) corners in the `[area]` section of the city configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services import city


class AreaRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # corners in order; an empty outline accepts every location
    outline: list[tuple[float, float]] = Field(default_factory=list)

    @field_validator("outline")
    @classmethod
    def _polygon(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if value and len(value) < 3:
            raise ValueError("an outline needs at least three corners")
        for lat, lon in value:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"({lat}, {lon}) is no latitude, longitude")
        return value


city.register_section("area", AreaRules)


def inside(outline: list[tuple[float, float]], lat: float, lon: float) -> bool:
    """Ray casting: a point is inside when a ray from it crosses the outline an odd number of
    times. Good enough for a town: distances of a few km, no pole, no date line."""
    if not outline:
        return True
    crossings = False
    last_lat, last_lon = outline[-1]
    for corner_lat, corner_lon in outline:
        if (corner_lat > lat) != (last_lat > lat):
            at_lon = (last_lon - corner_lon) * (lat - corner_lat) / (last_lat - corner_lat)
            if lon < corner_lon + at_lon:
                crossings = not crossings
        last_lat, last_lon = corner_lat, corner_lon
    return crossings


def in_town(town: city.City, lat: float, lon: float) -> bool:
    return inside(town.section("area", AreaRules).outline, lat, lon)
