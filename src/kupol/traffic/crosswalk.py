"""Smart crosswalks: when to warn drivers, and what the crossing saw.

A smart crossing has a warning device (flashing lights, a projection on the road) that should
be on while someone waits at the kerb or walks across, and off when no one has been there for
a moment. :class:`WarningSwitch` makes that decision from the pedestrians' positions on the
road plane (metres) frame by frame and says when to send the device its command.

:func:`near_misses` finds vehicles that passed the crossing within a few seconds of a
pedestrian being on it — the measure a city uses to show whether a crossing became safer.

Example:
    >>> layout = CrossingLayout(crosswalk=((0, 0), (7, 0), (7, 4), (0, 4)),
    ...                         waiting_areas=(((-2, 0), (0, 0), (0, 4), (-2, 4)),))
    >>> switch = WarningSwitch("x1", layout, hold_s=3.0)
    >>> switch.update(t=0.0, pedestrians=[(-10.0, 2.0)]) is None  # far away
    True
    >>> switch.update(t=1.0, pedestrians=[(-1.0, 2.0)])  # waiting at the kerb
    WarningCommand(crossing_id='x1', on=True, t=1.0, reason='waiting')
    >>> switch.update(t=3.0, pedestrians=[]) is None  # gone 2 s: stays on
    True
    >>> switch.update(t=4.5, pedestrians=[])  # 3.5 s since anyone was there
    WarningCommand(crossing_id='x1', on=False, t=4.5, reason='clear')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kupol.core.errors import InvalidInputError
from kupol.core.geo import Point, point_in_polygon

Polygon = tuple[Point, ...]


@dataclass(frozen=True, kw_only=True)
class CrossingLayout:
    """A crossing on the road plane (metres): the crosswalk and the kerb areas where people
    wait to cross."""

    crosswalk: Polygon
    waiting_areas: tuple[Polygon, ...] = ()

    def __post_init__(self) -> None:
        for polygon in (self.crosswalk, *self.waiting_areas):
            if len(polygon) < 3:
                raise InvalidInputError("a crossing's polygons need 3 or more corners")

    def where(self, p: Point) -> str | None:
        """``"crossing"``, ``"waiting"`` or ``None`` for a pedestrian at ``p``."""
        if point_in_polygon(p, self.crosswalk):
            return "crossing"
        if any(point_in_polygon(p, area) for area in self.waiting_areas):
            return "waiting"
        return None


@dataclass(frozen=True)
class WarningCommand:
    """Turn a crossing's warning device on or off, and why."""

    crossing_id: str
    on: bool
    t: float
    reason: str


class WarningSwitch:
    """The on/off state of one crossing's warning device, from frame to frame."""

    def __init__(self, crossing_id: str, layout: CrossingLayout, *, hold_s: float = 3.0) -> None:
        if hold_s < 0:
            raise InvalidInputError("hold_s must not be negative")
        self.crossing_id = crossing_id
        self.layout = layout
        self.hold_s = hold_s
        self.on = False
        self._last_seen: float | None = None

    def update(self, *, t: float, pedestrians: Sequence[Point]) -> WarningCommand | None:
        """The command to send after the frame at ``t`` (pedestrians' ground positions), or
        ``None`` when the device stays as it is."""
        places = [self.layout.where(p) for p in pedestrians]
        present = [place for place in places if place is not None]
        if present:
            self._last_seen = t
            if not self.on:
                self.on = True
                reason = "crossing" if "crossing" in present else "waiting"
                return WarningCommand(self.crossing_id, True, t, reason)
            return None
        if self.on and self._last_seen is not None and t - self._last_seen >= self.hold_s:
            self.on = False
            return WarningCommand(self.crossing_id, False, t, "clear")
        return None


@dataclass(frozen=True, kw_only=True)
class Interval:
    """When one road user (a track) was on the crosswalk."""

    track: int
    start: float
    end: float


@dataclass(frozen=True, kw_only=True)
class NearMiss:
    """A vehicle on the crosswalk within ``gap_s`` seconds of a pedestrian on it (0: at the
    same time)."""

    vehicle: int
    pedestrian: int
    t: float
    gap_s: float


def near_misses(
    vehicles: Sequence[Interval], pedestrians: Sequence[Interval], *, gap_s: float = 1.5
) -> list[NearMiss]:
    """Every vehicle–pedestrian pair whose times on the crosswalk come within ``gap_s``.

    Example:
        >>> near_misses([Interval(track=1, start=10.0, end=10.6)],
        ...             [Interval(track=7, start=3.0, end=9.2)])
        [NearMiss(vehicle=1, pedestrian=7, t=10.0, gap_s=0.8)]
    """
    if gap_s < 0:
        raise InvalidInputError("gap_s must not be negative")
    found = []
    for car in vehicles:
        for walker in pedestrians:
            gap = max(0.0, walker.start - car.end, car.start - walker.end)
            if gap <= gap_s:
                found.append(
                    NearMiss(
                        vehicle=car.track, pedestrian=walker.track, t=car.start, gap_s=round(gap, 3)
                    )
                )
    return found
