"""All trips' route points as one set of arrays, and the speeds measured along them.

Speeds are measured over a *window*, not between two GPS fixes: from each point to the first
point at least ``window_s`` later on the same trip, the great-circle distance over the time.
A fix a few metres off moves a one-second speed by tens of km/h but a ten-second average by a
couple; and the straight line between the window's ends is never longer than the path ridden,
so the measured speed errs low, in the rider's favour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kupol.scooters.geometry import haversine_m
from kupol.scooters.model import BoolArray, FloatArray, IntArray, Trip


@dataclass(frozen=True, kw_only=True, eq=False)
class RoutePoints:
    """The points of many trips' routes, trip after trip, in time order within each."""

    trips: tuple[Trip, ...]
    """The trips with a route, in the order of their points."""
    trip: IntArray
    """Each point's trip (an index into :attr:`trips`)."""
    t_ms: IntArray
    lat: FloatArray
    lon: FloatArray
    sidewalk: BoolArray

    @classmethod
    def of(cls, trips: Sequence[Trip]) -> RoutePoints:
        """The points of every trip that has a route."""
        routed = tuple(t for t in trips if t.route is not None and len(t.route) > 0)
        routes = [t.route for t in routed if t.route is not None]
        lengths = np.array([len(r) for r in routes], dtype=np.int64)
        trip = np.repeat(np.arange(len(routes), dtype=np.int64), lengths)
        walk = [r.sidewalk if r.sidewalk is not None else np.zeros(len(r), bool) for r in routes]
        if not routes:
            empty = np.zeros(0, np.float64)
            return cls(
                trips=(),
                trip=trip,
                t_ms=trip.copy(),
                lat=empty,
                lon=empty.copy(),
                sidewalk=np.zeros(0, np.bool_),
            )
        return cls(
            trips=routed,
            trip=trip,
            t_ms=np.concatenate([r.t_ms for r in routes]),
            lat=np.concatenate([r.lat for r in routes]),
            lon=np.concatenate([r.lon for r in routes]),
            sidewalk=np.concatenate(walk),
        )

    def __len__(self) -> int:
        return len(self.t_ms)

    def window_speeds(self, window_s: float) -> tuple[IntArray, FloatArray]:
        """For each point, the end of its window and the average speed (km/h) over it.

        The end is the first point of the same trip at least ``window_s`` later; a point with
        none (the trip's last seconds) gets end ``-1`` and speed NaN.
        """
        n = len(self)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        first = np.flatnonzero(np.r_[True, self.trip[1:] != self.trip[:-1]])
        since = self.t_ms - self.t_ms[first][self.trip]
        window_ms = round(window_s * 1000)
        stride = int(since.max()) + window_ms + 1
        key = self.trip * stride + since  # increasing over all points: one sorted search
        end = np.searchsorted(key, key + window_ms, side="left")
        clipped = np.minimum(end, n - 1)
        valid = (end < n) & (self.trip[clipped] == self.trip)
        distance = haversine_m(self.lat, self.lon, self.lat[clipped], self.lon[clipped])
        seconds = (self.t_ms[clipped] - self.t_ms) / 1000
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(valid, distance / seconds * 3.6, np.nan)
        return np.where(valid, clipped, -1), speed


def runs(mask: BoolArray, group: IntArray) -> tuple[IntArray, IntArray]:
    """The first and last index of each run of consecutive ``True`` in ``mask`` whose
    elements share one ``group`` value.

    Example:
        >>> runs(np.array([1, 1, 0, 1, 1, 1], bool), np.array([0, 0, 0, 0, 1, 1]))
        (array([0, 3, 4]), array([1, 3, 5]))
    """
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return idx, idx
    cut = (np.diff(idx) != 1) | (group[idx[1:]] != group[idx[:-1]])
    starts = np.r_[0, np.flatnonzero(cut) + 1]
    ends = np.r_[np.flatnonzero(cut), len(idx) - 1]
    return idx[starts], idx[ends]
