"""Red light (art. 599) and failing to yield to a pedestrian (art. 600), judged on tracks on
the road plane (metres, from a calibrated camera; :mod:`kupol.traffic.calibration`).

A track is a vehicle's or a pedestrian's positions over time. The rules say when a vehicle
broke the rule and why, with the moment to take the evidence frames at; the legal table
(:mod:`kupol.traffic.legal`) turns that into an article and a fine.

Example:
    >>> from kupol.traffic.signals import SignalTimeline
    >>> lights = SignalTimeline("j1")
    >>> lights.change(at=0.0, phase="red")
    >>> line = StopLine(a=(-5.0, 0.0), b=(5.0, 0.0))
    >>> car = [TrackPosition(t=1.0 + i / 10, at=(0.0, -2.0 + i)) for i in range(5)]
    >>> ran = ran_red_light(car, line, lights)
    >>> round(ran.t, 2), round(ran.red_for_s, 2)
    (1.2, 1.2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from kupol.core.geo import Point, point_in_polygon
from kupol.traffic.signals import SignalTimeline


@dataclass(frozen=True, kw_only=True)
class TrackPosition:
    """Where a road user was on the road (metres) at ``t`` seconds."""

    t: float
    at: Point


@dataclass(frozen=True, kw_only=True)
class StopLine:
    """A stop line from ``a`` to ``b`` (metres); vehicles cross it from the side on the right
    of ``a``→``b`` to the side on its left (the direction of travel it governs)."""

    a: Point
    b: Point


@dataclass(frozen=True, kw_only=True)
class RedLightCrossing:
    """A vehicle that crossed a stop line on red."""

    t: float
    """When its ground point crossed the line (interpolated between two positions)."""
    red_for_s: float
    """How long the light had been red by then."""


@dataclass(frozen=True, kw_only=True)
class FailureToYield:
    """A vehicle on a crosswalk while a pedestrian was on it or stepping onto it."""

    t: float
    pedestrian: int
    """Index of the pedestrian's track among those given."""
    pedestrian_on_crossing: bool
    """True: on the crosswalk; False: at the kerb, stepping onto it."""
    gap_m: float
    """Distance between the vehicle and the pedestrian at ``t``."""


def _side(line: StopLine, p: Point) -> float:
    (ax, ay), (bx, by) = line.a, line.b
    return (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)


def _within_segment(line: StopLine, p: Point, q: Point, s: float) -> bool:
    """Whether the point at fraction ``s`` of p→q falls between the line's ends."""
    x, y = p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])
    (ax, ay), (bx, by) = line.a, line.b
    dx, dy = bx - ax, by - ay
    u = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
    return 0.0 <= u <= 1.0


def ran_red_light(
    track: Sequence[TrackPosition],
    line: StopLine,
    lights: SignalTimeline,
    *,
    grace_s: float = 0.5,
) -> RedLightCrossing | None:
    """The vehicle's crossing of ``line`` in its direction, when the light had been red for
    more than ``grace_s`` (the time a vehicle already committed on amber needs); ``None``
    otherwise — crossing on green or amber, the other way, or an unknown phase."""
    for p, q in pairwise(track):
        before, after = _side(line, p.at), _side(line, q.at)
        if not (before < 0 <= after):
            continue
        s = before / (before - after)
        if not _within_segment(line, p.at, q.at, s):
            continue
        t = p.t + s * (q.t - p.t)
        red = lights.red_for(t)
        if red is not None and red > grace_s:
            return RedLightCrossing(t=t, red_for_s=red)
        return None
    return None


def failed_to_yield(
    vehicle: Sequence[TrackPosition],
    pedestrians: Sequence[Sequence[TrackPosition]],
    crosswalk: Sequence[Point],
    *,
    kerb_m: float = 1.0,
    stepping_mps: float = 0.3,
) -> FailureToYield | None:
    """The first moment the vehicle is on ``crosswalk`` while a pedestrian is on it, or within
    ``kerb_m`` of it and walking towards it faster than ``stepping_mps``; ``None`` if never.

    A pedestrian's position at the vehicle's moment is interpolated from its track; a
    pedestrian not tracked at that moment does not count.
    """
    for position in vehicle:
        if not point_in_polygon(position.at, crosswalk):
            continue
        for index, walker in enumerate(pedestrians):
            where = _at(walker, position.t)
            if where is None:
                continue
            gap = math.dist(where, position.at)
            if point_in_polygon(where, crosswalk):
                return FailureToYield(
                    t=position.t, pedestrian=index, pedestrian_on_crossing=True, gap_m=gap
                )
            distance = _distance_to_polygon(where, crosswalk)
            earlier = _at(walker, position.t - 0.5)
            if distance <= kerb_m and earlier is not None:
                approach = (_distance_to_polygon(earlier, crosswalk) - distance) / 0.5
                if approach >= stepping_mps:
                    return FailureToYield(
                        t=position.t, pedestrian=index, pedestrian_on_crossing=False, gap_m=gap
                    )
    return None


def _at(track: Sequence[TrackPosition], t: float) -> Point | None:
    """The track's position at ``t``, interpolated; ``None`` outside the track's time."""
    if not track or t < track[0].t or t > track[-1].t:
        return None
    for p, q in pairwise(track):
        if p.t <= t <= q.t:
            s = 0.0 if q.t == p.t else (t - p.t) / (q.t - p.t)
            return p.at[0] + s * (q.at[0] - p.at[0]), p.at[1] + s * (q.at[1] - p.at[1])
    return track[-1].at


def _distance_to_polygon(p: Point, polygon: Sequence[Point]) -> float:
    if point_in_polygon(p, polygon):
        return 0.0
    best = math.inf
    for a, b in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        u = (
            0.0
            if length2 == 0
            else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
        )
        best = min(best, math.dist(p, (a[0] + u * dx, a[1] + u * dy)))
    return best
