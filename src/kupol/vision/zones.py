"""Zones and lines of one camera: who is inside, since when, and who crossed which way.

Positions are track anchors (the bottom centre of a box: where an object stands). Zones and
lines are configured in image fractions (0..1 from the top-left corner) and work in pixels.

Two guards stop a track that jitters on a boundary from making a storm of events: an anchor
must be at least ``margin`` past a boundary before its side counts, and a new side must be
seen on ``hold`` consecutive updates before it is reported. The event then carries the time
of the first of those updates, so a dwell time is not lengthened by the guards.

Line directions are named as seen on the image, looking from ``a`` towards ``b``: for a line
drawn left to right, ``a=(0, 0.5), b=(1, 0.5)``, the left side is the upper half of the
image, so ``left_to_right`` means moving down the image.

Example:
    >>> import numpy as np
    >>> from kupol.vision.detections import PERSON, Detections
    >>> door = ZoneConfig(name="door", polygon=[(0.5, 0), (1, 0), (1, 1), (0.5, 1)])
    >>> monitor = ZoneMonitor([door], [], width=100, height=100, hold=1)
    >>> def at(x):
    ...     return Detections(xyxy=np.array([[x - 5, 40, x + 5, 60]], np.float32),
    ...         confidence=np.array([0.9], np.float32), class_id=np.array([PERSON], np.int32),
    ...         tracker_id=np.array([7], np.int64))
    >>> monitor.update(at(20), pts_s=0.0, frame_index=0)
    []
    >>> [(e.kind, e.track_id) for e in monitor.update(at(80), pts_s=1.0, frame_index=1)]
    [('zone_enter', 7)]
    >>> monitor.count("door"), monitor.dwell(7, "door", now=3.0)
    (1, 2.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kupol.core.errors import ConfigError
from kupol.vision.detections import COCO_CLASSES, Detections, class_id_of

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
Direction = Literal["left_to_right", "right_to_left"]
MIN_AREA = 1e-4  # of the image: smaller polygons are drawing mistakes
MIN_LENGTH = 0.01  # of the image side


class ZoneConfig(BaseModel):
    """A named area of one camera's image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, description="Unique within the camera.")
    polygon: list[Point] = Field(
        min_length=3,
        max_length=64,
        description="Corners as (x, y) fractions of the image, 0..1 from the top-left; "
        "a simple polygon (edges do not cross).",
    )
    kind: Literal["watch", "restricted"] = Field(
        "watch", description="restricted: any presence is a violation; watch: counted only."
    )
    classes: list[str] | None = Field(
        None, description="Class names that count (e.g. person, car); None: every class."
    )

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, polygon: list[Point]) -> list[Point]:
        n = len(polygon)
        for i in range(n):
            if _length(polygon[i], polygon[(i + 1) % n]) < 1e-6:
                raise ValueError(f"polygon repeats point {i} ({polygon[i]})")
        for i in range(n):
            for j in range(i + 2, n):
                if i == 0 and j == n - 1:
                    continue  # neighbours through the closing edge
                if _segments_cross(polygon[i], polygon[i + 1], polygon[j], polygon[(j + 1) % n]):
                    raise ValueError(f"polygon edges {i} and {j} cross: draw it without a twist")
        x, y = np.array(polygon, np.float64).T
        area = abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2
        if area < MIN_AREA:
            raise ValueError(f"polygon encloses no area ({area:.2g} of the image): points in line?")
        return polygon


