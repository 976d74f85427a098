"""Synthetic scenario clips with exact ground truth, for tracking, zone and rule tests.

Actors (tall "people", wide "cars", small "bags") move along scripted piecewise-linear paths
of their anchor (bottom centre) over a textured, noisy background. Actors lower in the image
are nearer and hide the ones behind them, so crossings make real occlusions; each truth box
says how much of it is visible. Every scenario states the zone and line events its script
implies, with their times, so tests can check a whole pipeline against them.

Example:
    >>> clip = zone_dwell()
    >>> frames = list(render(clip, images=False))
    >>> frames[10].pts_s, [t.id for t in frames[10].truth]
    (1.0, [1])
    >>> [(e.kind, e.pts_s) for e in clip.expected]
    [('zone_enter', 4.5), ('zone_exit', 11.5)]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.vision.detections import CAR, PERSON, SUITCASE, Detections
from kupol.vision.zones import LineConfig, ZoneConfig

Colour = tuple[int, int, int]
Direction = Literal["left_to_right", "right_to_left"]


@dataclass(frozen=True, kw_only=True)
class Waypoint:
    """An actor's anchor (bottom centre) at time ``t``, in fractions of the image."""

    t: float
    x: float
    y: float


@dataclass(frozen=True, kw_only=True)
class Actor:
    """One scripted object: present from its first waypoint's time to its last."""

    id: int
    class_id: int
    width: int
    height: int
    colour: Colour
    path: tuple[Waypoint, ...]

    def anchor_at(self, t: float) -> tuple[float, float] | None:
        """The anchor (fractions) at ``t``, linear between waypoints; None when absent."""
        if not self.path[0].t <= t <= self.path[-1].t:
            return None
        for a, b in zip(self.path, self.path[1:], strict=False):
            if a.t <= t <= b.t:
                f = (t - a.t) / (b.t - a.t) if b.t > a.t else 1.0
                return a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)
        return self.path[-1].x, self.path[-1].y


@dataclass(frozen=True, kw_only=True)
class ExpectedEvent:
    """A zone or line event the script implies (``zone`` names the line for crossings)."""

    kind: Literal["zone_enter", "zone_exit", "line_cross"]
    zone: str
    actor_id: int
    pts_s: float
    direction: Direction | None = None


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A scripted clip: its actors, the camera's zones and lines, and the events expected."""

    name: str
    actors: tuple[Actor, ...]
    duration_s: float
    fps: float = 10.0
    width: int = 640
    height: int = 360
    zones: tuple[ZoneConfig, ...] = ()
    lines: tuple[LineConfig, ...] = ()
    expected: tuple[ExpectedEvent, ...] = ()
    seed: int = 1

    @property
    def frame_count(self) -> int:
        """Frames in the clip."""
        return round(self.duration_s * self.fps)


@dataclass(frozen=True, kw_only=True)
class TruthObject:
    """Where an actor is in one frame: its box clipped to the image (pixels) and how much of
    the whole box is visible (0..1, after clipping and occlusion)."""

    id: int
    class_id: int
    box: tuple[float, float, float, float]
    visibility: float


@dataclass(frozen=True, kw_only=True)
class ScenarioFrame:
    """One rendered frame (``image`` None when rendered without images) and its truth."""

    frame_index: int
    pts_s: float
    image: NDArray[np.uint8] | None
    truth: tuple[TruthObject, ...]

    def detections(self, min_visibility: float = 0.0) -> Detections:
        """The truth as :class:`Detections`, actor ids as ``tracker_id``, confidence 1."""
        kept = [t for t in self.truth if t.visibility >= min_visibility]
        if not kept:
            return Detections.empty()
        return Detections(
            xyxy=np.array([t.box for t in kept], np.float32),
            confidence=np.ones(len(kept), np.float32),
            class_id=np.array([t.class_id for t in kept], np.int32),
            tracker_id=np.array([t.id for t in kept], np.int64),
        )


