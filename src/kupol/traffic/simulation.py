"""A simulated intersection with exact ground truth: the demo's traffic camera and the rules'
scenario tests.

A pinhole camera 8 m above the kerb-side of a road looks north along it (tilted 18° down,
focal 1,000 px at 1280 × 720). Vehicles drive south towards it in two lanes, through a stop
line governed by a signal and then an unsignalised smart crosswalk with kerb waiting areas;
e-scooters ride the sidewalk or the road. Each road user follows a script of road positions
(metres) over time; vehicles are boxes with their rendered Kazakh plate on the front, people
are upright boxes, the signal head is drawn in the frame's top-right corner.

Each frame comes with its road users' boxes — the boxes a perfect detector and tracker would
give (integer pixels) — so the rules, calibration, evidence, plate reading and warning device
run for real while the detector is replaced by the script. :data:`INTERSECTION` states which
violations its script commits, so a test can check each rule fires exactly when it should.

Example:
    >>> scene = Scenario(script=INTERSECTION, fps=5)
    >>> frame = scene.frame(2.0, images=False)
    >>> frame.pts_s, [u.track_id for u in frame.users], scene.signal_phase(13.0)
    (2.0, [1], 'amber')
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.traffic.live import RoadUser
from kupol.vision.detections import Detections

WIDTH, HEIGHT = 1280, 720
CAMERA_HEIGHT_M, PITCH_DEG, FOCAL_PX = 8.0, 18.0, 1000.0
Image = NDArray[np.uint8]
Ground = tuple[float, float]

# The road plan, metres: x east of the camera, y north of it. The road is 7 m wide (two
# southbound lanes), kerbs at x = -2 and x = 5, a sidewalk east of it.
ROAD_WEST, ROAD_EAST = -2.0, 5.0
LANES = (-0.25, 3.25)
"""Centres of the two lanes."""
STOP_LINE_Y = 45.0
CROSSWALK = ((ROAD_WEST, 16.0), (ROAD_EAST, 16.0), (ROAD_EAST, 20.0), (ROAD_WEST, 20.0))
WAITING_WEST = ((-4.0, 16.0), (ROAD_WEST, 16.0), (ROAD_WEST, 20.0), (-4.0, 20.0))
WAITING_EAST = ((ROAD_EAST, 16.0), (7.0, 16.0), (7.0, 20.0), (ROAD_EAST, 20.0))
SIDEWALK = ((ROAD_EAST + 2.0, 20.0), (10.0, 20.0), (10.0, 70.0), (ROAD_EAST + 2.0, 70.0))
CALIBRATION_MARKS = ((ROAD_WEST, 12.0), (ROAD_EAST, 12.0), (ROAD_EAST, 60.0), (ROAD_WEST, 60.0),
                     (1.5, 30.0), (ROAD_EAST, 35.0))  # fmt: skip
"""Road points an operator would mark (kerb corners and lane marks)."""
SIGNAL_BOX = (0.90, 0.04, 0.95, 0.26)
"""Where the signal head is drawn (fractions of the frame)."""
PLATE_M = (1.3, 0.28)
"""The plates are drawn 2.5 times life size (520 × 112 mm): the simulated camera is a wide
overview, where a true plate would be a few pixels high; enforcement cameras zoom on it."""
SIZES = {"car": (1.8, 4.5, 1.5), "person": (0.5, 0.4, 1.75), "scooter": (0.5, 1.2, 1.2)}
"""(width, length, height) in metres."""


def _camera() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pitch = math.radians(PITCH_DEG)
    right = np.array([1.0, 0.0, 0.0])
    forward = np.array([0.0, math.cos(pitch), -math.sin(pitch)])
    down = np.cross(forward, right)
    return np.stack([right, down, forward]), np.array([0.0, 0.0, CAMERA_HEIGHT_M])


_ROTATION, _CENTRE = _camera()


def project(point: Ground, height: float = 0.0) -> tuple[float, float]:
    """Where a road point (at ``height`` metres above it) appears in the frame, in pixels."""
    x, y, z = _ROTATION @ (np.array([point[0], point[1], height]) - _CENTRE)
    z = max(z, 1e-3)
    return float(WIDTH / 2 + FOCAL_PX * x / z), float(HEIGHT / 2 + FOCAL_PX * y / z)


def fraction(point: Ground) -> tuple[float, float]:
    """A road point as fractions of the frame (how configurations give image positions)."""
    x, y = project(point)
    return round(x / WIDTH, 6), round(y / HEIGHT, 6)


@dataclass(frozen=True, kw_only=True)
class Actor:
    """One scripted road user: ``path`` is (t, east, north) waypoints, linear between."""

    id: int
    kind: str  # car, person or scooter
    path: tuple[tuple[float, float, float], ...]
    plate: str | None = None
    colour: tuple[int, int, int] = (40, 90, 200)

    def at(self, t: float) -> Ground | None:
        """Road position at ``t``; ``None`` outside the script."""
        if not self.path[0][0] <= t <= self.path[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(self.path, self.path[1:], strict=False):
            if t0 <= t <= t1:
                s = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return x0 + s * (x1 - x0), y0 + s * (y1 - y0)
        return self.path[-1][1], self.path[-1][2]

    def speed_kmh(self, t: float) -> float:
        """Scripted speed at ``t``."""
        for (t0, x0, y0), (t1, x1, y1) in zip(self.path, self.path[1:], strict=False):
            if t0 <= t <= t1 and t1 > t0:
                return math.hypot(x1 - x0, y1 - y0) / (t1 - t0) * 3.6
        return 0.0


@dataclass(frozen=True, kw_only=True)
class Script:
    """Road users, the signal's phase changes (t, phase), and the violations they commit."""

    actors: tuple[Actor, ...]
    phases: tuple[tuple[float, str], ...]
    duration_s: float
    speed_limit_kmh: float
    expected: tuple[tuple[str, int], ...]
    """(offence, actor id) of every violation the script commits."""
    riders: dict[int, int] = field(default_factory=dict)
    """Person actor id → scooter actor id it rides on."""


