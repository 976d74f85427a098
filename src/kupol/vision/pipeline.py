"""One camera's analysis: background → (gated) detector → tracker → zones → rules → events.

The pipeline is synchronous and owns no thread: the camera worker feeds it live frames and
``kupol analyze`` feeds it a file, so both run exactly the same logic.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.vision.abandoned import AbandonedObject, AbandonedObjectRule
from kupol.vision.background import BackgroundView, DualBackground
from kupol.vision.clips import RecentFrames
from kupol.vision.config import CameraAnalytics, MotionOnlyConfig
from kupol.vision.detections import (
    COCO_CLASSES,
    MOTION,
    PERSON,
    VEHICLES,
    Detections,
    class_name,
)
from kupol.vision.detectors.base import Detector
from kupol.vision.events import EvidenceFrame, VisionEvent, normalised
from kupol.vision.rules import CrowdRule, IntrusionRule, LoiteringRule, Situation
from kupol.vision.sources import Frame
from kupol.vision.tracking import ByteTracker, TrackEvent
from kupol.vision.zones import ZoneEvent, ZoneMonitor

OCCLUDERS = frozenset({PERSON, *VEHICLES})
"""What hides the scene behind it while it stands there."""


@dataclass(frozen=True, kw_only=True)
class FrameResult:
    """What one analysed frame gave."""

    frame: Frame
    tracked: Detections
    detector_ran: bool
    motion: float
    events: list[VisionEvent]
    track_events: list[TrackEvent]
    """Track starts, updates (about once a second per track) and ends on this frame."""
    seconds: float
    """Time spent analysing this frame."""


def motion_blobs(view: BackgroundView, *, min_area: float) -> Detections:
    """Moving regions as detections of class ``motion`` (the detector-less fallback)."""
    raw = view.motion_mask.astype(np.uint8)
    if not raw.any():
        return Detections.empty()
    mask = cv2.dilate(raw, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    total = mask.size
    boxes = [
        [x / view.scale, y / view.scale, (x + w) / view.scale, (y + h) / view.scale]
        for x, y, w, h, area in (stats[i] for i in range(1, count))
        if area / total >= min_area
    ]
    if not boxes:
        return Detections.empty()
    n = len(boxes)
    return Detections(
        xyxy=np.asarray(boxes, np.float32),
        confidence=np.full(n, 0.6, np.float32),
        class_id=np.full(n, MOTION, np.int32),
    )


class CameraPipeline:
    """Analyses one camera's frames.

    Args:
        config: the camera's analytics.
        detector: the object detector (``None`` for the motion-only fallback).
        track_events: report track starts and ends as events too.
    """

    def __init__(
        self, *, config: CameraAnalytics, detector: Detector | None, track_events: bool = False
    ) -> None:
        self.config = config
        self._detector = detector if not isinstance(config.detector, MotionOnlyConfig) else None
        self.names: Sequence[str] = (
            # A detector that names no classes uses COCO's ids.
            tuple(self._detector.names or COCO_CLASSES) if self._detector else COCO_CLASSES
        )
        """The detector's class names: what its class ids mean in events and on screen."""
        self._track_events = track_events
        self._background = DualBackground(
            fps=config.analysis_fps, static_after_s=min(8.0, config.abandoned.min_static_s * 0.8)
        )
        c = config.tracker
        self._tracker = ByteTracker(
            fps=config.analysis_fps,
            high_threshold=c.high_threshold,
            low_threshold=c.low_threshold,
            match_iou=c.match_iou,
            max_jump=c.max_jump,
            min_hits=c.min_hits,
            lost_seconds=c.lost_seconds,
        )
        # A frame a second for two minutes: the frame at an object's drop, for evidence.
        self._memory = RecentFrames(seconds=120.0, every_s=1.0)
        self._monitor: ZoneMonitor | None = None
        self._abandoned: AbandonedObjectRule | None = None
        self._intrusion = IntrusionRule(
            config=config.intrusion, zones=list(config.zones), names=self.names
        )
        self._loitering = LoiteringRule(
            config=config.loitering, zone_names=[z.name for z in config.zones], names=self.names
        )
        self._crowd = CrowdRule(config=config.crowd)
        self._needs_background = (
            self._detector is None or config.motion.enabled or config.abandoned.enabled
        )
        self._last_detection_s: float | None = None
        self._occupied: list[tuple[float, ...]] = []
        self._last_pts_s: float | None = None
        self._size = (0, 0)

    def _first_frame(self, frame: Frame) -> None:
        width, height = frame.size
        self._size = (width, height)
        if self.config.zones or self.config.lines:
            self._monitor = ZoneMonitor(
                zones=list(self.config.zones),
                lines=list(self.config.lines),
                width=width,
                height=height,
                names=self.names,
            )
        if self.config.abandoned.enabled:
            self._abandoned = AbandonedObjectRule(
                config=self.config.abandoned, width=width, height=height
            )

    def process(self, frame: Frame) -> FrameResult:
        """Analyse one frame."""
        started = time.perf_counter()
        if self._size == (0, 0):
            self._first_frame(frame)
        dt_s = None if self._last_pts_s is None else frame.pts_s - self._last_pts_s
        self._last_pts_s = frame.pts_s
        # The background model serves motion gating, the motion-only detector and abandoned
        # objects; a camera that uses none of them (an enforcement camera) does not pay for it.
        view = (
            self._background.update(frame.image, occupied=self._occupied, dt_s=dt_s)
            if self._needs_background
            else None
        )
        self._memory.add(frame.pts_s, frame.image)
        detections, ran = self._detect(frame, view)
        if view is not None and view.fresh and ran:
            self._background.mark_unknown(
                [tuple(b) for b in detections.of_classes(OCCLUDERS).xyxy], view.scale
            )
        if ran:
            tracked = self._tracker.update(detections, frame_index=frame.index, pts_s=frame.pts_s)
            self._last_detection_s = frame.pts_s
        elif ran is None:  # skipped by detect_every: the tracks move as predicted
            tracked = self._tracker.predict(frame_index=frame.index, pts_s=frame.pts_s)
        else:
            tracked = self._tracker.coast(frame_index=frame.index, pts_s=frame.pts_s)
        self._occupied = [tuple(float(v) for v in b) for b in tracked.of_classes(OCCLUDERS).xyxy]
        events: list[VisionEvent] = []
        zone_events: list[ZoneEvent] = []
        if self._monitor is not None:
            zone_events = self._monitor.update(tracked, pts_s=frame.pts_s, frame_index=frame.index)
        track_events = self._tracker.drain_events()
        for track_event in track_events:
            if track_event.kind == "end":
                if self._monitor is not None:
                    zone_events += self._monitor.track_ended(
                        track_event.track_id, track_event.last_pts_s
                    )
                self._loitering.track_ended(track_event.track_id)
            if self._track_events and track_event.kind != "update":
                events.append(self._track_vision_event(track_event, frame.source_index))
        if self.config.zone_events:
            events.extend(
                self._zone_event(
                    e, pts_s=frame.pts_s, frame_index=frame.source_index, tracked=tracked
                )
                for e in zone_events
            )
        situations = [
            *self._intrusion.trigger(zone_events),
            *self._loitering.trigger(pts_s=frame.pts_s, tracked=tracked, monitor=self._monitor),
            *self._crowd.trigger(pts_s=frame.pts_s, tracked=tracked, monitor=self._monitor),
        ]
        events.extend(self._situation_event(s, frame, tracked) for s in situations)
        if self._abandoned is not None and view is not None:
            found = self._abandoned.update(
                pts_s=frame.pts_s,
                blobs=view.static_blobs,
                scale=view.scale,
                tracked=tracked,
                detected=detections if ran else None,
            )
            events.extend(self._abandoned_event(a, frame) for a in found)
        return FrameResult(
            frame=frame,
            tracked=tracked,
            detector_ran=bool(ran),
            motion=view.motion if view is not None else 0.0,
            events=events,
            track_events=track_events,
            seconds=time.perf_counter() - started,
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """People and things in each zone now, and crossings of each line so far (this run).

        Example:
            >>> from kupol.vision.config import CameraAnalytics
            >>> CameraPipeline(config=CameraAnalytics(), detector=None).counts()
            {'zones': {}, 'lines': {}}
        """
        if self._monitor is None:
            return {"zones": {}, "lines": {}}
        return {
            "zones": {z.name: self._monitor.count(z.name) for z in self.config.zones},
            "lines": {
                line.name: sum(self._monitor.crossings(line.name).values())
                for line in self.config.lines
            },
        }

    def finish(self, pts_s: float, frame_index: int) -> list[VisionEvent]:
        """End every track (the end of a file or a stopped camera)."""
        events: list[VisionEvent] = []
        for track_event in self._tracker.finish(pts_s):
            if self._monitor is not None and self.config.zone_events:
                events.extend(
                    self._zone_event(
                        exit_event,
                        pts_s=pts_s,
                        frame_index=frame_index,
                        tracked=Detections.empty(),
                    )
                    for exit_event in self._monitor.track_ended(
                        track_event.track_id, track_event.last_pts_s
                    )
                )
            if self._track_events and track_event.kind == "end":
                events.append(self._track_vision_event(track_event, frame_index))
        return events

    def _detect(self, frame: Frame, view: BackgroundView | None) -> tuple[Detections, bool | None]:
        """The frame's detections and whether the detector ran: ``False`` when nothing moved
        (the tracks stay), ``None`` when it is not this frame's turn (``detect_every``)."""
        if self._detector is None:
            assert view is not None  # the motion-only fallback always keeps the background
            min_area = (
                self.config.detector.min_area
                if isinstance(self.config.detector, MotionOnlyConfig)
                else 0.002
            )
            return motion_blobs(view, min_area=min_area), True
        gate = self.config.motion
        if (
            view is not None
            and gate.enabled
            and self._last_detection_s is not None
            and not view.fresh
        ):
            since = frame.pts_s - self._last_detection_s
            refresh = gate.refresh_s if self._tracker.tracks() else gate.idle_refresh_s
            if view.motion < gate.min_motion and since < refresh:
                return Detections.empty(), False
        every = self.config.detect_every
        if every > 1 and frame.index % every and self._tracker.tracks():
            return Detections.empty(), None
        timed = getattr(self._detector, "detect_at", None)
        if callable(timed):  # a detector that needs the frame's time (the simulation's)
            found: Detections = timed(frame.image, frame.pts_s)
            return found, True
        return self._detector.detect(frame.image), True

    def _track_vision_event(self, event: TrackEvent, frame_index: int) -> VisionEvent:
        width, height = self._size
        return VisionEvent(
            type=f"track_{event.kind}",
            pts_s=event.pts_s,
            frame_index=frame_index,
            object_class=class_name(event.class_id, self.names),
            track_id=event.track_id,
            confidence=event.confidence,
            box=normalised(event.box, width, height),
        )

    def _box_of(self, tracked: Detections, track_id: int | None) -> NDArray[np.float32] | None:
        if track_id is None:
            return None
        rows = np.flatnonzero(tracked.tracker_id == track_id)
        return tracked.xyxy[rows[0]] if len(rows) else None

    def _zone_event(
        self, event: ZoneEvent, *, pts_s: float, frame_index: int, tracked: Detections
    ) -> VisionEvent:
        box = self._box_of(tracked, event.track_id)
        details: dict[str, float | str] = {}
        if event.direction is not None:
            details["direction"] = event.direction
        if event.dwell_s is not None:
            details["dwell_s"] = round(event.dwell_s, 2)
        return VisionEvent(
            type=event.kind,
            pts_s=pts_s,
            frame_index=frame_index,
            zone=event.zone,
            object_class=class_name(event.class_id, self.names),
            track_id=event.track_id,
            confidence=self._confidence_of(tracked, event.track_id),
            box=normalised(box, *self._size) if box is not None else None,
            details=details,
        )

    @staticmethod
    def _confidence_of(tracked: Detections, track_id: int | None) -> float:
        if track_id is None:
            return 1.0
        rows = np.flatnonzero(tracked.tracker_id == track_id)
        return float(tracked.confidence[rows[0]]) if len(rows) else 1.0

    def _situation_event(
        self, situation: Situation, frame: Frame, tracked: Detections
    ) -> VisionEvent:
        box = self._box_of(tracked, situation.track_id)
        boxes = (
            tuple(_box(b) for b in tracked.xyxy)
            if situation.type == "crowd"
            else ((_box(box),) if box is not None else ())
        )
        return VisionEvent(
            type=situation.type,
            pts_s=frame.pts_s,
            frame_index=frame.source_index,
            zone=situation.zone,
            object_class=(
                class_name(situation.class_id, self.names)
                if situation.class_id is not None
                else None
            ),
            track_id=situation.track_id,
            confidence=self._confidence_of(tracked, situation.track_id),
            box=normalised(box, *self._size) if box is not None else None,
            details=dict(situation.details),
            evidence=(
                EvidenceFrame(
                    label="alert",
                    pts_s=frame.pts_s,
                    image=frame.image.copy(),
                    boxes=boxes,
                ),
            ),
        )

    def _abandoned_event(self, found: AbandonedObject, frame: Frame) -> VisionEvent:
        path = tuple((x, y) for _, x, y in found.owner_path)
        evidence = [
            EvidenceFrame(
                label="alert", pts_s=frame.pts_s, image=frame.image.copy(), boxes=(found.box,)
            )
        ]
        drop = self._memory.at(found.appeared_s)
        if drop is not None:
            evidence.insert(
                0,
                EvidenceFrame(
                    label="drop", pts_s=drop[0], image=drop[1], boxes=(found.box,), path=path
                ),
            )
        return VisionEvent(
            type="abandoned_object",
            pts_s=frame.pts_s,
            frame_index=frame.source_index,
            object_class=found.object_class,
            track_id=None,
            confidence=found.confidence,
            box=normalised(found.box, *self._size),
            details={
                "appeared_s": found.appeared_s,
                "static_s": found.static_s,
                "owner_track_id": found.owner_track_id,
                "owner_left_s": found.owner_left_s,
                "owner_path": [
                    [t, round(x / self._size[0], 4), round(y / self._size[1], 4)]
                    for t, x, y in found.owner_path
                ],
            },
            evidence=tuple(evidence),
        )


def _box(row: NDArray[np.float32]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in row)
    return (x1, y1, x2, y2)
