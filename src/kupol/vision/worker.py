"""One camera's thread: read frames, run the pipeline, publish events and tracks, keep health.

A source that fails (missing file, dropped stream) is reopened with back-off and reported in
the camera's health; the other cameras keep running. Events and tracks are published with the
bus's at-least-once contract: retried until the bus accepts them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kupol.core.errors import SourceError
from kupol.core.messages import Event, utcnow, uuid7
from kupol.events.messages import CameraEventObserved, EvidenceRef
from kupol.faces.config import CameraFacesConfig
from kupol.plates.config import CameraPlatesConfig
from kupol.vision.annotate import annotated, encode_jpeg, evidence_image
from kupol.vision.clips import PendingClip, RecentFrames, write_clip
from kupol.vision.config import CameraAnalytics
from kupol.vision.detections import COCO_CLASSES, Detections, class_name
from kupol.vision.detectors.base import Detector
from kupol.vision.events import VisionEvent
from kupol.vision.pipeline import CameraPipeline, FrameResult
from kupol.vision.sources import Frame, is_stream, read_frames
from kupol.vision.tracks import TrackPublisher

if TYPE_CHECKING:
    from kupol.faces.live import FaceStage
    from kupol.plates.live import PlateStage
    from kupol.traffic.config import CameraTrafficConfig
    from kupol.traffic.live import TrafficStage

FaceStageFactory = Callable[[str, CameraFacesConfig], "FaceStage"]
"""Makes a camera's face stage (camera id, its face settings)."""
PlateStageFactory = Callable[[str, CameraPlatesConfig], "PlateStage"]
"""Makes a camera's plate stage (camera id, its plate settings)."""
TrafficStageFactory = Callable[
    [str, "CameraTrafficConfig", float, RecentFrames | None], "TrafficStage"
]
"""Makes a camera's traffic stage (camera id, its traffic settings, analysed frames/s, the
camera's shared buffer of recent frames)."""

log = logging.getLogger(__name__)
Publish = Callable[[list[Event]], None]


@dataclass(kw_only=True)
class CameraHealth:
    """What the console shows about a camera's pipeline."""

    camera_id: str
    state: str = "starting"  # starting | running | retrying | finished | stopped
    fps_in: float = 0.0
    """Frames decoded per second."""
    fps_out: float = 0.0
    """Frames analysed per second."""
    lag_s: float = 0.0
    """How far behind real time the analysis is (live sources)."""
    dropped: int = 0
    """Frames that should have been analysed but were not (the server fell behind)."""
    frames: int = 0
    detector_runs: int = 0
    events: int = 0
    tracks: int = 0
    faces: int = 0
    """Usable faces reported (cameras with face matching on)."""
    plates: int = 0
    """Vehicle plates reported (cameras with plate reading on)."""
    last_error: str | None = None
    restarts: int = 0
    analysis_s: float = 0.0
    """Seconds spent analysing frames (detector, tracker, rules), summed: with ``frames``,
    the mean time a frame takes (``/metrics``)."""
    started_at: datetime = field(default_factory=lambda: utcnow())


@dataclass(kw_only=True)
class _RunCounters:
    started: float
    first_pts: float
    dropped_before: int
    frames: int = 0


@dataclass(kw_only=True)
class LiveView:
    """The latest analysed frame and what was seen on it."""

    image: NDArray[np.uint8]
    tracked: Detections
    pts_s: float
    at: datetime