def _drive(
    start: float, lane: float, kmh: float, *, y0: float = 75.0, y1: float = 5.0
) -> tuple[tuple[float, float, float], ...]:
    """A vehicle driving south at a steady ``kmh`` from ``y0`` to ``y1`` metres."""
    return ((start, lane, y0), (start + (y0 - y1) / (kmh / 3.6), lane, y1))


def _intersection() -> Script:
    green, red = "green", "red"
    # The signal: green 0–12 s, amber 12–15 s, red 15–27 s, green again from 27 s.
    phases = ((0.0, green), (12.0, "amber"), (15.0, red), (27.0, green))

    def stop_at(
        start: float, lane: float, kmh: float, stop_y: float, wait: float, go: float
    ) -> tuple[tuple[float, float, float], ...]:
        v = kmh / 3.6
        t_stop = start + (75.0 - stop_y) / v
        return (
            (start, lane, 75.0),
            (t_stop, lane, stop_y),
            (go, lane, stop_y),
            (go + (stop_y - 5.0) / v, lane, 5.0),
        )

    actors = (
        # 1: drives through on green at 50 km/h — no violation.
        Actor(id=1, kind="car", plate="777ABC02", path=_drive(1.0, LANES[0], 50.0)),
        # 2: crosses the stop line at ~16.9 s, red for 1.9 s — red light.
        Actor(id=2, kind="car", plate="123ABC02", path=_drive(14.5, LANES[1], 45.0),
              colour=(30, 30, 170)),
        # 3: 95 km/h where 60 is the limit, on green — speeding, art. 592 part 2.
        Actor(id=3, kind="car", plate="505KZA01", path=_drive(3.0, LANES[1], 95.0),
              colour=(200, 200, 200)),
        # 4: stops at the line on red and goes on green — no violation.
        Actor(id=4, kind="car", plate="316MAX14",
              path=stop_at(12.0, LANES[0], 40.0, STOP_LINE_Y + 0.6, 0.0, 27.5),
              colour=(60, 140, 60)),
        # 10: waits at the west kerb from 28 s, crosses east at 1.4 m/s from 30 s.
        Actor(id=10, kind="person", path=((28.0, -3.0, 18.0), (30.0, -3.0, 18.0),
                                          (36.4, 6.0, 18.0))),
        # 5: reaches the crosswalk at ~32.4 s in the west lane while 10 is on it — failing to
        #    yield.
        Actor(id=5, kind="car", plate="248DAR09", path=_drive(28.0, LANES[0], 40.0),
              colour=(20, 20, 20)),
        # 6: east lane, stops before the crosswalk for 10, goes when it is clear — no violation.
        Actor(id=6, kind="car", plate="901TEN05",
              path=stop_at(29.0, LANES[1], 40.0, 21.5, 0.0, 37.5), colour=(150, 60, 150)),
        # 20: e-scooter on the sidewalk at 15 km/h — over the 6 km/h there.
        Actor(id=20, kind="scooter", path=((38.0, 8.5, 60.0), (48.0, 8.5, 18.33))),
        # 21: e-scooter on the road at 32 km/h with a passenger — over 25 km/h, two riders.
        Actor(id=21, kind="scooter", path=_drive(40.0, LANES[0], 32.0, y0=60.0, y1=10.0)),
        Actor(id=30, kind="person", path=_drive(40.0, LANES[0] - 0.05, 32.0, y0=60.2, y1=10.2)),
        Actor(id=31, kind="person", path=_drive(40.0, LANES[0] + 0.05, 32.0, y0=59.6, y1=9.6)),
        Actor(id=32, kind="person", path=_drive(38.0, 8.5 - 0.02, 15.0, y0=60.1, y1=18.43)),
    )  # fmt: skip
    return Script(
        actors=actors,
        phases=phases,
        duration_s=50.0,
        speed_limit_kmh=60.0,
        expected=(
            ("red_light", 2),
            ("speeding", 3),
            ("failing_to_yield_to_pedestrian", 5),
            ("scooter_sidewalk_speeding", 20),
            ("scooter_speeding", 21),
            ("scooter_passenger", 21),
        ),
        riders={30: 21, 31: 21, 32: 20},
    )


