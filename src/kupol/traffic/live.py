"""The traffic stage of a camera's pipeline: the tracked road users on the road plane, the
rules run on them as they move, smart crossings' warning devices switched, and each violation
reported with its evidence.

Every frame, each tracked vehicle, pedestrian and e-scooter is placed on the road (its box's
bottom centre through the camera's calibration) and the rules look at it:

- **red light** (art. 599): a vehicle's front crossing a stop line while its signal has been
  red longer than the grace — the signal from the controller feed, or read from the frame;
- **failing to yield** (art. 600): a vehicle on a crosswalk while a pedestrian in its way is on
  it or stepping onto it;
- **spot speed** (art. 592): when a vehicle's track ends, its speed fitted over the track;
  reported when over the limit by more than the tolerance;
- **e-scooters**: over the sidewalk limit on a sidewalk, over the general limit anywhere,
  or with a second rider (a person moving with the scooter, inside its box, for a second).

A smart crossing's device goes on when someone waits at or steps onto the crosswalk and off
after its hold; each switch is logged with its latency from the frame's capture. Pedestrians
and vehicles that used the crosswalk, and near misses between them, are counted.

A violation waits for its ``after`` frames, then goes out with its evidence: frames before,
at and after the moment (the track and the rule's lines drawn on the one at the moment), the
vehicle cut out of the full-resolution frame (where its plate is read), and a short clip. The
plate itself is the plate stage's vote for the same track (the review joins them by the
track's key), so one blurry frame does not decide it here either.

Times: the rules work in the video's seconds (``pts_s``); signals and the messages use the
wall clock (``occurred``).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import InvalidInputError
from kupol.core.geo import point_in_polygon
from kupol.core.messages import Event
from kupol.events.messages import EvidenceRef
from kupol.faces.files import FaceFiles
from kupol.traffic.calibration import Calibration
from kupol.traffic.config import CameraTrafficConfig, CrosswalkConfig, to_units
from kupol.traffic.controller import SignalBoard
from kupol.traffic.crosswalk import CrossingLayout, Interval, WarningCommand, WarningSwitch
from kupol.traffic.lights import read_phase
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.speed import SpeedEstimate, ground_speed
from kupol.traffic.violations import StopLine, TrackPosition, failed_to_yield, ran_red_light
from kupol.traffic.warning_device import Activation
from kupol.vision.clips import ClipFrame, RecentFrames, write_clip

log = logging.getLogger(__name__)
Box = tuple[float, float, float, float]
Image = NDArray[np.uint8]
HISTORY_S = 4.0
"""How much of a road user's path the online rules look at."""
KEEP_POSITIONS = 600
"""Most positions kept per road user (a minute at 10 fps; a parked car stays bounded)."""
TRACK_END_S = 4.0
"""Frames kept beyond the evidence window: a track is ended this long after its last
sighting at most (the tracker's lost_seconds, 2 s by default, and a margin)."""
RIDER_S = 1.0
"""A second person must ride inside a scooter's box this long to count as a passenger."""
RIDING_S = 0.3
"""A person inside a scooter's box this long rides it (and walks again when clear as long)."""


def frames_kept(config: CameraTrafficConfig) -> float:
    """Seconds of recent frames the stage needs for its evidence."""
    return config.evidence_before_s + config.evidence_after_s + TRACK_END_S


class WarningDevice(Protocol):
    """Where crossing commands go (:class:`~kupol.traffic.warning_device.MqttWarningDevice`)."""

    def send(self, command: WarningCommand, *, frame_captured: float) -> Activation: ...


@dataclass(frozen=True, kw_only=True)
class RoadUser:
    """A tracked object on this frame (box in the analysed frame's pixels)."""

    track_id: int
    box: Box
    class_name: str