def render(scenario: Scenario, *, images: bool = True) -> Iterator[ScenarioFrame]:
    """Frames of ``scenario`` with exact truth; ``images=False`` skips drawing (much faster).

    Example:
        >>> frame = next(render(crossing_pair()))
        >>> frame.image.shape, frame.image.dtype
        ((360, 640, 3), dtype('uint8'))
    """
    rng = np.random.default_rng(scenario.seed)
    background = _background(scenario, rng) if images else None
    size = (scenario.height, scenario.width)
    for index in range(scenario.frame_count):
        t = round(index / scenario.fps, 6)
        placed = _place(scenario, t)
        owner = np.zeros(size, np.int32)
        image = None
        if background is not None:
            noise = rng.integers(-5, 6, size=(*size, 1), dtype=np.int16)
            image = np.clip(background + noise, 0, 255).astype(np.uint8)
        for actor, (x1, y1, x2, y2) in placed:
            owner[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = actor.id
            if image is not None:
                _draw(image, actor, (x1, y1, x2, y2))
        truth = []
        for actor, (x1, y1, x2, y2) in placed:
            region = owner[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)]
            visible = int(np.count_nonzero(region == actor.id))
            if visible:
                box = (
                    float(max(x1, 0)),
                    float(max(y1, 0)),
                    float(min(x2, scenario.width)),
                    float(min(y2, scenario.height)),
                )
                share = round(min(visible / (actor.width * actor.height), 1.0), 3)
                truth.append(
                    TruthObject(id=actor.id, class_id=actor.class_id, box=box, visibility=share)
                )
        truth.sort(key=lambda o: o.id)
        yield ScenarioFrame(frame_index=index, pts_s=t, image=image, truth=tuple(truth))


def _place(scenario: Scenario, t: float) -> list[tuple[Actor, tuple[int, int, int, int]]]:
    """Actors present at ``t`` with their pixel boxes, far (higher up) first."""
    placed = []
    for actor in scenario.actors:
        anchor = actor.anchor_at(t)
        if anchor is not None:
            x, y = round(anchor[0] * scenario.width), round(anchor[1] * scenario.height)
            half = actor.width // 2
            placed.append((actor, (x - half, y - actor.height, x - half + actor.width, y)))
    return sorted(placed, key=lambda p: (p[1][3], p[0].id))


