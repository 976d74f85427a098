"""Keeps one pipeline running per enabled camera with a stream, following the registry live.

Adding, changing or disabling a camera (API, console or CLI, in this process or another one
sharing the database) starts, restarts or stops its worker within ``poll_s`` — at once when
the change came through this process's API — without restarting kupol.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kupol.cameras.schemas import CameraRead
from kupol.core.errors import KupolError
from kupol.vision.config import CameraAnalytics, camera_analytics
from kupol.vision.plugins import detector_for
from kupol.vision.worker import (
    CameraHealth,
    CameraWorker,
    FaceStageFactory,
    PlateStageFactory,
    Publish,
    TrafficStageFactory,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class WantedCamera:
    """What a camera's worker must run; a change of ``fingerprint`` restarts it."""

    camera_id: str
    source: str
    analytics: CameraAnalytics
    fingerprint: str


def wanted(camera: CameraRead) -> WantedCamera | None:
    """The worker a camera needs, or ``None`` (disabled, no stream, or invalid analytics)."""
    if not camera.enabled or not camera.stream_url:
        return None
    try:
        analytics = camera_analytics(zones=camera.zones, analytics=camera.analytics)
    except KupolError as exc:
        log.error("camera %s: analytics not usable: %s", camera.id, exc.detail)
        return None
    blob = json.dumps([camera.stream_url, analytics.model_dump(mode="json")], sort_keys=True)
    return WantedCamera(
        camera_id=camera.id,
        source=camera.stream_url.removeprefix("file://"),
        analytics=analytics,
        fingerprint=hashlib.sha256(blob.encode()).hexdigest(),
    )


class PipelineManager:
    """Starts, restarts and stops camera workers to match the camera registry."""

    def __init__(
        self,
        *,
        cameras: Callable[[], list[CameraRead]],
        publish: Callable[[], Publish],
        evidence_dir: Path,
        poll_s: float = 2.0,
        loop_files: bool = True,
        realtime: bool = True,
        faces: FaceStageFactory | None = None,
        plates: PlateStageFactory | None = None,
        traffic: TrafficStageFactory | None = None,
    ) -> None:
        self._faces = faces
        self._plates = plates
        self._traffic = traffic
        self._cameras = cameras
        self._publish = publish
        self._evidence_dir = evidence_dir
        self._poll_s = poll_s
        self._loop_files = loop_files
        self._realtime = realtime
        self.workers: dict[str, CameraWorker] = {}
        self._fingerprints: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Start the workers now and follow the registry in the background."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        await self.reconcile()
        self._task = asyncio.create_task(self._follow(), name="vision-manager")

    async def stop(self) -> None:
        """Stop following and stop every worker."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._lock:
            for camera_id in list(self.workers):
                await self._stop_worker(camera_id)

    def changed(self) -> None:
        """Say that cameras changed (reconcile now rather than at the next poll).

        Safe to call from any thread (API handlers run in a thread pool).
        """
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
            try:
                await self.reconcile()
            except Exception:
                log.exception("camera pipelines not reconciled; trying again")

    async def reconcile(self) -> None:
        """Make the running workers match the registry."""
        async with self._lock:
            cameras = await asyncio.to_thread(self._cameras)
            targets = {w.camera_id: w for c in cameras if (w := wanted(c)) is not None}
            for camera_id in list(self.workers):
                target = targets.get(camera_id)
                if target is None or target.fingerprint != self._fingerprints.get(camera_id):
                    await self._stop_worker(camera_id)
            for camera_id, target in targets.items():
                if camera_id not in self.workers:
                    await self._start_worker(target)

    async def _start_worker(self, target: WantedCamera) -> None:
        try:
            detector = await asyncio.to_thread(detector_for, target.analytics.detector)
        except KupolError as exc:
            log.error("camera %s: detector unavailable: %s", target.camera_id, exc.detail)
            return
        worker = CameraWorker(
            camera_id=target.camera_id,
            source=target.source,
            analytics=target.analytics,
            detector=detector,
            publish=self._publish(),
            evidence_dir=self._evidence_dir,
            loop_files=self._loop_files,
            realtime=self._realtime,
            faces=self._faces,
            plates=self._plates,
            traffic=self._traffic,
        )
        worker.start()
        self.workers[target.camera_id] = worker
        self._fingerprints[target.camera_id] = target.fingerprint
        log.info("camera %s: pipeline started on %s", target.camera_id, target.source)

    async def _stop_worker(self, camera_id: str) -> None:
        worker = self.workers.pop(camera_id)
        self._fingerprints.pop(camera_id, None)
        await asyncio.to_thread(worker.stop)
        log.info("camera %s: pipeline stopped", camera_id)

    def health(self) -> list[CameraHealth]:
        """Every running camera's health, by id."""
        return [self.workers[c].health for c in sorted(self.workers)]

    def worker(self, camera_id: str) -> CameraWorker | None:
        """The running worker of a camera, if any."""
        return self.workers.get(camera_id)
