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
from typing import Protocol

import cv2
import numpy as np

from kupol.core.errors import InvalidInputError
from kupol.core.geo import Point, point_in_polygon


class Lights(Protocol):
    """What the red-light rule asks of a signal: how long it had been prohibiting at ``t``
    (:class:`~kupol.traffic.signals.SignalTimeline`)."""

    def red_for(self, t: float) -> float | None: ...


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

    def __post_init__(self) -> None:
        if math.dist(self.a, self.b) < 0.1:
            raise InvalidInputError("a stop line needs two ends at least 0.1 m apart")


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
    lights: Lights,
    *,
    grace_s: float = 0.5,
    front_offset_m: float = 0.0,
) -> RedLightCrossing | None:
    """The moment the vehicle's front crossed ``line`` in its direction, when the light had
    been red for more than ``grace_s`` (the time a vehicle already committed on amber needs);
    ``None`` otherwise — crossing on green or amber, the other way, or an unknown phase.

    Args:
        front_offset_m: How far the vehicle's front is ahead of its tracked point along its
            travel. A camera facing the traffic tracks the front (0); one that sees vehicles
            from behind tracks the rear, and the vehicle's length (about 4.5 m for a car)
            puts the crossing where the law looks at it, 0.3–0.5 s earlier at city speeds.

    Raises:
        InvalidInputError: The track's times do not increase or a coordinate is not finite.
    """
    _check_track(track)
    if front_offset_m:
        track = _ahead(track, front_offset_m)
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
    conflict_m: float = 3.5,
) -> FailureToYield | None:
    """The first moment the vehicle is on ``crosswalk`` while a pedestrian in its way is on it,
    or within ``kerb_m`` of it and walking towards it faster than ``stepping_mps``; ``None`` if
    never.

    "In its way": the pedestrian is within ``conflict_m`` (one lane's width) of the vehicle's
    path, to either side — a pedestrian on the far side of a wide road is no conflict yet; one
    stepping on from the kerb may be ``kerb_m`` further. A pedestrian's position at the
    vehicle's moment is interpolated from its track; one not tracked then does not count.

    Raises:
        InvalidInputError: The crosswalk has fewer than 3 corners, or a track's times do not
            increase or its coordinates are not finite.
    """
    if len(crosswalk) < 3:
        raise InvalidInputError("a crosswalk needs 3 or more corners")
    _check_track(vehicle)
    for walker in pedestrians:
        _check_track(walker)
    for k, position in enumerate(vehicle):
        if not point_in_polygon(position.at, crosswalk):
            continue
        heading = _heading(vehicle, k)
        for index, walker in enumerate(pedestrians):
            where = _at(walker, position.t)
            if where is None:
                continue
            gap = math.dist(where, position.at)
            lateral = _lateral(position.at, heading, where)
            if point_in_polygon(where, crosswalk):
                if lateral <= conflict_m:
                    return FailureToYield(
                        t=position.t, pedestrian=index, pedestrian_on_crossing=True, gap_m=gap
                    )
                continue
            distance = _distance_to_polygon(where, crosswalk)
            earlier = _at(walker, position.t - 0.5)
            if distance <= kerb_m and earlier is not None and lateral <= conflict_m + kerb_m:
                approach = (_distance_to_polygon(earlier, crosswalk) - distance) / 0.5
                if approach >= stepping_mps:
                    return FailureToYield(
                        t=position.t, pedestrian=index, pedestrian_on_crossing=False, gap_m=gap
                    )
    return None


def _heading(track: Sequence[TrackPosition], k: int) -> Point | None:
    """Unit direction of travel at the ``k``-th position (from its neighbours)."""
    a, b = track[max(0, k - 1)].at, track[min(len(track) - 1, k + 1)].at
    length = math.dist(a, b)
    if length == 0:
        return None
    return (b[0] - a[0]) / length, (b[1] - a[1]) / length


def _lateral(at: Point, heading: Point | None, p: Point) -> float:
    """Distance of ``p`` from the line through ``at`` along ``heading`` (plain distance when
    the vehicle stands still)."""
    if heading is None:
        return math.dist(at, p)
    return abs((p[0] - at[0]) * heading[1] - (p[1] - at[1]) * heading[0])


def _check_track(track: Sequence[TrackPosition]) -> None:
    if any(
        not (math.isfinite(p.t) and math.isfinite(p.at[0]) and math.isfinite(p.at[1]))
        for p in track
    ):
        raise InvalidInputError("track positions must have finite times and coordinates")
    if any(q.t <= p.t for p, q in pairwise(track)):
        raise InvalidInputError("track positions must be in increasing time order")


def _ahead(track: Sequence[TrackPosition], metres: float) -> list[TrackPosition]:
    """The track moved ``metres`` forward along its own direction of travel at each point."""
    moved = []
    for i, p in enumerate(track):
        a, b = track[max(0, i - 1)].at, track[min(len(track) - 1, i + 1)].at
        length = math.dist(a, b)
        if length == 0:
            moved.append(p)
            continue
        dx, dy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        moved.append(TrackPosition(t=p.t, at=(p.at[0] + metres * dx, p.at[1] + metres * dy)))
    return moved


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
    """Metres from ``p`` to the polygon's edge (0 inside), as camera zones measure it."""
    contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
    return max(0.0, -float(cv2.pointPolygonTest(contour, (float(p[0]), float(p[1])), True)))