INTERSECTION = _intersection()


def camera_config(*, speed_limit_kmh: float = 60.0, read_signal: bool = False) -> dict[str, object]:
    """The simulated camera's traffic settings, as an operator would enter them: the
    calibration marks, the stop line and its signal, the crosswalk, the sidewalk."""
    width = ROAD_EAST - ROAD_WEST
    config: dict[str, object] = {
        "enabled": True,
        "calibration": [{"image": fraction(g), "ground": g} for g in CALIBRATION_MARKS],
        "speed_limit_kmh": speed_limit_kmh,
        "stop_lines": [
            {
                "name": "south",
                # Vehicles drive south: the line is drawn east→west, so they cross from its
                # right to its left.
                "a": fraction((ROAD_EAST, STOP_LINE_Y)),
                "b": fraction((ROAD_EAST - width, STOP_LINE_Y)),
                "signal": "sim-south",
            }
        ],
        "crosswalks": [
            {
                "id": "sim-crossing",
                "polygon": [fraction(p) for p in CROSSWALK],
                "waiting_areas": [
                    [fraction(p) for p in WAITING_WEST],
                    [fraction(p) for p in WAITING_EAST],
                ],
                "hold_s": 2.0,
            }
        ],
        "sidewalks": [{"name": "east", "polygon": [fraction(p) for p in SIDEWALK]}],
        "vehicle_classes": ["car"],
        "pedestrian_classes": ["person"],
        "scooter_classes": ["scooter"],
    }
    if read_signal:
        config["signal_regions"] = [{"signal": "sim-south", "box": SIGNAL_BOX}]
    return config


@dataclass(frozen=True, kw_only=True)
class SimFrame:
    """One frame of the scene: its time, the picture and the road users' boxes."""

    pts_s: float
    image: Image | None
    users: list[RoadUser]
    phase: str


