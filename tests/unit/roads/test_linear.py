"""Hotspots along roads: a black stretch on a straight highway is found and placed; a
winding road is named, not measured; generic street names are no roads."""

from __future__ import annotations

import math

import numpy as np

from kupol.roads.linear import RoadIncident, road_hotspots


def highway(rng: np.random.Generator, name: str, n: int, start: tuple[float, float]) -> list:
    """``n`` accidents spread along 40 km of a road heading north-east, plus 25 on the
    stretch 12.0-12.5 km from its start."""
    out = []
    for k in range(n + 25):
        km = rng.uniform(0, 40) if k < n else rng.uniform(12.0, 12.5)
        lat = start[0] + km / 111.32 * math.cos(math.radians(45))
        lon = start[1] + km / (111.32 * math.cos(math.radians(start[0]))) * math.sin(
            math.radians(45)
        )
        out.append(RoadIncident(id=len(out), road=name, latitude=lat + rng.normal(0, 1e-5),
                                longitude=lon, severity="serious", killed=0))  # fmt: skip
    return out


def test_a_black_stretch_on_a_straight_road_is_found_where_it_is() -> None:
    rng = np.random.default_rng(3)
    accidents = highway(rng, "national R-21", 160, (51.1, 71.4))
    result = road_hotspots(accidents)
    assert result.roads_measured == ["national R-21"]
    top = result.stretches[0]
    assert top.road == "national R-21" and top.from_km <= 12.5 and top.to_km >= 12.0
    assert set(range(160, 185)) <= set(top.accident_ids)
    assert "Gi*" in result.statement


def test_winding_roads_are_named_and_generic_names_are_not_roads() -> None:
    rng = np.random.default_rng(4)
    ring = [
        RoadIncident(id=k, road="ring road", latitude=51.1 + 0.05 * math.sin(a),
                     longitude=71.4 + 0.08 * math.cos(a), severity="slight")
        for k, a in enumerate(rng.uniform(0, 2 * math.pi, 80))
    ]  # fmt: skip
    streets = [
        RoadIncident(id=100 + k, road="городская улица", latitude=51.1 + k * 1e-4,
                     longitude=71.4, severity="slight")
        for k in range(50)
    ]  # fmt: skip
    result = road_hotspots(ring + streets)
    assert result.roads_not_straight == ["ring road"]
    assert result.roads_measured == [] and result.stretches == []