class CameraWorker:
    """Runs one camera's pipeline in its own thread.

    Args:
        camera_id: the registered camera.
        source: file, folder or stream URL.
        analytics: the camera's analytics.
        detector: the shared detector instance (``None``: motion only).
        publish: sends messages to the bus, blocking until accepted (retried by the worker).
        evidence_dir: where snapshots and clips are written.
        loop_files: start a file again at its end (recorded or demo cameras).
        realtime: pace files as a live camera would.
        faces: makes the camera's face stage when its analytics switch faces on.
        plates: makes the camera's plate stage when its analytics switch plates on.
        traffic: makes the camera's traffic stage when its analytics switch traffic on.
    """

    def __init__(
        self,
        *,
        camera_id: str,
        source: str,
        analytics: CameraAnalytics,
        detector: Detector | None,
        publish: Publish,
        evidence_dir: Path,
        loop_files: bool = True,
        realtime: bool = True,
        faces: FaceStageFactory | None = None,
        plates: PlateStageFactory | None = None,
        traffic: TrafficStageFactory | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._traffic = traffic
        self._faces = faces
        self._plates = plates
        self.source = source
        self.analytics = analytics
        self.health = CameraHealth(camera_id=camera_id)
        self._down = False
        """Whether the stream is out (``stream_lost`` sent, ``stream_restored`` not yet)."""
        self._detector = detector
        self._publish_now = publish
        self._evidence_dir = evidence_dir
        self._loop_files = loop_files and not is_stream(source)
        self._realtime = realtime
        self._stop = threading.Event()
        self._view_lock = threading.Lock()
        self._view: LiveView | None = None
        self._counts: dict[str, dict[str, int]] = {"zones": {}, "lines": {}}
        self.names: Sequence[str] = (
            tuple(detector.names or COCO_CLASSES) if detector else COCO_CLASSES
        )
        """The detector's class names."""
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera_id}", daemon=True)

    def start(self) -> None:
        """Start in the background."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop and wait for it."""
        self._stop.set()
        self._thread.join(timeout)
        if self.health.state != "finished":
            self.health.state = "stopped"

    @property
    def alive(self) -> bool:
        """Whether the thread is still running."""
        return self._thread.is_alive()

    def live_jpeg(self, *, annotate: bool = True) -> bytes | None:
        """The latest analysed frame as JPEG, with boxes, ids and zones drawn."""
        with self._view_lock:
            view = self._view
        if view is None:
            return None
        image = view.image
        if annotate:
            image = annotated(
                image,
                view.tracked,
                zones=self.analytics.zones,
                lines=self.analytics.lines,
                names=self.names,
            )
        return encode_jpeg(image)

    def live_counts(self) -> dict[str, dict[str, int]]:
        """Objects in each zone now and line crossings since the pipeline (re)started."""
        with self._view_lock:
            return self._counts

    def live_size(self) -> tuple[int, int] | None:
        """(width, height) of the analysed frames, once one has been seen."""
        with self._view_lock:
            view = self._view
        if view is None:
            return None
        return int(view.image.shape[1]), int(view.image.shape[0])

    def live_objects(self) -> tuple[float, Detections] | None:
        """The latest frame's time and tracked objects."""
        with self._view_lock:
            view = self._view
        return None if view is None else (view.pts_s, view.tracked)

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._play_once()
                if not self._loop_files and not is_stream(self.source):
                    self.health.state = "finished"
                    return
                delay = 1.0
            except SourceError as exc:
                self._retry(str(exc), delay)
                delay = min(delay * 2, 60.0)
            except Exception as exc:
                log.exception("camera %s pipeline failed", self.camera_id)
                self._retry(f"unexpected: {exc}", delay)
                delay = min(delay * 2, 60.0)

    def _retry(self, error: str, delay: float) -> None:
        self.health.state = "retrying"
        self.health.last_error = error
        self.health.restarts += 1
        log.warning("camera %s: %s (retrying in %.0f s)", self.camera_id, error, delay)
        if not self._down:
            # Once an outage: a ``stream_lost`` event, so a rule can raise a health alert.
            self._down = True
            self._publish([CameraEventObserved(
                camera_id=self.camera_id, type="stream_lost", occurred_at=utcnow(),
                confidence=1.0, payload={"error": error[:300], "retry_in_s": delay},
            )])  # fmt: skip
        self._stop.wait(delay)

    def _restored(self) -> None:
        """The stream plays again after an outage: ``stream_restored``."""
        if self._down:
            self._down = False
            self._publish([CameraEventObserved(
                camera_id=self.camera_id, type="stream_restored", occurred_at=utcnow(),
                confidence=1.0, payload={"restarts": self.health.restarts},
            )])  # fmt: skip

    def _play_once(self) -> None:
        config = self.analytics
        pipeline = CameraPipeline(config=config, detector=self._detector, track_events=False)
        self.names = pipeline.names
        tracks = TrackPublisher(
            camera_id=self.camera_id, run_id=uuid.uuid4().hex[:12], names=pipeline.names
        )
        from kupol.traffic.live import frames_kept

        traffic_on = self._traffic is not None and config.traffic.enabled
        # One buffer of recent frames for the clips and the traffic evidence: a frame is
        # encoded once.
        recent = RecentFrames(
            seconds=max(config.clips.before_s, frames_kept(config.traffic) if traffic_on else 0.0)
        )
        faces = (
            self._faces(self.camera_id, config.faces)
            if self._faces is not None and config.faces.enabled
            else None
        )
        plates = self._plate_stage(config)
        traffic = self._traffic_stage(config, recent)
        pending: list[tuple[PendingClip, VisionEvent, datetime]] = []
        wall_start = utcnow()
        started = time.monotonic()
        first_pts: float | None = None
        run: _RunCounters | None = None
        last: Frame | None = None
        self.health.state = "running"
        first_frame = True
        for frame in read_frames(
            self.source,
            analysis_fps=config.analysis_fps,
            width=config.width,
            realtime=self._realtime or is_stream(self.source),
            input_format=config.input_format,
            stop=self._stop.is_set,
        ):
            captured = time.perf_counter()
            if first_pts is None:
                first_pts = frame.pts_s
            if first_frame:
                first_frame = False
                self._restored()
            result = pipeline.process(frame)
            self.health.analysis_s += result.seconds
            occurred = self._occurred(wall_start, frame.pts_s - first_pts)
            if run is None:
                run = _RunCounters(
                    started=started, first_pts=first_pts, dropped_before=self.health.dropped
                )
            self._account(result, run, frame)
            with self._view_lock:
                self._view = LiveView(
                    image=frame.image, tracked=result.tracked, pts_s=frame.pts_s, at=occurred
                )
                self._counts = pipeline.counts()
            kept = recent.add(frame.pts_s, frame.image) if config.clips.enabled or traffic else None
            clip_frame = kept if config.clips.enabled else None
            messages: list[Event] = list(tracks.messages(result, occurred=occurred))
            if faces is not None:
                messages.extend(self._face_messages(faces, frame, result, tracks, occurred))
            if plates is not None:
                messages.extend(self._plate_messages(plates, frame, result, tracks, occurred))
            if traffic is not None:
                messages.extend(
                    self._traffic_messages(traffic, frame, result, tracks, occurred, captured)
                )
            self.health.tracks = tracks.started
            if clip_frame is not None:
                for entry in list(pending):
                    if entry[0].add(clip_frame):
                        pending.remove(entry)
                        messages.append(self._observed(entry[1], entry[2], clip=entry[0]))
            for event in result.events:
                if not (event.is_alert and clip_frame is not None):
                    messages.append(self._observed(event, occurred, clip=None))
                    continue
                clip = PendingClip(
                    until_s=frame.pts_s + config.clips.after_s,
                    frames=recent.since(frame.pts_s - config.clips.before_s),
                )
                if frame.pts_s >= clip.until_s:
                    messages.append(self._observed(event, occurred, clip=clip))
                else:
                    pending.append((clip, event, occurred))
            if messages:
                self._publish(messages)
            last = frame
        if last is not None:
            end_messages: list[Event] = [
                self._observed(event, when, clip=clip) for clip, event, when in pending
            ]
            end_messages.extend(
                self._observed(event, utcnow(), clip=None)
                for event in pipeline.finish(last.pts_s, last.source_index)
            )
            end_messages.extend(tracks.finish(occurred=utcnow()))
            if plates is not None:
                end_messages.extend(plates.finish(utcnow()))
                self.health.plates = plates.plates_reported
            if traffic is not None:
                try:
                    end_messages.extend(traffic.finish())
                except Exception as exc:  # the other stages' last messages still go out
                    log.exception("camera %s: traffic stage failed at the end", self.camera_id)
                    self.health.last_error = f"traffic: {exc}"
            if end_messages:
                self._publish(end_messages)

    def _face_messages(
        self,
        stage: FaceStage,
        frame: Frame,
        result: FrameResult,
        tracks: TrackPublisher,
        occurred: datetime,
    ) -> list[Event]:
        """Faces of the tracked people on this frame; a failure costs faces, not the camera."""
        from kupol.faces.live import TrackedPerson
        from kupol.vision.model import TrackRecord

        tracked = result.tracked
        try:
            messages: list[Event] = []
            people = [
                TrackedPerson(
                    track_id=int(tid), box=(float(b[0]), float(b[1]), float(b[2]), float(b[3]))
                )
                for b, cid, tid in zip(
                    tracked.xyxy, tracked.class_id, tracked.tracker_id, strict=True
                )
                if tid >= 0 and class_name(int(cid), self.names) == "person"
            ]
            messages.extend(
                stage.process(
                    frame.image,
                    pts_s=frame.pts_s,
                    occurred=occurred,
                    people=people,
                    track_key=lambda tid: TrackRecord.key(self.camera_id, tracks.run_id, tid),
                    full=lambda: _bgr(frame.full_image()),
                )
            )
            self.health.faces += len(messages)
            return messages
        except Exception as exc:
            log.exception("camera %s: face stage failed on a frame", self.camera_id)
            self.health.last_error = f"faces: {exc}"
            return []

    def _plate_stage(self, config: CameraAnalytics) -> PlateStage | None:
        """The camera's plate stage, if switched on; a reader that cannot load costs plates,
        not the camera."""
        if self._plates is None or not config.plates.enabled:
            return None
        try:
            return self._plates(self.camera_id, config.plates)
        except Exception as exc:
            log.exception("camera %s: plate reading unavailable", self.camera_id)
            self.health.last_error = f"plates: {exc}"
            return None

    def _plate_messages(
        self,
        stage: PlateStage,
        frame: Frame,
        result: FrameResult,
        tracks: TrackPublisher,
        occurred: datetime,
    ) -> list[Event]:
        """Plates of the tracked vehicles decided on this frame; a failure costs plates, not
        the camera."""
        from kupol.plates.live import TrackedVehicle
        from kupol.vision.model import TrackRecord

        tracked = result.tracked
        wanted = set(stage.config.vehicle_classes)
        try:
            vehicles = [
                TrackedVehicle(
                    track_id=int(tid),
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                    vehicle_class=name,
                )
                for b, cid, tid in zip(
                    tracked.xyxy, tracked.class_id, tracked.tracker_id, strict=True
                )
                if tid >= 0 and (name := class_name(int(cid), self.names)) in wanted
            ]
            messages: list[Event] = list(
                stage.process(
                    frame.image,
                    pts_s=frame.pts_s,
                    occurred=occurred,
                    vehicles=vehicles,
                    ended=[e.track_id for e in result.track_events if e.kind == "end"],
                    track_key=lambda tid: TrackRecord.key(self.camera_id, tracks.run_id, tid),
                    full=lambda: _bgr(frame.full_image()),
                )
            )
            self.health.plates = stage.plates_reported
            return messages
        except Exception as exc:
            log.exception("camera %s: plate stage failed on a frame", self.camera_id)
            self.health.last_error = f"plates: {exc}"
            return []

    def _traffic_stage(self, config: CameraAnalytics, frames: RecentFrames) -> TrafficStage | None:
        """The camera's traffic stage, if switched on; a failure costs the rules, not the
        camera."""
        if self._traffic is None or not config.traffic.enabled:
            return None
        try:
            return self._traffic(self.camera_id, config.traffic, config.analysis_fps, frames)
        except Exception as exc:
            log.exception("camera %s: traffic rules unavailable", self.camera_id)
            self.health.last_error = f"traffic: {exc}"
            return None

    def _traffic_messages(
        self,
        stage: TrafficStage,
        frame: Frame,
        result: FrameResult,
        tracks: TrackPublisher,
        occurred: datetime,
        captured: float,
    ) -> list[Event]:
        """The traffic rules on this frame's tracked road users; a failure costs the rules on
        this frame, not the camera."""
        from kupol.traffic.live import RoadUser
        from kupol.vision.model import TrackRecord

        tracked = result.tracked
        try:
            users = [
                RoadUser(
                    track_id=int(tid),
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                    class_name=class_name(int(cid), self.names),
                )
                for b, cid, tid in zip(
                    tracked.xyxy, tracked.class_id, tracked.tracker_id, strict=True
                )
                if tid >= 0
            ]
            return stage.process(
                frame.image,
                pts_s=frame.pts_s,
                occurred=occurred,
                users=users,
                ended=[e.track_id for e in result.track_events if e.kind == "end"],
                track_key=lambda tid: TrackRecord.key(self.camera_id, tracks.run_id, tid),
                full=lambda: _bgr(frame.full_image()),
                captured=captured,
            )
        except Exception as exc:
            log.exception("camera %s: traffic stage failed on a frame", self.camera_id)
            self.health.last_error = f"traffic: {exc}"
            return []

    def _occurred(self, wall_start: datetime, offset_s: float) -> datetime:
        if self._realtime:
            return min(wall_start + timedelta(seconds=max(0.0, offset_s)), utcnow())
        return utcnow()

    def _account(self, result: FrameResult, run: _RunCounters, frame: Frame) -> None:
        """Health of this run of the source; totals carry over from earlier runs."""
        health = self.health
        run.frames += 1
        health.frames += 1
        health.detector_runs += int(result.detector_ran)
        elapsed = max(1e-6, time.monotonic() - run.started)
        health.fps_out = round(run.frames / elapsed, 2)
        health.fps_in = round((frame.source_index + 1) / elapsed, 2)
        video_s = frame.pts_s - run.first_pts
        expected = int(video_s * self.analytics.analysis_fps) + 1
        health.dropped = run.dropped_before + max(0, expected - run.frames)
        health.lag_s = round(max(0.0, elapsed - video_s), 2) if self._realtime else 0.0

    def _observed(
        self, event: VisionEvent, occurred: datetime, *, clip: PendingClip | None
    ) -> CameraEventObserved:
        event_id = uuid7()
        evidence = [
            self._save(
                f"{event_id}-{frame.label}.jpg",
                encode_jpeg(evidence_image(frame)),
                kind="snapshot",
                media_type="image/jpeg",
            )
            for frame in event.evidence
        ]
        if clip is not None and clip.frames:
            path = self._folder() / f"{event_id}.webm"
            try:
                write_clip(clip.frames, path, fps=self.analytics.analysis_fps)
                evidence.append(self._ref(path, kind="clip", media_type="video/webm"))
            except (ValueError, OSError) as exc:
                log.warning("camera %s: clip not written: %s", self.camera_id, exc)
        payload = event.as_json()
        for key in ("type", "zone", "confidence", "alert"):
            payload.pop(key, None)
        payload["source"] = self.source if not is_stream(self.source) else "stream"
        return CameraEventObserved(
            id=event_id,
            camera_id=self.camera_id,
            type=event.type,
            occurred_at=occurred,
            confidence=max(0.0, min(1.0, event.confidence)),
            zone=event.zone,
            payload=payload,
            evidence=tuple(evidence),
        )

    def _folder(self) -> Path:
        folder = self._evidence_dir / self.camera_id / utcnow().strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _save(self, name: str, data: bytes, *, kind: str, media_type: str) -> EvidenceRef:
        path = self._folder() / name
        path.write_bytes(data)
        return self._ref(path, kind=kind, media_type=media_type)

    def _ref(self, path: Path, *, kind: str, media_type: str) -> EvidenceRef:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return EvidenceRef(
            kind=kind,
            uri=str(path.relative_to(self._evidence_dir)),
            sha256=digest,
            media_type=media_type,
        )

    def _publish(self, messages: list[Event]) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._publish_now(messages)
                self.health.events += sum(isinstance(m, CameraEventObserved) for m in messages)
                return
            except Exception as exc:
                self.health.last_error = f"bus: {exc}"
                log.warning("camera %s: messages not accepted yet (%s)", self.camera_id, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)


def _bgr(image: Image.Image) -> NDArray[np.uint8]:
    """A PIL RGB image as OpenCV's BGR array."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1], dtype=np.uint8)


def bus_publisher(bus_publish: Callable[..., object], loop: asyncio.AbstractEventLoop) -> Publish:
    """A thread-side publisher onto the bus running in ``loop``."""

    def publish(messages: list[Event]) -> None:
        coroutine = cast("Coroutine[Any, Any, object]", bus_publish(*messages))
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        except BaseException:
            coroutine.close()  # never scheduled (the loop has closed): not left un-awaited
            raise
        future.result(60)

    return publish