@dataclass(kw_only=True)
class _Track:
    kind: str  # vehicle, pedestrian or scooter
    positions: list[TrackPosition] = field(default_factory=list)
    boxes: list[tuple[float, Box]] = field(default_factory=list)
    key: str | None = None
    fired: set[str] = field(default_factory=set)
    on_crosswalk: dict[str, list[float]] = field(default_factory=dict)
    """Per crosswalk: [first, last] time on it."""
    rider_since: float | None = None
    riding: bool = False
    """A person moving with an e-scooter: a rider, not a pedestrian."""
    with_scooter_since: float | None = None
    apart_since: float | None = None
    fast_since: float | None = None
    """A person taken as riding an e-scooter from their speed (``riding_speed_kmh``)."""


@dataclass(kw_only=True)
class _Pending:
    offence: str
    t: float
    track_id: int
    key: str | None
    measured: dict[str, Any]
    path: list[tuple[float, float]]
    box: Box
    occurred: datetime
    full: Image | None


class _Shifted:
    """A signal's timeline on the video's clock."""

    def __init__(self, board: SignalBoard, signal: str, offset: float) -> None:
        self._timeline = board.timeline(signal)
        self._offset = offset

    def red_for(self, t: float) -> float | None:
        return self._timeline.red_for(t + self._offset)


