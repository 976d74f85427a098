"""Runs one built-in source per configured camera in its own thread and publishes what it sees.

A source that fails (missing file, broken stream) is retried with back-off and reported
in its health; the other cameras keep running. Events are published with the bus's
at-least-once contract: an event is retried until the bus accepts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kupol.core.bus import Bus
from kupol.core.errors import SourceError
from kupol.events.messages import CameraEventObserved, EvidenceRef
from kupol.settings import SourceSettings
from kupol.vision.motion import MotionDetector, MotionStarted, zone_of
from kupol.vision.sources import Frame, read_frames

log = logging.getLogger(__name__)
Zones = list[tuple[str, list[tuple[float, float]]]]


@dataclass(kw_only=True)
class SourceHealth:
    """What the console shows about a source."""

    camera_id: str
    state: str = "starting"  # starting | running | retrying | finished | stopped
    frames: int = 0
    events: int = 0
    fps: float = 0.0
    last_error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def save_snapshot(
    frame: Frame, *, evidence_dir: Path, camera_id: str, event_id: str
) -> EvidenceRef:
    """Write the full-resolution frame as JPEG and return its reference with SHA-256."""
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    folder = evidence_dir / camera_id / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{event_id}.jpg"
    frame.source.to_image().save(path, format="JPEG", quality=85)  # type: ignore[no-untyped-call]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return EvidenceRef(
        kind="snapshot",
        uri=str(path.relative_to(evidence_dir)),
        sha256=digest,
        media_type="image/jpeg",
    )


class MotionSource:
    """Motion events from one video source (the first slice's built-in source)."""

    def __init__(
        self,
        *,
        config: SourceSettings,
        bus: Bus,
        loop: asyncio.AbstractEventLoop,
        evidence_dir: Path,
        zones: Callable[[], Zones],
    ) -> None:
        self.config = config
        self.health = SourceHealth(camera_id=config.camera_id)
        self._bus = bus
        self._loop = loop
        self._evidence_dir = evidence_dir
        self._zones = zones
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"source-{config.camera_id}", daemon=True
        )

    def start(self) -> None:
        """Start reading in the background."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the source to stop and wait for it."""
        self._stop.set()
        self._thread.join(timeout)
        if self.health.state != "finished":
            self.health.state = "stopped"

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._play_once()
                if not self.config.loop:
                    self.health.state = "finished"
                    return
                delay = 1.0
            except SourceError as exc:
                self.health.state = "retrying"
                self.health.last_error = str(exc)
                log.warning("camera %s: %s (retrying in %.0f s)", self.config.camera_id, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)
            except Exception as exc:
                self.health.state = "retrying"
                self.health.last_error = f"unexpected: {exc}"
                log.exception("camera %s source failed", self.config.camera_id)
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)

    def _play_once(self) -> None:
        detector = MotionDetector(
            min_area=self.config.min_area, repeat_frames=max(1, int(self.config.analysis_fps * 5))
        )
        zones = self._zones()
        started = time.monotonic()
        wall_start = datetime.now(UTC)
        self.health.state = "running"
        for frame in read_frames(self.config.path, analysis_fps=self.config.analysis_fps):
            if self._stop.is_set():
                return
            if self.config.realtime:
                wait = frame.pts_s - (time.monotonic() - started)
                if wait > 0:
                    self._stop.wait(wait)
            self.health.frames += 1
            elapsed = time.monotonic() - started
            self.health.fps = round(frame.index / elapsed, 2) if elapsed > 0 else 0.0
            motion = detector.update(frame.gray)
            if motion is not None:
                occurred = (
                    wall_start + timedelta(seconds=frame.pts_s)
                    if self.config.realtime
                    else datetime.now(UTC)
                )
                self._publish(self._event(frame, motion, zones, occurred))

    def _event(
        self, frame: Frame, motion: MotionStarted, zones: Zones, occurred: datetime
    ) -> CameraEventObserved:
        from uuid import uuid4

        event_id = uuid4()
        snapshot = save_snapshot(
            frame,
            evidence_dir=self._evidence_dir,
            camera_id=self.config.camera_id,
            event_id=str(event_id),
        )
        box = motion.box
        return CameraEventObserved(
            id=event_id,
            camera_id=self.config.camera_id,
            type="motion",
            occurred_at=min(occurred, datetime.now(UTC)),
            confidence=motion.confidence,
            zone=zone_of(box.center, zones),
            payload={
                "area": round(motion.area, 4),
                "episode": motion.episode,
                "box": [round(v, 4) for v in (box.x1, box.y1, box.x2, box.y2)],
                "frame_pts_s": round(frame.pts_s, 3),
                "source": self.config.path,
            },
            evidence=(snapshot,),
        )

    def _publish(self, event: CameraEventObserved) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                asyncio.run_coroutine_threadsafe(self._bus.publish(event), self._loop).result(60)
                self.health.events += 1
                return
            except Exception as exc:
                self.health.last_error = f"bus: {exc}"
                log.warning("camera %s: event not accepted yet (%s)", self.config.camera_id, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