class Scenario:
    """Renders a :class:`Script` frame by frame."""

    def __init__(self, *, script: Script, fps: float = 10.0, jitter_px: float = 0.0) -> None:
        self.script = script
        self.fps = fps
        self._rng = np.random.default_rng(7)
        self._jitter = jitter_px

    def signal_phase(self, t: float) -> str:
        """The scripted phase at ``t``."""
        phase = self.script.phases[0][1]
        for start, name in self.script.phases:
            if start <= t:
                phase = name
        return phase

    @cached_property
    def _plates(self) -> dict[int, Image]:
        from kupol.plates.render import PlateStyle, available_fonts, render_plate

        fonts = available_fonts(extra_dirs=())
        rng = np.random.default_rng(2026)
        plates = {}
        for actor in self.script.actors:
            if actor.plate:
                style = (
                    PlateStyle.KZ_INDIVIDUAL
                    if len(actor.plate) == 8
                    else (PlateStyle.KZ_ORGANISATION)
                )
                plates[actor.id] = render_plate(actor.plate, style=style, rng=rng, font=fonts).image
        return plates

    @cached_property
    def _background(self) -> Image:
        image = np.full((HEIGHT, WIDTH, 3), (90, 120, 90), np.uint8)  # grass
        sky = int(project((0.0, 400.0))[1])
        image[: max(0, sky)] = (200, 170, 140)
        self._fill(image, ((ROAD_WEST, 6.0), (ROAD_EAST, 6.0), (ROAD_EAST, 300.0),
                           (ROAD_WEST, 300.0)), (85, 85, 85))  # fmt: skip
        self._fill(image, ((ROAD_EAST, 6.0), (10.5, 6.0), (10.5, 300.0), (ROAD_EAST, 300.0)),
                   (150, 150, 150))  # fmt: skip
        self._fill(image, ((-5.0, 6.0), (ROAD_WEST, 6.0), (ROAD_WEST, 300.0), (-5.0, 300.0)),
                   (150, 150, 150))  # fmt: skip
        for stripe in np.arange(ROAD_WEST + 0.25, ROAD_EAST, 1.0):
            self._fill(image, ((stripe, 16.0), (stripe + 0.5, 16.0), (stripe + 0.5, 20.0),
                               (stripe, 20.0)), (235, 235, 235))  # fmt: skip
        self._fill(image, ((ROAD_WEST, STOP_LINE_Y - 0.2), (ROAD_EAST, STOP_LINE_Y - 0.2),
                           (ROAD_EAST, STOP_LINE_Y + 0.2), (ROAD_WEST, STOP_LINE_Y + 0.2)),
                   (240, 240, 240))  # fmt: skip
        for y in np.arange(6.0, 200.0, 6.0):
            self._fill(image, ((1.45, y), (1.55, y), (1.55, y + 3.0), (1.45, y + 3.0)),
                       (220, 220, 220))  # fmt: skip
        noise = self._rng.integers(-6, 7, image.shape, dtype=np.int16)
        return np.asarray(np.clip(image.astype(np.int16) + noise, 0, 255), np.uint8)

    @staticmethod
    def _fill(image: Image, polygon: Sequence[Ground], colour: tuple[int, int, int]) -> None:
        pts = np.array([project(p) for p in polygon], np.float64)
        cv2.fillPoly(image, [np.round(pts).astype(np.int32)], colour, lineType=cv2.LINE_AA)

    def frames(self, *, images: bool = True) -> Iterator[SimFrame]:
        """Every frame, ``fps`` a second, from 0 to the script's end."""
        count = int(self.script.duration_s * self.fps) + 1
        for index in range(count):
            t = index / self.fps
            yield self.frame(t, images=images)

    def frame(self, t: float, *, images: bool = True) -> SimFrame:
        """The frame at ``t``."""
        present = []
        for actor in self.script.actors:
            where = actor.at(t)
            if where is None or not 6.0 <= where[1] <= 90.0:
                continue
            present.append((actor, where))
        present.sort(key=lambda item: -item[1][1])  # far first: near ones cover them
        image = self._background.copy() if images else None
        users = []
        phase = self.signal_phase(t)
        for actor, where in present:
            box, outline = self._shape(actor, where)
            if image is not None:
                self._draw(image, actor, where, outline)
            noise = self._rng.normal(0, self._jitter, 4) if self._jitter else np.zeros(4)
            x1, y1, x2, y2 = (float(round(v + d)) for v, d in zip(box, noise, strict=True))
            if x2 <= 0 or y2 <= 0 or x1 >= WIDTH or y1 >= HEIGHT:
                continue
            users.append(
                RoadUser(
                    track_id=actor.id,
                    box=(max(0.0, x1), max(0.0, y1), min(WIDTH - 1.0, x2), min(HEIGHT - 1.0, y2)),
                    class_name=actor.kind,
                )
            )
        if image is not None:
            self._draw_signal(image, phase)
        return SimFrame(pts_s=t, image=image, users=users, phase=phase)

    def _shape(
        self, actor: Actor, where: Ground
    ) -> tuple[tuple[float, float, float, float], NDArray[np.int32]]:
        width, length, height = SIZES[actor.kind]
        x, y = where
        # Vehicles drive south: the front is the south face (nearest the camera).
        corners = [
            (x + dx, y + dy, z)
            for dx in (-width / 2, width / 2)
            for dy in (0.0, length)
            for z in (0.0, height)
        ]
        pts = np.array([project((cx, cy), cz) for cx, cy, cz in corners], np.float64)
        hull = np.asarray(cv2.convexHull(np.round(pts).astype(np.int32)), np.int32)
        # The box's bottom centre is where the front meets the road (the tracked point).
        front = [project((x + dx, y), 0.0) for dx in (-width / 2, width / 2)]
        bottom = max(p[1] for p in front)
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            bottom,
        ), hull

    def _draw(self, image: Image, actor: Actor, where: Ground, outline: NDArray[np.int32]) -> None:
        colour = (
            actor.colour
            if actor.kind == "car"
            else ((60, 60, 160) if actor.kind == "person" else (20, 160, 220))
        )
        cv2.fillConvexPoly(image, outline, colour, lineType=cv2.LINE_AA)
        cv2.polylines(image, [outline], True, (20, 20, 20), 1, lineType=cv2.LINE_AA)
        plate = self._plates.get(actor.id)
        if plate is None:
            return
        x, y = where
        half, top, bottom = PLATE_M[0] / 2, 0.3 + PLATE_M[1], 0.3
        quad = np.array(
            [project((x - half, y), top), project((x + half, y), top),
             project((x + half, y), bottom), project((x - half, y), bottom)], np.float32
        )  # fmt: skip
        h, w = plate.shape[:2]
        source = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float32)
        matrix = cv2.getPerspectiveTransform(source, quad)
        warped = cv2.warpPerspective(plate, matrix, (WIDTH, HEIGHT))
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (WIDTH, HEIGHT))
        image[mask > 127] = warped[mask > 127]

    @staticmethod
    def _draw_signal(image: Image, phase: str) -> None:
        x1, y1, x2, y2 = (int(v * s) for v, s in zip(SIGNAL_BOX, (WIDTH, HEIGHT, WIDTH, HEIGHT),
                                                        strict=True))  # fmt: skip
        cv2.rectangle(image, (x1, y1), (x2, y2), (25, 25, 25), -1)
        radius = max(3, (x2 - x1) // 3)
        lit = {
            "red": {0},
            "red_amber": {0, 1},
            "amber": {1},
            "green": {2},
        }.get(phase, set())
        colours = ((40, 40, 255), (0, 190, 255), (60, 220, 60))
        for lamp in range(3):
            centre = ((x1 + x2) // 2, y1 + (y2 - y1) * (2 * lamp + 1) // 6)
            colour = colours[lamp] if lamp in lit else (55, 55, 55)
            cv2.circle(image, centre, radius, colour, -1, lineType=cv2.LINE_AA)


SCRIPTED_NAMES = ("car", "person", "scooter")
"""The classes the scripted detector reports."""


class ScriptedDetector:
    """The simulation's truth in place of a detection model, for a camera that plays a clip
    written by :func:`write_intersection_clip`: given a frame's time it returns the boxes of
    the road users the script puts there (scaled to the analysed frame's size)."""

    def __init__(self, script: Script = INTERSECTION) -> None:
        self._scene = Scenario(script=script)

    @property
    def names(self) -> Sequence[str]:
        """Class names, by class id."""
        return SCRIPTED_NAMES

    def detect(self, image: Image) -> Detections:
        """Without the frame's time there is no truth to give."""
        raise NotImplementedError("the scripted detector needs the frame's time: detect_at")

    def detect_at(self, image: Image, pts_s: float) -> Detections:
        """The scripted road users at ``pts_s`` (the clip's time), boxes in ``image``'s
        pixels."""
        t = pts_s % (self._scene.script.duration_s + 1.0 / self._scene.fps)
        users = self._scene.frame(t, images=False).users
        if not users:
            return Detections.empty()
        sx, sy = image.shape[1] / WIDTH, image.shape[0] / HEIGHT
        boxes = np.array([[u.box[0] * sx, u.box[1] * sy, u.box[2] * sx, u.box[3] * sy]
                          for u in users], np.float32)  # fmt: skip
        return Detections(
            xyxy=boxes,
            confidence=np.full(len(users), 0.99, np.float32),
            class_id=np.array([SCRIPTED_NAMES.index(u.class_name) for u in users], np.int32),
        )


def write_intersection_clip(
    path: Path, *, script: Script = INTERSECTION, fps: float = 10.0
) -> Path:
    """Render the script as an H.264 clip (written whole under a temporary name first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part.mp4")
    scene = Scenario(script=script, fps=fps)
    with av.open(str(temporary), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "22", "preset": "veryfast", "g": str(max(1, round(fps)))}
        for frame in scene.frames():
            assert frame.image is not None
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame.image), format="bgr24")
            for packet in stream.encode(video):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    temporary.replace(path)
    return path