class LineConfig(BaseModel):
    """A named line (a tripwire) counted when a track crosses it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, description="Unique within the camera.")
    a: Point = Field(description="First end, (x, y) fractions of the image.")
    b: Point = Field(description="Second end; sides are named looking from a towards b.")
    direction: Literal["both", "left_to_right", "right_to_left"] = Field(
        "both", description="Crossings reported: from the left side to the right, or back."
    )
    classes: list[str] | None = Field(
        None, description="Class names that count (e.g. person, car); None: every class."
    )

    @model_validator(mode="after")
    def _distinct_ends(self) -> LineConfig:
        if _length(self.a, self.b) < MIN_LENGTH:
            raise ValueError(f"line {self.name!r}: ends a and b must be at least 1% apart")
        return self


@dataclass(frozen=True, kw_only=True)
class ZoneEvent:
    """A track entered or left a zone, or crossed a line (``zone`` is then the line's name).

    ``direction`` is set on crossings, ``dwell_s`` on exits.
    """

    kind: Literal["zone_enter", "zone_exit", "line_cross"]
    zone: str
    track_id: int
    class_id: int
    pts_s: float
    frame_index: int
    direction: Direction | None = None
    dwell_s: float | None = None


@dataclass(kw_only=True)
class _Side:
    """A track's settled side of one boundary, and a change waiting for ``hold`` updates."""

    side: int = 0  # zones: +1 inside, -1 outside; lines: +1 right, -1 left; 0 unknown
    since_s: float = 0.0
    point: tuple[float, float] = (0.0, 0.0)  # last anchor seen on the settled side
    pending: int = 0
    count: int = 0
    pending_s: float = 0.0
    pending_frame: int = 0
    pending_point: tuple[float, float] = (0.0, 0.0)

    def observe(
        self, side: int, pts_s: float, frame: int, point: tuple[float, float], hold: int
    ) -> bool:
        """Record a clear observation; True when it settles a change of side."""
        if side == self.side:
            self.point, self.count = point, 0
            return False
        if side != self.pending or self.count == 0:
            self.pending, self.count = side, 0
            self.pending_s, self.pending_frame, self.pending_point = pts_s, frame, point
        self.count += 1
        if self.count < hold:
            return False
        self.side, self.since_s, self.count, self.point = side, self.pending_s, 0, point
        return True


class ZoneMonitor:
    """Zone presence and line crossings of one camera's tracks.

    Args:
        zones: the camera's zones.
        lines: the camera's lines.
        width: analysed image width, pixels.
        height: analysed image height, pixels.
        margin: how far past a boundary an anchor must be, as a fraction of the larger side.
        hold: consecutive updates a new side must be seen before it counts.
        names: class names of the detector (COCO by default) to resolve ``classes``.

    Raises:
        ConfigError: duplicate names or unknown class names.
    """

    def __init__(
        self,
        zones: Sequence[ZoneConfig] = (),
        lines: Sequence[LineConfig] = (),
        *,
        width: int,
        height: int,
        margin: float = 0.01,
        hold: int = 2,
        names: Sequence[str] = COCO_CLASSES,
    ) -> None:
        all_names = [z.name for z in zones] + [line.name for line in lines]
        if len(set(all_names)) != len(all_names):
            raise ConfigError(f"zone and line names must be unique: {all_names}")
        self.zones = {z.name: z for z in zones}
        self.lines = {line.name: line for line in lines}
        self._size = np.array([width, height], np.float64)
        self._margin = margin * max(width, height)
        self._hold = max(1, hold)
        configs: list[ZoneConfig | LineConfig] = [*zones, *lines]
        self._classes = {c.name: _class_ids(c.name, c.classes, names) for c in configs}
        self._contours = {
            z.name: (np.array(z.polygon) * self._size).astype(np.float32).reshape(-1, 1, 2)
            for z in zones
        }
        self._zone_sides: dict[tuple[int, str], _Side] = {}
        self._line_sides: dict[tuple[int, str], _Side] = {}
        self._occupants: dict[str, dict[int, float]] = {z.name: {} for z in zones}
        self._crossings = {line.name: {"left_to_right": 0, "right_to_left": 0} for line in lines}
        self._last: dict[int, tuple[int, int]] = {}  # track id -> (class id, frame index)

    def update(self, tracked: Detections, *, pts_s: float, frame_index: int) -> list[ZoneEvent]:
        """Events caused by one frame's tracked objects (rows without a track id are skipped)."""
        events: list[ZoneEvent] = []
        for (x, y), track_id, class_id in zip(
            tracked.anchors.tolist(),
            tracked.tracker_id.tolist(),
            tracked.class_id.tolist(),
            strict=True,
        ):
            if track_id < 0:
                continue
            self._last[track_id] = (class_id, frame_index)
            for name in self.zones:
                if _counts(self._classes[name], class_id):
                    events += self._zone(name, track_id, class_id, (x, y), pts_s, frame_index)
            for name in self.lines:
                if _counts(self._classes[name], class_id):
                    events += self._line(name, track_id, class_id, (x, y), pts_s, frame_index)
        return events

    def track_ended(self, track_id: int, pts_s: float) -> list[ZoneEvent]:
        """Exits from every zone the ended track was in; forgets the track.

        ``pts_s`` is the exit time the dwell is measured to: the track's last sighting
        (:attr:`~kupol.vision.tracking.TrackEvent.last_pts_s`) for the time it really left,
        or the end event's time to include the seconds it was lost.
        """
        class_id, frame = self._last.pop(track_id, (-1, -1))
        events = [
            self._exit(name, track_id, class_id, pts_s, frame)
            for name, inside in self._occupants.items()
            if track_id in inside
        ]
        for store in (self._zone_sides, self._line_sides):
            for key in [k for k in store if k[0] == track_id]:
                del store[key]
        return events

    def occupants(self, zone: str) -> dict[int, float]:
        """Track ids inside ``zone`` and when each entered (pts seconds)."""
        return dict(self._zone_state(zone))

    def count(self, zone: str) -> int:
        """How many tracks are inside ``zone`` now."""
        return len(self._zone_state(zone))

    def dwell(self, track_id: int, zone: str, now: float) -> float:
        """Seconds ``track_id`` has been inside ``zone`` at ``now``; 0 when outside."""
        entered = self._zone_state(zone).get(track_id)
        return 0.0 if entered is None else max(0.0, now - entered)

    def crossings(self, line: str) -> dict[str, int]:
        """Crossings of ``line`` so far, by direction (``left_to_right``, ``right_to_left``)."""
        if line not in self._crossings:
            raise KeyError(f"no line named {line!r}")
        return dict(self._crossings[line])

    def _zone_state(self, zone: str) -> dict[int, float]:
        if zone not in self._occupants:
            raise KeyError(f"no zone named {zone!r}")
        return self._occupants[zone]

    def _zone(
        self, name: str, track_id: int, class_id: int, p: tuple[float, float], t: float, f: int
    ) -> list[ZoneEvent]:
        distance = cv2.pointPolygonTest(self._contours[name], p, True)
        side = 1 if distance >= self._margin else -1 if distance <= -self._margin else 0
        state = self._zone_sides.setdefault((track_id, name), _Side(side=-1))
        if side == 0 or not state.observe(side, t, f, p, self._hold):
            return []
        if side > 0:
            self._occupants[name][track_id] = state.since_s
            enter = ZoneEvent(
                kind="zone_enter",
                zone=name,
                track_id=track_id,
                class_id=class_id,
                pts_s=state.since_s,
                frame_index=state.pending_frame,
            )
            return [enter]
        return [self._exit(name, track_id, class_id, state.since_s, state.pending_frame)]

    def _exit(self, name: str, track_id: int, class_id: int, t: float, f: int) -> ZoneEvent:
        entered = self._occupants[name].pop(track_id)
        return ZoneEvent(
            kind="zone_exit",
            zone=name,
            track_id=track_id,
            class_id=class_id,
            pts_s=t,
            frame_index=f,
            dwell_s=max(0.0, t - entered),
        )

    def _line(
        self, name: str, track_id: int, class_id: int, p: tuple[float, float], t: float, f: int
    ) -> list[ZoneEvent]:
        line = self.lines[name]
        a, b = np.array(line.a) * self._size, np.array(line.b) * self._size
        ab = b - a
        distance = float(ab[0] * (p[1] - a[1]) - ab[1] * (p[0] - a[0])) / float(np.hypot(*ab))
        side = 1 if distance >= self._margin else -1 if distance <= -self._margin else 0
        state = self._line_sides.setdefault((track_id, name), _Side())
        if side == 0:
            return []
        before, settled = state.side, state.point
        if not state.observe(side, t, f, p, self._hold) or before == 0:
            return []
        # A side change around an end of the line is not a crossing.
        if not _segments_cross(settled, state.pending_point, tuple(a), tuple(b)):
            return []
        direction: Direction = "left_to_right" if side > 0 else "right_to_left"
        if line.direction not in ("both", direction):
            return []
        self._crossings[name][direction] += 1
        cross = ZoneEvent(
            kind="line_cross",
            zone=name,
            track_id=track_id,
            class_id=class_id,
            pts_s=state.since_s,
            frame_index=state.pending_frame,
            direction=direction,
        )
        return [cross]


def _class_ids(owner: str, classes: list[str] | None, names: Sequence[str]) -> frozenset[int]:
    if classes is None:
        return frozenset()
    try:
        return frozenset(class_id_of(c, names) for c in classes)
    except KeyError as error:
        raise ConfigError(f"{owner!r}: unknown class {error.args[0]!r}") from None


def _counts(classes: frozenset[int], class_id: int) -> bool:
    return not classes or class_id in classes


def _length(p: tuple[float, float], q: tuple[float, float]) -> float:
    return float(np.hypot(q[0] - p[0], q[1] - p[1]))


def _segments_cross(
    p1: tuple[float, ...], p2: tuple[float, ...], q1: tuple[float, ...], q2: tuple[float, ...]
) -> bool:
    """Whether segment p1-p2 meets segment q1-q2 (touching counts)."""

    def orient(a: tuple[float, ...], b: tuple[float, ...], c: tuple[float, ...]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0) or d1 == 0 or d2 == 0) and (
        (d3 > 0) != (d4 > 0) or d3 == 0 or d4 == 0
    ):
        # Collinear but apart: check the projections overlap.
        if d1 == d2 == d3 == d4 == 0:
            return all(
                min(p1[k], p2[k]) <= max(q1[k], q2[k]) and min(q1[k], q2[k]) <= max(p1[k], p2[k])
                for k in (0, 1)
            )
        return True
    return False
