"""The traffic domain wired together (built once by :mod:`kupol.bootstrap`)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.documents.pki import Authority
from kupol.faces.files import FaceFiles
from kupol.settings import TrafficSettings
from kupol.traffic.config import CameraTrafficConfig
from kupol.traffic.controller import SignalBoard
from kupol.traffic.dashboard import CrossingDashboard
from kupol.traffic.legal import LegalTable, load_legal_table
from kupol.traffic.live import TrafficStage, WarningDevice
from kupol.traffic.notices import NoticeService
from kupol.traffic.recorder import CrossingRecorder, ViolationRecorder
from kupol.traffic.registry import VehicleRegistry
from kupol.traffic.review import ReviewService
from kupol.traffic.signing import DecisionSigner, DecisionSigning
from kupol.traffic.warning_device import (
    LoggedWarningDevice,
    MqttWarningDevice,
    RetryingMqttDevice,
)
from kupol.vision.clips import RecentFrames

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Traffic:
    """Everything the traffic domain offers the API, the console and the cameras."""

    settings: TrafficSettings
    zone: ZoneInfo
    legal: LegalTable
    recorder: ViolationRecorder
    crossings: CrossingRecorder
    review: ReviewService
    notices: NoticeService
    registry: VehicleRegistry
    dashboard: CrossingDashboard
    signals: SignalBoard
    files: FaceFiles
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    _device: WarningDevice | None = None
    _device_lock: threading.Lock = field(default_factory=threading.Lock)

    def device(self) -> WarningDevice:
        """The crossings' warning device: the MQTT broker when ``[traffic] mqtt`` is on (while
        it cannot be reached, commands are logged and it is tried again), else the log."""
        with self._device_lock:
            if self._device is None:
                if self.settings.mqtt:
                    prefix = self.settings.crossings_prefix
                    self._device = RetryingMqttDevice(
                        lambda: MqttWarningDevice(
                            host=self.mqtt_host,
                            port=self.mqtt_port,
                            prefix=prefix,
                            client_id=f"kupol-crossings-{uuid.uuid4().hex[:8]}",
                        )
                    )
                else:
                    self._device = LoggedWarningDevice()
            return self._device

    def stage(
        self,
        camera_id: str,
        config: CameraTrafficConfig,
        fps: float,
        frames: RecentFrames | None = None,
    ) -> TrafficStage:
        """A camera's traffic stage (the pipelines' factory); ``frames``: the camera's shared
        buffer of recent frames."""
        return TrafficStage(
            camera_id=camera_id,
            config=config,
            signals=self.signals,
            files=self.files,
            device=self.device(),
            fps=fps,
            frames=frames,
        )

    def close(self) -> None:
        """Disconnect the warning device."""
        with self._device_lock:
            if isinstance(self._device, RetryingMqttDevice):
                self._device.close()
            self._device = None


def build_traffic(
    *,
    settings: TrafficSettings,
    db: Database,
    audit: AuditLog,
    secret: bytes,
    authority: Authority,
    evidence_dir: Path,
    known_cameras: Callable[[], set[str]],
    today: Callable[[], date] | None = None,
    mqtt_host: str = "127.0.0.1",
    mqtt_port: int = 1883,
) -> Traffic:
    """Wire the traffic domain; the legal table is loaded (and checked) now.

    Raises:
        ConfigError: the configured legal table is missing or invalid.
    """
    zone = ZoneInfo(settings.timezone)
    legal = load_legal_table(settings.legal_table)
    files = FaceFiles(evidence_dir)
    local_today = today or (lambda: datetime.now(zone).date())
    notices = NoticeService(
        db=db, audit=audit, prefix=settings.notice_prefix, today=local_today, zone=zone
    )
    return Traffic(
        settings=settings,
        zone=zone,
        legal=legal,
        recorder=ViolationRecorder(
            db=db,
            legal=lambda: legal,
            known_cameras=known_cameras,
            zone=zone,
            repeat_window_s=settings.repeat_window_s,
            still_camera_mps=settings.still_camera_mps,
        ),
        crossings=CrossingRecorder(db=db, known_cameras=known_cameras),
        review=ReviewService(
            db=db,
            audit=audit,
            files=files,
            signing=DecisionSigning(authority, DecisionSigner(secret)),
            notices=notices,
        ),
        notices=notices,
        registry=VehicleRegistry(db=db, audit=audit, notices=notices),
        dashboard=CrossingDashboard(db=db, zone=zone),
        signals=SignalBoard(),
        files=files,
        mqtt_host=mqtt_host,
        mqtt_port=mqtt_port,
    )