class TrafficStage:
    """Runs one camera's traffic rules; called from its worker thread."""

    def __init__(
        self,
        *,
        camera_id: str,
        config: CameraTrafficConfig,
        signals: SignalBoard,
        files: FaceFiles,
        device: WarningDevice | None = None,
        fps: float = 10.0,
        frames: RecentFrames | None = None,
    ) -> None:
        """``frames``: the camera's own buffer of recent frames (at least
        :func:`frames_kept` long), filled by its worker before each frame is processed, so a
        frame is encoded once for clips and evidence alike; without it the stage keeps its own."""
        self.camera_id = camera_id
        self.config = config
        self._signals = signals
        self._files = files
        self._device = device
        self._fps = fps
        self._calibration: Calibration = config.calibrated()
        self._tracks: dict[int, _Track] = {}
        self._pending: list[_Pending] = []
        # A track ends seconds after its vehicle was last seen (the tracker's patience): the
        # frames around its last sighting must still be here then.
        self._own_frames = frames is None
        self._recent = frames if frames is not None else RecentFrames(seconds=frames_kept(config))
        self._offset = 0.0
        self._base: float | None = None
        self._last_pts = -math.inf
        """The wall clock minus the video's clock, as of the latest frame."""
        self._frame_tolerance = max(2.5 / fps, 0.5)
        """How far from an evidence moment a kept frame may be (a busy server drops frames)."""
        # The rules' shapes on the road, placed once (validated with the settings).
        self._stop_lines = {
            line.name: StopLine(a=self._ground(line.a), b=self._ground(line.b))
            for line in config.stop_lines
        }
        self._crosswalks = {c.id: self._polygon(c.polygon) for c in config.crosswalks}
        self._sidewalks = {s.name: self._polygon(s.polygon) for s in config.sidewalks}
        self._size: tuple[int, int] | None = None
        self._wheels: list[Box] = []
        """This frame's bicycles and motorcycles (``wheel_classes``)."""
        self._read_phases: dict[str, str] = {}
        self._finished: list[tuple[str, Interval, str]] = []
        """Crosswalk intervals of ended tracks: (crosswalk, interval, kind), for near misses."""
        self._switches = {
            c.id: WarningSwitch(c.id, self._layout(c.id), hold_s=c.hold_s)
            for c in config.crosswalks
            if c.warn
        }
        self.activations: list[Activation] = []
        self.violations = 0
        self.vehicles = 0
        """Vehicles tracked on the road for three frames or more (ended tracks)."""
        self.speeds: list[SpeedEstimate] = []
        """Every vehicle timed (long and straight enough), violating or not: the camera's
        speed distribution."""

    # ----------------------------------------------------------------- geometry
    def _ground(self, point: tuple[float, float]) -> tuple[float, float]:
        return self._calibration.to_ground(to_units(point))

    def _polygon(self, polygon: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
        return tuple(self._ground(p) for p in polygon)

    def _layout(self, crossing_id: str) -> CrossingLayout:
        crosswalk = next(c for c in self.config.crosswalks if c.id == crossing_id)
        return CrossingLayout(
            crosswalk=self._polygon(crosswalk.polygon),
            waiting_areas=tuple(self._polygon(a) for a in crosswalk.waiting_areas),
        )

    def _kind(self, class_name: str) -> str | None:
        config = self.config
        if class_name in config.scooter_classes:
            return "scooter"
        if class_name in config.vehicle_classes:
            return "vehicle"
        if class_name in config.pedestrian_classes:
            return "pedestrian"
        return None

    # ----------------------------------------------------------------- per frame
    def process(
        self,
        image: Image,
        *,
        pts_s: float,
        occurred: datetime,
        users: Sequence[RoadUser],
        ended: Sequence[int] = (),
        track_key: Callable[[int], str] | None = None,
        full: Callable[[], Image] | None = None,
        captured: float | None = None,
    ) -> list[Event]:
        """What this frame decided: violations whose evidence is complete, crossing counts
        and warning switches. ``captured`` is ``time.perf_counter()`` when the frame was
        taken (for the warning latency; default now)."""
        captured = time.perf_counter() if captured is None else captured
        height, width = image.shape[:2]
        self._size = (width, height)
        # One clock for the whole run: the frame's video time, anchored at the first frame's
        # wall time. (Taking each frame's own wall time would stretch or squeeze the run's
        # time with the machine's load — a file read faster than real time, or a busy
        # machine — and red-light durations with it.) A source that starts over re-anchors.
        if self._base is None or pts_s < self._last_pts:
            self._base = occurred.timestamp() - pts_s
        self._last_pts = pts_s
        offset = self._offset = self._base
        messages: list[Event] = []
        try:
            self._read_signals(image, datetime.fromtimestamp(pts_s + offset, UTC))
            if self._own_frames:  # a shared buffer is filled by the camera's worker
                self._recent.add(pts_s, image)
            wheels = self.config.wheel_classes
            self._wheels = [u.box for u in users if u.class_name in wheels]
            for user in users:
                self._place(user, pts_s, width, height, track_key)
            self._mark_riders(pts_s)
            messages.extend(self._crossings(pts_s, occurred, captured))
            due = self._online_rules(pts_s, offset)
            for offence, track_id, t, measured in due:
                self._queue(offence, track_id, t, measured, offset, full)
        finally:
            # Ended tracks always leave, even when a rule failed on this frame.
            for track_id in ended:
                messages.extend(self._ended(track_id, pts_s, offset, full))
        messages.extend(self._release(pts_s))
        return messages

    def finish(self) -> list[Event]:
        """The end of the source: judge the remaining tracks, release pending evidence."""
        messages: list[Event] = []
        last = max((t.positions[-1].t for t in self._tracks.values() if t.positions), default=0.0)
        for track_id in list(self._tracks):
            messages.extend(self._ended(track_id, last, self._offset, None))
        messages.extend(self._release(math.inf))
        return messages

    def _read_signals(self, image: Image, occurred: datetime) -> None:
        height, width = image.shape[:2]
        for region in self.config.signal_regions:
            x1, y1, x2, y2 = region.box
            crop = image[int(y1 * height) : int(y2 * height), int(x1 * width) : int(x2 * width)]
            phase = read_phase(crop)
            if phase is None or self._read_phases.get(region.signal) == phase:
                continue
            try:
                self._signals.report(
                    signal_id=region.signal, phase=phase, at=occurred, source="camera"
                )
                self._read_phases[region.signal] = phase
            except InvalidInputError as exc:
                log.debug("camera %s: signal %s: %s", self.camera_id, region.signal, exc)

    def _place(
        self,
        user: RoadUser,
        pts_s: float,
        width: int,
        height: int,
        track_key: Callable[[int], str] | None,
    ) -> None:
        kind = self._kind(user.class_name)
        if kind is None:
            return
        x1, _, x2, y2 = user.box
        if y2 >= height - 2:
            return  # cut by the frame's bottom edge: its road contact point is not in view
        anchor = ((x1 + x2) / 2 / width, min(1.0, y2 / height))
        try:
            ground = self._ground(anchor)
        except InvalidInputError:
            return  # above the road's horizon: not on the road
        track = self._tracks.get(user.track_id)
        if track is None:
            track = self._tracks[user.track_id] = _Track(kind=kind)
            track.key = track_key(user.track_id) if track_key else None
        if track.positions and pts_s <= track.positions[-1].t:
            return
        track.positions.append(TrackPosition(t=pts_s, at=ground))
        track.boxes.append((pts_s, user.box))
        if len(track.positions) > KEEP_POSITIONS:
            del track.positions[:-KEEP_POSITIONS], track.boxes[:-KEEP_POSITIONS]

    def _mark_riders(self, pts_s: float) -> None:
        """A person moving inside an e-scooter's box for :data:`RIDING_S` rides it; one who
        has been clear of every scooter for as long walks again."""
        scooters = [
            t.boxes[-1][1]
            for t in self._tracks.values()
            if t.kind == "scooter" and t.boxes and t.boxes[-1][0] == pts_s
        ]
        for track in self._tracks.values():
            if track.kind != "pedestrian" or not track.boxes or track.boxes[-1][0] != pts_s:
                continue
            box = track.boxes[-1][1]
            if any(_inside(box, s) for s in scooters):
                track.apart_since = None
                if track.with_scooter_since is None:
                    track.with_scooter_since = pts_s
                if pts_s - track.with_scooter_since >= RIDING_S:
                    track.riding = True
            else:
                track.with_scooter_since = None
                if track.apart_since is None:
                    track.apart_since = pts_s
                if track.riding and pts_s - track.apart_since >= RIDING_S:
                    track.riding = False

    def _recent_positions(self, track: _Track, now: float) -> list[TrackPosition]:
        since = now - HISTORY_S
        return [p for p in track.positions[-200:] if p.t >= since]

    # ----------------------------------------------------------------- crossings
    def _crossings(self, pts_s: float, occurred: datetime, captured: float) -> list[Event]:
        messages: list[Event] = []
        for crosswalk in self.config.crosswalks:
            polygon = self._crosswalks[crosswalk.id]
            walkers = []
            for track_id, track in self._tracks.items():
                if not track.positions or track.positions[-1].t != pts_s:
                    continue
                here = track.positions[-1].at
                if track.riding or track.fast_since is not None:
                    continue
                if track.kind == "pedestrian":
                    walkers.append(here)
                if point_in_polygon(here, polygon):
                    span = track.on_crosswalk.get(crosswalk.id)
                    if span is None:
                        track.on_crosswalk[crosswalk.id] = [pts_s, pts_s]
                        messages.append(
                            self._activity(crosswalk.id, track.kind, occurred, None, track_id)
                        )
                    else:
                        span[1] = pts_s
            switch = self._switches.get(crosswalk.id)
            if switch is None:
                continue
            command = switch.update(t=pts_s, pedestrians=walkers)
            if command is None:
                continue
            latency = None
            if self._device is not None:
                try:
                    activation = self._device.send(command, frame_captured=captured)
                    self.activations.append(activation)
                    latency = activation.latency_ms
                except Exception as exc:  # the device's failure must not stop the camera
                    log.warning("crossing %s: warning not sent: %s", crosswalk.id, exc)
            kind = "warning_on" if command.on else "warning_off"
            messages.append(self._activity(crosswalk.id, kind, occurred, latency, None))
        return messages

    def _activity(
        self, crossing: str, kind: str, at: datetime, value: float | None, track_id: int | None
    ) -> CrossingActivity:
        if kind == "scooter":
            kind = "vehicle"
        return CrossingActivity(
            camera_id=self.camera_id, crossing_id=crossing, activity=kind, at=at, value=value
        )

    # ----------------------------------------------------------------- rules
    def _online_rules(
        self, pts_s: float, offset: float
    ) -> list[tuple[str, int, float, dict[str, Any]]]:
        config = self.config
        found: list[tuple[str, int, float, dict[str, Any]]] = []
        walkers = [
            t
            for t in self._tracks.values()
            if t.kind == "pedestrian" and t.positions and not t.riding and t.fast_since is None
        ]
        pedestrians = [self._recent_positions(t, pts_s) for t in walkers]
        for track_id, track in self._tracks.items():
            if not track.positions or track.positions[-1].t != pts_s:
                continue
            recent = self._recent_positions(track, pts_s)
            if track.kind == "vehicle" and len(recent) >= 2:
                for line in config.stop_lines:
                    rule = f"red_light:{line.name}"
                    if rule in track.fired:
                        continue
                    stop = self._stop_lines[line.name]
                    crossing = ran_red_light(
                        recent[-6:],
                        stop,
                        _Shifted(self._signals, line.signal, offset),
                        grace_s=line.grace_s,
                        front_offset_m=line.front_offset_m,
                    )
                    if crossing is not None and crossing.t > recent[-2].t - 1e-9:
                        track.fired.add(rule)
                        measured = {
                            "red_for_s": round(crossing.red_for_s, 2),
                            "stop_line": line.name,
                            "signal": line.signal,
                        }
                        found.append(("red_light", track_id, crossing.t, measured))
                for crosswalk in config.crosswalks:
                    rule = f"yield:{crosswalk.id}"
                    if not crosswalk.yield_rule or rule in track.fired or not pedestrians:
                        continue
                    polygon = self._crosswalks[crosswalk.id]
                    if not point_in_polygon(recent[-1].at, polygon):
                        continue
                    with_priority = (
                        pedestrians
                        if crosswalk.signal is None
                        else self._with_priority(walkers, crosswalk, pts_s, offset)
                    )
                    if not with_priority:
                        continue
                    failure = failed_to_yield(
                        recent[-1:], with_priority, polygon, kerb_m=crosswalk.kerb_m
                    )
                    if failure is not None:
                        track.fired.add(rule)
                        measured = {
                            "crosswalk": crosswalk.id,
                            "gap_m": round(failure.gap_m, 2),
                            "pedestrian_on_crossing": failure.pedestrian_on_crossing,
                        }
                        if crosswalk.signal is not None:
                            measured["signal"] = crosswalk.signal
                        found.append(
                            ("failing_to_yield_to_pedestrian", track_id, failure.t, measured)
                        )
            elif track.kind == "scooter":
                found.extend(self._scooter_rules(track_id, track, recent, pts_s))
            elif (
                track.kind == "pedestrian"
                and config.riding_speed_kmh is not None
                and self._fast(track, recent, pts_s, config.riding_speed_kmh)
            ):
                for offence, tid, t, measured in self._scooter_rules(
                    track_id, track, recent, pts_s, passengers=False
                ):
                    measured["inferred"] = "a person at e-scooter speed"
                    found.append((offence, tid, t, measured))
        return found

    def _fast(
        self, track: _Track, recent: list[TrackPosition], pts_s: float, limit_kmh: float
    ) -> bool:
        """Whether this person rides an e-scooter by their speed: faster than ``limit_kmh``
        over the last second, on no bicycle or motorcycle. Once taken as a rider, a person
        stays one while tracked."""
        if track.fast_since is not None:
            return True
        window = [p for p in recent if p.t >= pts_s - 1.0]
        if len(window) < 3 or window[-1].t - window[0].t < 0.8:
            return False
        if _speed_kmh(window) <= limit_kmh:
            return False
        box = track.boxes[-1][1]
        if any(_overlap(box, wheels) > 0.3 for wheels in self._wheels):
            return False
        track.fast_since = pts_s
        return True

    def _with_priority(
        self, walkers: Sequence[_Track], crosswalk: CrosswalkConfig, pts_s: float, offset: float
    ) -> list[list[TrackPosition]]:
        """At a regulated crossing, the pedestrians with priority: those who stepped on while
        the vehicles' signal showed red (their green), and those about to step on while it
        does. Someone crossing against their red has none; a phase not known gives none."""
        assert crosswalk.signal is not None
        lights = _Shifted(self._signals, crosswalk.signal, offset)
        kept = []
        for walker in walkers:
            span = walker.on_crosswalk.get(crosswalk.id)
            stepped_on = span[0] if span is not None else pts_s
            if lights.red_for(stepped_on) is not None:
                kept.append(self._recent_positions(walker, pts_s))
        return kept

    def _scooter_rules(
        self,
        track_id: int,
        track: _Track,
        recent: list[TrackPosition],
        pts_s: float,
        *,
        passengers: bool = True,
    ) -> list[tuple[str, int, float, dict[str, Any]]]:
        config = self.config
        found: list[tuple[str, int, float, dict[str, Any]]] = []
        window = [p for p in recent if p.t >= pts_s - 1.0]
        if len(window) >= 3 and window[-1].t - window[0].t >= 0.5:
            speed = _speed_kmh(window)
            on_sidewalk = next(
                (
                    s.name
                    for s in config.sidewalks
                    if point_in_polygon(window[-1].at, self._sidewalks[s.name])
                ),
                None,
            )
            if speed > config.scooter_limit_kmh and "scooter_speeding" not in track.fired:
                track.fired.add("scooter_speeding")
                measured: dict[str, Any] = {
                    "speed_kmh": round(speed, 1),
                    "limit_kmh": config.scooter_limit_kmh,
                }
                found.append(("scooter_speeding", track_id, pts_s, measured))
            elif (
                on_sidewalk is not None
                and speed > config.sidewalk_limit_kmh
                and "scooter_sidewalk" not in track.fired
            ):
                track.fired.add("scooter_sidewalk")
                measured = {
                    "speed_kmh": round(speed, 1),
                    "limit_kmh": config.sidewalk_limit_kmh,
                    "sidewalk": on_sidewalk,
                }
                found.append(("scooter_sidewalk_speeding", track_id, pts_s, measured))
        if not passengers:
            return found
        # A passenger: besides the rider, another person inside the scooter's box.
        _, box = track.boxes[-1]
        riders = [
            t
            for t in self._tracks.values()
            if t.kind == "pedestrian"
            and t.boxes
            and t.boxes[-1][0] == pts_s
            and _inside(t.boxes[-1][1], box)
        ]
        if len(riders) >= 2:
            track.rider_since = track.rider_since if track.rider_since is not None else pts_s
            if pts_s - track.rider_since >= RIDER_S and "scooter_passenger" not in track.fired:
                track.fired.add("scooter_passenger")
                found.append(("scooter_passenger", track_id, pts_s, {"riders": len(riders)}))
        else:
            track.rider_since = None
        return found

    def _ended(
        self, track_id: int, pts_s: float, offset: float, full: Callable[[], Image] | None
    ) -> list[Event]:
        track = self._tracks.pop(track_id, None)
        if track is None:
            return []
        messages: list[Event] = []
        for crossing, (start, end) in track.on_crosswalk.items():
            kind = "pedestrian" if track.kind == "pedestrian" else "vehicle"
            self._finished.append((crossing, Interval(track=track_id, start=start, end=end), kind))
        messages.extend(self._near_misses(track_id, track, offset))
        if track.kind != "vehicle" or len(track.positions) < 3:
            return messages
        self.vehicles += 1
        duration = track.positions[-1].t - track.positions[0].t
        if duration < self.config.min_track_s:
            return messages
        try:
            estimate = ground_speed([(p.t, p.at) for p in track.positions])
        except InvalidInputError:
            return messages
        if estimate.residual_m > self.config.max_residual_m:
            return messages
        self.speeds.append(estimate)
        limit = self.config.speed_limit_kmh
        if limit is not None:
            self._spot_speed(track_id, track, estimate, limit, offset)
        return messages

    def _spot_speed(
        self, track_id: int, track: _Track, estimate: SpeedEstimate, limit: float, offset: float
    ) -> None:
        if estimate.kmh <= limit + self.config.tolerance_kmh:
            return
        # The evidence shows the vehicle where it was last seen (still in the frames kept).
        moment = track.positions[-1].t
        measured = {
            "speed_kmh": round(estimate.kmh, 1),
            "limit_kmh": limit,
            "residual_m": round(estimate.residual_m, 3),
            "track_s": round(track.positions[-1].t - track.positions[0].t, 2),
        }
        self._tracks[track_id] = track  # still needed for its evidence
        self._queue("speeding", track_id, moment, measured, offset, None)
        del self._tracks[track_id]

    def _near_misses(self, track_id: int, track: _Track, offset: float) -> list[Event]:
        from kupol.traffic.crosswalk import near_misses

        messages: list[Event] = []
        for crosswalk in self.config.crosswalks:
            span = track.on_crosswalk.get(crosswalk.id)
            if span is None:
                continue
            mine = Interval(track=track_id, start=span[0], end=span[1])
            others = [
                interval
                for crossing, interval, kind in self._finished
                if crossing == crosswalk.id
                and interval.track != track_id
                and (kind == "pedestrian") != (track.kind == "pedestrian")
            ]
            if track.kind == "pedestrian":
                pairs = near_misses(others, [mine], gap_s=crosswalk.near_miss_gap_s)
            else:
                pairs = near_misses([mine], others, gap_s=crosswalk.near_miss_gap_s)
            for pair in pairs:
                at = _wall(pair.t, offset)
                messages.append(self._activity(crosswalk.id, "near_miss", at, pair.gap_s, None))
        horizon = max((i.end for _, i, _ in self._finished), default=0.0) - 60.0
        self._finished = [f for f in self._finished if f[1].end >= horizon]
        return messages

    # ----------------------------------------------------------------- evidence
    def _queue(
        self,
        offence: str,
        track_id: int,
        t: float,
        measured: dict[str, Any],
        offset: float,
        full: Callable[[], Image] | None,
    ) -> None:
        track = self._tracks[track_id]
        box = min(track.boxes, key=lambda b: abs(b[0] - t))[1]
        path = [((b[0] + b[2]) / 2, b[3]) for _, b in track.boxes[-300:]]
        sharp = None
        if full is not None:
            try:
                sharp = full()
            except Exception:  # evidence without the sharp crop beats none
                sharp = None
        self._pending.append(
            _Pending(
                offence=offence,
                t=t,
                track_id=track_id,
                key=track.key,
                measured=measured,
                path=path,
                box=box,
                occurred=_wall(t, offset),
                full=sharp,
            )
        )

    def _release(self, pts_s: float) -> list[Event]:
        after = self.config.evidence_after_s
        ready = [p for p in self._pending if pts_s >= p.t + after]
        self._pending = [p for p in self._pending if pts_s < p.t + after]
        messages: list[Event] = []
        for pending in ready:
            try:
                evidence = self._evidence(pending)
            except Exception:  # a violation without files is still reviewed
                log.exception("camera %s: evidence not written", self.camera_id)
                evidence = ()
            self.violations += 1
            messages.append(
                ViolationObserved(
                    camera_id=self.camera_id,
                    offence=pending.offence,
                    occurred_at=pending.occurred,
                    track=pending.key,
                    measured=pending.measured,
                    evidence=evidence,
                )
            )
        return messages

    def _evidence(self, pending: _Pending) -> tuple[EvidenceRef, ...]:
        config = self.config
        folder = f"{self.camera_id}/traffic/{pending.occurred:%Y/%m/%d}"
        refs: list[EvidenceRef] = []
        moments = (
            ("frame_before", pending.t - config.evidence_before_s),
            ("frame_at", pending.t),
            ("frame_after", pending.t + config.evidence_after_s),
        )
        for label, t in moments:
            found = self._recent.at(t)
            if found is None or abs(found[0] - t) > self._frame_tolerance:
                continue  # no frame of that moment is kept: none rather than a wrong one
            image = found[1].copy()
            if label == "frame_at":
                self._draw(image, pending)
            refs.append(self._save(_jpeg(image), folder, label, "image/jpeg", ".jpg"))
        crop = self._vehicle_crop(pending)
        if crop is not None:
            refs.append(self._save(_jpeg(crop), folder, "vehicle", "image/jpeg", ".jpg"))
        if config.clip:
            frames: list[ClipFrame] = [
                f
                for f in self._recent.since(pending.t - config.evidence_before_s)
                if f.pts_s <= pending.t + config.evidence_after_s
            ]
            if frames:
                path = self._files.root / folder / f"{uuid.uuid4().hex}.webm"
                write_clip(frames, path, fps=self._fps)
                refs.append(self._ref(path, "clip", "video/webm"))
        return tuple(refs)

    def _draw(self, image: Image, pending: _Pending) -> None:
        height, width = image.shape[:2]
        scale_x = width / (self._size[0] if self._size else width)
        scale_y = height / (self._size[1] if self._size else height)
        for line in self.config.stop_lines:
            a = (int(line.a[0] * width), int(line.a[1] * height))
            b = (int(line.b[0] * width), int(line.b[1] * height))
            cv2.line(image, a, b, (0, 0, 255), 2)
        for crosswalk in self.config.crosswalks:
            pts = np.array([(x * width, y * height) for x, y in crosswalk.polygon], np.int32)
            cv2.polylines(image, [pts], True, (255, 255, 255), 2)
        path = np.array([(x * scale_x, y * scale_y) for x, y in pending.path], np.int32)
        if len(path) >= 2:
            cv2.polylines(image, [path], False, (0, 255, 255), 2)
        x1, y1, x2, y2 = pending.box
        cv2.rectangle(
            image,
            (int(x1 * scale_x), int(y1 * scale_y)),
            (int(x2 * scale_x), int(y2 * scale_y)),
            (0, 0, 255),
            2,
        )
        cv2.putText(
            image,
            pending.offence,
            (int(x1 * scale_x), max(12, int(y1 * scale_y) - 6)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 255),
            1,
        )

    def _vehicle_crop(self, pending: _Pending) -> Image | None:
        source = pending.full
        if source is None:
            found = self._recent.at(pending.t)
            near = found is not None and abs(found[0] - pending.t) <= self._frame_tolerance
            source = found[1] if found is not None and near else None
        if source is None or self._size is None:
            return None
        sx, sy = source.shape[1] / self._size[0], source.shape[0] / self._size[1]
        x1, y1, x2, y2 = pending.box
        crop = source[
            max(0, int(y1 * sy)) : min(source.shape[0], int(y2 * sy) + 1),
            max(0, int(x1 * sx)) : min(source.shape[1], int(x2 * sx) + 1),
        ]
        return crop if crop.size else None

    def _save(
        self, data: bytes, folder: str, kind: str, media_type: str, suffix: str
    ) -> EvidenceRef:
        stored = self._files.save(data, folder=folder, suffix=suffix)
        return EvidenceRef(kind=kind, uri=stored.uri, sha256=stored.sha256, media_type=media_type)

    def _ref(self, path: Any, kind: str, media_type: str) -> EvidenceRef:
        import hashlib

        data = path.read_bytes()
        return EvidenceRef(
            kind=kind,
            uri=str(path.relative_to(self._files.root)),
            sha256=hashlib.sha256(data).hexdigest(),
            media_type=media_type,
        )


def _speed_kmh(window: Sequence[TrackPosition]) -> float:
    try:
        return ground_speed([(p.t, p.at) for p in window]).kmh
    except InvalidInputError:
        return 0.0


def _inside(inner: Box, outer: Box) -> bool:
    """Whether ``inner``'s bottom centre lies within ``outer`` widened by a fifth."""
    x = (inner[0] + inner[2]) / 2
    y = inner[3]
    pad_x = (outer[2] - outer[0]) * 0.2
    pad_y = (outer[3] - outer[1]) * 0.2
    return outer[0] - pad_x <= x <= outer[2] + pad_x and outer[1] - pad_y <= y <= outer[3] + pad_y


def _overlap(person: Box, other: Box) -> float:
    """The share of ``person``'s box that ``other`` covers."""
    w = min(person[2], other[2]) - max(person[0], other[0])
    h = min(person[3], other[3]) - max(person[1], other[1])
    area = (person[2] - person[0]) * (person[3] - person[1])
    return 0.0 if w <= 0 or h <= 0 or area <= 0 else w * h / area


def _wall(t: float, offset: float) -> datetime:
    """The wall-clock time of the video's moment ``t``."""
    return datetime.fromtimestamp(t + offset, UTC)


def _jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise ValueError("the frame could not be encoded")
    return data.tobytes()
