"""Which region a point lies in: the region polygons of the map, cities inside regions,
holes, and points abroad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kupol.core.errors import ConfigError, InvalidInputError
from kupol.plates.formats import REGIONS
from kupol.roads.whereabouts import REGION_POLYGONS, RegionMap


@pytest.fixture(scope="module")
def regions() -> RegionMap:
    return RegionMap.load()


def _map_names() -> dict[str, str]:
    collection = json.loads(REGION_POLYGONS.read_text(encoding="utf-8"))
    return {
        f["properties"]["plate_code"]: f["properties"]["name_en"] for f in collection["features"]
    }


@pytest.mark.parametrize(
    ("lat", "lon", "code", "plate_name", "map_name"),
    [
        (43.2389, 76.8897, "02", "Almaty (city)", "Almaty"),  # Almaty centre
        (51.1283, 71.4305, "01", "Astana", "Astana"),
        (42.3417, 69.5901, "17", "Shymkent", "Shymkent"),
        (49.8047, 73.1094, "09", "Karaganda", "Karaganda Region"),
        (43.65, 51.16, "12", "Mangystau", "Mangystau Region"),  # Aktau
        (43.8667, 77.0667, "05", "Almaty", "Almaty Region"),  # Konayev, outside Almaty city
        (43.2975, 68.2706, "13", "Turkestan", "Turkistan Region"),  # Turkistan town
    ],
)  # fmt: skip
def test_cities_and_regional_centres_fall_in_their_region(
    regions: RegionMap, lat: float, lon: float, code: str, plate_name: str, map_name: str
) -> None:
    assert REGIONS[code].name_en == plate_name
    assert _map_names()[code] == map_name
    assert regions.region_of(lat, lon) == code


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(55.75, 37.62), (42.5, 50.0), (41.31, 69.28), (42.87, 74.59), (43.8, 87.6), (0.0, 0.0)],
    ids=["Moscow", "Caspian Sea", "Tashkent", "Bishkek", "Urumqi", "Gulf of Guinea"],
)
def test_points_abroad_or_at_sea_are_in_no_region(
    regions: RegionMap, lat: float, lon: float
) -> None:
    assert regions.region_of(lat, lon) is None


def test_a_point_where_a_city_lies_inside_a_region_without_a_hole_is_the_city(
    regions: RegionMap,
) -> None:
    # PROVENANCE.md: a part of Astana around 71.67° E 51.33° N has no hole in Akmola region.
    assert regions.region_of(51.33, 71.67) == "01"


def test_many_points_get_the_same_regions_as_one_by_one(regions: RegionMap) -> None:
    points = [(43.2389, 76.8897), (55.75, 37.62), (51.1283, 71.4305), (49.8047, 73.1094)]
    assert regions.region_of_many(points) == [regions.region_of(*p) for p in points]
    assert regions.region_of_many([]) == []


def _square(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def _feature(plate_code: str, kind: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"plate_code": plate_code, "type": kind},
            "geometry": geometry}  # fmt: skip


def _write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_hole_in_a_region_is_outside_it(tmp_path: Path) -> None:
    rings = [_square(0, 0, 10, 10), _square(4, 4, 6, 6)]
    holed = _feature("05", "region", {"type": "Polygon", "coordinates": rings})
    regions = RegionMap.load(_write(tmp_path / "holed.geojson", [holed]))
    assert regions.region_of(2, 2) == "05"
    assert regions.region_of(5, 5) is None


def test_cities_are_tested_before_the_region_around_them(tmp_path: Path) -> None:
    region = _feature("05", "region", {"type": "Polygon", "coordinates": [_square(0, 0, 10, 10)]})
    city = _feature("02", "city", {"type": "MultiPolygon", "coordinates": [[_square(4, 4, 6, 6)]]})
    regions = RegionMap.load(_write(tmp_path / "enclave.geojson", [region, city]))
    assert regions.region_of_many([(5, 5), (1, 1), (11, 11)]) == ["02", "05", None]


def test_a_file_that_is_not_region_polygons_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"properties": {}}]}')
    with pytest.raises(ConfigError):
        RegionMap.load(bad)
    with pytest.raises(ConfigError):
        RegionMap.load(tmp_path / "missing.geojson")


@pytest.mark.parametrize(
    ("lat", "lon"), [(91.0, 70.0), (45.0, 181.0), (float("nan"), 70.0), (45.0, float("inf"))]
)
def test_coordinates_off_the_globe_are_rejected(regions: RegionMap, lat: float, lon: float) -> None:
    with pytest.raises(InvalidInputError):
        regions.region_of(lat, lon)
    with pytest.raises(InvalidInputError):
        regions.region_of_many([(lat, lon)])


@pytest.mark.parametrize("points", [[(45.0, 70.0, 1.0)], [(45.0,)], [("north", "east")], [[]]])
def test_points_that_are_not_pairs_are_rejected(regions: RegionMap, points: object) -> None:
    with pytest.raises(InvalidInputError):
        regions.region_of_many(points)  # type: ignore[arg-type]