def write_video(scenario: Scenario, path: Path) -> Path:
    """Write the clip as MPEG-4 (PyAV) at its frame rate; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=round(scenario.fps))
        stream.width, stream.height, stream.pix_fmt = scenario.width, scenario.height, "yuv420p"
        for frame in render(scenario):
            assert frame.image is not None
            video_frame = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@dataclass(kw_only=True)
class SimulatedDetector:
    """A detector's typical errors applied to the truth, reproducibly (``seed``).

    Boxes jitter by ``jitter`` of their size; each visible object is missed with
    ``miss_rate``; objects under ``min_visibility`` are never found and partly hidden ones
    (under 0.7) score low (0.15-0.5), as real detectors do; ``false_positives`` spurious
    boxes appear per frame on average.
    """

    width: int
    height: int
    seed: int = 0
    jitter: float = 0.04
    miss_rate: float = 0.1
    false_positives: float = 0.2
    min_visibility: float = 0.35
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def detect(self, frame: ScenarioFrame) -> Detections:
        """What the simulated detector reports for ``frame``."""
        rng = self._rng
        boxes: list[NDArray[np.float64]] = []
        scores: list[float] = []
        classes: list[int] = []
        for obj in frame.truth:
            if obj.visibility < self.min_visibility or rng.random() < self.miss_rate:
                continue
            box = np.array(obj.box, np.float64)
            wh = box[2:] - box[:2]
            boxes.append(box + rng.normal(0, self.jitter, 4) * np.concatenate([wh, wh]))
            low = obj.visibility < 0.7
            scores.append(float(rng.uniform(0.15, 0.5) if low else rng.uniform(0.55, 0.95)))
            classes.append(obj.class_id)
        for _ in range(rng.poisson(self.false_positives)):
            w, h, cls = (30, 80, PERSON) if rng.random() < 0.5 else (90, 40, CAR)
            x, y = rng.uniform(0, self.width - w), rng.uniform(0, self.height - h)
            boxes.append(np.array([x, y, x + w, y + h]))
            scores.append(float(rng.uniform(0.2, 0.7)))
            classes.append(cls)
        if not boxes:
            return Detections.empty()
        return Detections(
            xyxy=np.array(boxes, np.float32),
            confidence=np.array(scores, np.float32),
            class_id=np.array(classes, np.int32),
        )


def _background(scenario: Scenario, rng: np.random.Generator) -> NDArray[np.int16]:
    """A street-like texture: grey blotches, a darker road, fixed for the whole clip."""
    w, h = scenario.width, scenario.height
    blotches = rng.integers(70, 130, size=(h // 20 + 1, w // 20 + 1, 1)).astype(np.float32)
    base = cv2.resize(blotches, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, 1)
    base[int(h * 0.82) :] -= 30  # the road
    grain = rng.integers(-12, 13, size=(h, w, 1))
    tint = np.array([1.0, 0.97, 0.94], np.float32)  # slightly warm grey, BGR
    texture: NDArray[np.int16] = np.clip(base * tint + grain, 0, 255).astype(np.int16)
    return texture


def _draw(image: NDArray[np.uint8], actor: Actor, box: tuple[int, int, int, int]) -> None:
    x1, y1, x2, y2 = box
    cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), actor.colour, thickness=-1)
    darker = tuple(int(c * 0.6) for c in actor.colour)
    cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), darker, thickness=1)
    if actor.class_id == PERSON:  # a lighter head, so people read as people
        head = (x2 - x1) // 2
        cv2.rectangle(
            image,
            (x1 + head // 2, y1),
            (x2 - 1 - head // 2, y1 + head),
            (200, 200, 230),
            thickness=-1,
        )
    elif actor.class_id == CAR:  # wheels
        r = max(2, (y2 - y1) // 6)
        for cx in (x1 + (x2 - x1) // 4, x2 - (x2 - x1) // 4):
            cv2.circle(image, (cx, y2 - r), r, (20, 20, 20), thickness=-1)


def _walk(actor_id: int, class_id: int, colour: Colour, path: Sequence[tuple[float, ...]]) -> Actor:
    """An actor of the usual size for its class along ``(t, x, y)`` waypoints."""
    width, height = {PERSON: (30, 80), CAR: (90, 40), SUITCASE: (18, 16)}[class_id]
    points = tuple(Waypoint(t=t, x=x, y=y) for t, x, y in path)
    return Actor(
        id=actor_id, class_id=class_id, width=width, height=height, colour=colour, path=points
    )


def _cross(actor_id: int, pts_s: float, direction: Direction) -> ExpectedEvent:
    return ExpectedEvent(
        kind="line_cross", zone="gate", actor_id=actor_id, pts_s=pts_s, direction=direction
    )


def _box(name: str, x1: float, y1: float, x2: float, y2: float) -> ZoneConfig:
    return ZoneConfig(name=name, polygon=[(x1, y1), (x2, y1), (x2, y2), (x1, y2)])


RED, BLUE, GREEN, YELLOW = (40, 40, 200), (200, 60, 40), (50, 170, 60), (40, 200, 220)
COLOURS = (RED, BLUE, GREEN, YELLOW, (200, 200, 40), (160, 80, 200), (90, 140, 240))


def crossing_pair() -> Scenario:
    """Two people walk towards each other and cross mid-frame at 5 s (the nearer one hides
    the other for about a second); a car passes below them. No zones."""
    return Scenario(
        name="crossing_pair",
        duration_s=10.0,
        actors=(
            _walk(1, PERSON, RED, [(0.0, -0.05, 0.70), (10.0, 1.05, 0.70)]),
            _walk(2, PERSON, BLUE, [(0.0, 1.05, 0.74), (10.0, -0.05, 0.74)]),
            _walk(3, CAR, YELLOW, [(2.0, 1.1, 0.95), (7.0, -0.1, 0.95)]),
        ),
    )


def zone_dwell() -> Scenario:
    """A person walks into the ``bench`` zone (x 0.4-0.6) at 0.1 image widths a second,
    stops 5 s, walks on; another passes above the zone. Dwell 7.0 s (4.5 s to 11.5 s)."""
    stay = [(0.0, -0.05, 0.75), (5.5, 0.5, 0.75), (10.5, 0.5, 0.75), (16.0, 1.05, 0.75)]
    return Scenario(
        name="zone_dwell",
        duration_s=16.0,
        actors=(
            _walk(1, PERSON, RED, stay),
            _walk(2, PERSON, GREEN, [(2.0, 1.03, 0.35), (12.0, 0.03, 0.35)]),
        ),
        zones=(_box("bench", 0.4, 0.5, 0.6, 0.9),),
        expected=(
            ExpectedEvent(kind="zone_enter", zone="bench", actor_id=1, pts_s=4.5),
            ExpectedEvent(kind="zone_exit", zone="bench", actor_id=1, pts_s=11.5),
        ),
    )


def line_crossing() -> Scenario:
    """A ``gate`` line at x = 0.5 drawn upwards (so screen left is its left side): a car
    crosses left to right at 3.0 s, two people right to left at 6.3 s and 8.3 s; one person
    turns back before the line and one walks round its top end (no crossings)."""
    return Scenario(
        name="line_crossing",
        duration_s=12.0,
        actors=(
            _walk(1, CAR, YELLOW, [(0.0, -0.1, 0.92), (6.0, 1.1, 0.92)]),
            _walk(2, PERSON, BLUE, [(1.0, 1.03, 0.6), (11.6, -0.03, 0.6)]),
            _walk(3, PERSON, GREEN, [(3.0, 1.03, 0.75), (11.3, 0.2, 0.75), (12.0, 0.2, 0.75)]),
            _walk(4, PERSON, RED, [(0.5, -0.03, 0.45), (5.5, 0.42, 0.45), (11.0, -0.03, 0.45)]),
            _walk(5, PERSON, COLOURS[4], [(0.0, 0.1, 0.22), (8.0, 0.9, 0.22)]),
        ),
        lines=(LineConfig(name="gate", a=(0.5, 1.0), b=(0.5, 0.3)),),
        expected=(
            _cross(1, 3.0, "left_to_right"),
            _cross(2, 6.3, "right_to_left"),
            _cross(3, 8.3, "right_to_left"),
        ),
    )


def left_bag() -> Scenario:
    """A person carries a suitcase into the ``platform`` zone, stops at 5.5 s, leaves at 7 s
    walking off to the right without it; the suitcase (actor 2) stays to the end."""
    walk = [(0.0, -0.05, 0.8), (5.5, 0.5, 0.8), (7.0, 0.5, 0.8), (12.5, 1.05, 0.8)]
    return Scenario(
        name="left_bag",
        duration_s=16.0,
        actors=(
            _walk(1, PERSON, BLUE, walk),
            _walk(
                2, SUITCASE, GREEN, [(0.0, -0.08, 0.805), (5.5, 0.47, 0.805), (16.0, 0.47, 0.805)]
            ),
        ),
        zones=(_box("platform", 0.3, 0.55, 0.7, 0.95),),
        expected=(
            ExpectedEvent(kind="zone_enter", zone="platform", actor_id=1, pts_s=3.5),
            ExpectedEvent(kind="zone_enter", zone="platform", actor_id=2, pts_s=3.8),
            ExpectedEvent(kind="zone_exit", zone="platform", actor_id=1, pts_s=9.0),
        ),
    )


def crowd(seed: int = 3, *, people: int = 14, cars: int = 4) -> Scenario:
    """Many people crossing at random heights, speeds and times, and cars on the road:
    frequent crossings and occlusions (no expected events; for tracking metrics)."""
    rng = np.random.default_rng(seed)
    actors: list[Actor] = []
    for i in range(people + cars):
        car = i >= people
        y = rng.uniform(0.88, 0.98) if car else rng.uniform(0.4, 0.8)
        speed = rng.uniform(0.2, 0.35) if car else rng.uniform(0.06, 0.14)
        start = rng.uniform(0, 14)
        x0, x1 = (-0.1, 1.1) if rng.random() < 0.5 else (1.1, -0.1)
        path = [(start, x0, y), (start + 1.2 / speed, x1, y)]
        actors.append(_walk(i + 1, CAR if car else PERSON, COLOURS[i % len(COLOURS)], path))
    return Scenario(name="crowd", duration_s=30.0, actors=tuple(actors), seed=seed)


SCENARIOS = {f.__name__: f for f in (crossing_pair, zone_dwell, line_crossing, left_bag, crowd)}
"""The named scenarios, by name."""
