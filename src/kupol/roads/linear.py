"""Hotspots along roads, without a road network: the accidents of each named road are put on
a line through them (their principal axis, in metres), cut into segments, and Getis-Ord Gi*
is run on the chain of segments (each with its neighbours before and after), corrected for
testing every segment of every road (Benjamini-Hochberg). Consecutive hot segments make one
stretch.

This stands in for linear referencing on a road network, which the registry does not have:
it is right for roads that run straight across the area analysed (highways between towns, a
city's avenues) and wrong for winding ones, so a road whose accidents lie far from its axis
(more than ``max_spread`` of its length, as a standard deviation) is not measured and is named
as such. Generic road names ("городская улица", "0", "unknown") are not roads to measure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kupol.core.errors import InvalidInputError
from kupol.roads.hotspots import benjamini_hochberg, gi_star_on_table
from kupol.roads.vocabulary import SEVERITY_WEIGHTS

GENERIC = {"", "0", "unknown", "городская улица", "улица", "street"}


@dataclass(frozen=True, kw_only=True)
class RoadIncident:
    """What the analysis needs of one accident on a named road."""

    id: int
    road: str
    latitude: float
    longitude: float
    severity: str
    killed: int = 0


@dataclass(frozen=True, kw_only=True)
class Stretch:
    """Consecutive hot segments of one road."""

    rank: int
    road: str
    from_km: float
    to_km: float
    start: tuple[float, float]
    end: tuple[float, float]
    accidents: int
    killed: int
    weight: float
    max_z: float
    min_q: float
    accident_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RoadHotspots:
    segment_m: float
    roads_measured: list[str]
    roads_not_straight: list[str]
    stretches: list[Stretch]
    statement: str


@dataclass
class _Road:
    name: str
    members: list[RoadIncident]
    positions: np.ndarray  # metres along the axis, from the first accident
    origin: np.ndarray  # lat, lon of the axis' origin
    axis: np.ndarray  # unit vector in metres (east, north)
    scale: np.ndarray  # metres per degree (lat, lon)


def road_hotspots(
    incidents: Sequence[RoadIncident],
    *,
    segment_m: float = 500.0,
    alpha: float = 0.05,
    min_accidents: int = 10,
    max_spread: float = 0.1,
) -> RoadHotspots:
    """Hot stretches of the roads of ``incidents`` (see the module's doc), most weight first."""
    if not 100 <= segment_m <= 5000:
        raise InvalidInputError("segments are 100 m to 5 km")
    if not 0 < alpha < 0.5:
        raise InvalidInputError("alpha is between 0 and 0.5")
    by_road: dict[str, list[RoadIncident]] = defaultdict(list)
    for incident in incidents:
        if incident.road.strip().lower() not in GENERIC:
            by_road[incident.road].append(incident)
    roads, winding = [], []
    for name in sorted(by_road):
        members = by_road[name]
        if len(members) < min_accidents:
            continue
        road = _along(name, members, max_spread)
        if road is None:
            winding.append(name)
        else:
            roads.append(road)
    segments: list[tuple[_Road, int, list[int]]] = []  # road, segment index, member indexes
    values: list[float] = []
    chains: list[list[int]] = []
    for road in roads:
        count = int(road.positions.max() // segment_m) + 1
        first = len(segments)
        bins: list[list[int]] = [[] for _ in range(count)]
        for k, position in enumerate(road.positions):
            bins[int(position // segment_m)].append(k)
        for s, held in enumerate(bins):
            segments.append((road, s, held))
            values.append(sum(SEVERITY_WEIGHTS.get(road.members[k].severity, 1.0) for k in held))
            chains.append([first + j for j in (s - 1, s, s + 1) if 0 <= j < count])
    if len(segments) < 3:
        return RoadHotspots(
            segment_m=segment_m, roads_measured=[r.name for r in roads],
            roads_not_straight=winding, stretches=[],
            statement="too few road segments to look for hot stretches",
        )  # fmt: skip
    table = np.full((len(chains), 3), len(chains), dtype=np.int64)
    for k, chain in enumerate(chains):
        table[k, : len(chain)] = chain
    z, p = gi_star_on_table(np.asarray(values), table)
    q = benjamini_hochberg(p)
    hot = [k for k in range(len(segments)) if z[k] > 0 and q[k] <= alpha and segments[k][2]]
    stretches = _stretches(hot, segments, values, z, q, segment_m)
    return RoadHotspots(
        segment_m=segment_m,
        roads_measured=[r.name for r in roads],
        roads_not_straight=winding,
        stretches=stretches,
        statement=(
            f"Getis-Ord Gi* of severity-weighted accidents on {segment_m:g} m segments along "
            f"each named road with {min_accidents} or more accidents (the road taken as the "
            f"straight line through its accidents), neighbours the segments before and after, "
            f"false-discovery rate {alpha:g} over {len(segments)} segments of {len(roads)} "
            f"roads; not measured as not straight: {', '.join(winding) or 'none'}"
        ),
    )


def _along(name: str, members: list[RoadIncident], max_spread: float) -> _Road | None:
    points = np.array([[m.latitude, m.longitude] for m in members])
    centre = points.mean(axis=0)
    scale = np.array([111_320.0, 111_320.0 * math.cos(math.radians(float(centre[0])))])
    metres = (points - centre) * scale  # (north, east) metres
    _, _, vt = np.linalg.svd(metres - metres.mean(axis=0), full_matrices=False)
    axis = vt[0]
    along = metres @ axis
    length = float(along.max() - along.min())
    across = metres @ vt[1]
    if length <= 0 or float(across.std()) > max_spread * length:
        return None
    return _Road(
        name=name,
        members=members,
        positions=along - along.min(),
        origin=centre + (axis * along.min()) / scale,
        axis=axis,
        scale=scale,
    )


def _stretches(
    hot: list[int],
    segments: list[tuple[_Road, int, list[int]]],
    values: list[float],
    z: np.ndarray,
    q: np.ndarray,
    segment_m: float,
) -> list[Stretch]:
    runs: list[list[int]] = []
    for k in hot:
        if runs and runs[-1][-1] == k - 1 and segments[k - 1][0] is segments[k][0]:
            runs[-1].append(k)
        else:
            runs.append([k])
    found = []
    for run in runs:
        road = segments[run[0]][0]
        members = [road.members[i] for k in run for i in segments[k][2]]
        first, last = segments[run[0]][1], segments[run[-1]][1]

        def point(metres: float, road: _Road = road) -> tuple[float, float]:
            lat, lon = road.origin + road.axis * metres / road.scale
            return round(float(lat), 6), round(float(lon), 6)

        found.append(
            Stretch(
                rank=0,
                road=road.name,
                from_km=round(first * segment_m / 1000, 2),
                to_km=round((last + 1) * segment_m / 1000, 2),
                start=point(first * segment_m),
                end=point((last + 1) * segment_m),
                accidents=len(members),
                killed=sum(m.killed for m in members),
                weight=float(sum(values[k] for k in run)),
                max_z=float(max(z[k] for k in run)),
                min_q=float(min(q[k] for k in run)),
                accident_ids=sorted(m.id for m in members),
            )
        )
    found.sort(key=lambda s: (-s.weight, -s.max_z))
    return [Stretch(**{**s.__dict__, "rank": n}) for n, s in enumerate(found, start=1)]
