"""The traffic domain wired together (built once by :mod:`kupol.bootstrap`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.faces.files import FaceFiles
from kupol.settings import TrafficSettings
from kupol.traffic.controller import SignalBoard
from kupol.traffic.dashboard import CrossingDashboard
from kupol.traffic.legal import LegalTable, load_legal_table
from kupol.traffic.notices import NoticeService
from kupol.traffic.recorder import CrossingRecorder, ViolationRecorder
from kupol.traffic.registry import VehicleRegistry
from kupol.traffic.review import ReviewService
from kupol.traffic.signing import DecisionSigner


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


def build_traffic(
    *,
    settings: TrafficSettings,
    db: Database,
    audit: AuditLog,
    secret: bytes,
    evidence_dir: Path,
    known_cameras: Callable[[], set[str]],
    today: Callable[[], date] | None = None,
) -> Traffic:
    """Wire the traffic domain; the legal table is loaded (and checked) now.

    Raises:
        ConfigError: the configured legal table is missing or invalid.
    """
    zone = ZoneInfo(settings.timezone)
    legal = load_legal_table(settings.legal_table)
    files = FaceFiles(evidence_dir)
    local_today = today or (lambda: datetime.now(zone).date())
    notices = NoticeService(db=db, audit=audit, prefix=settings.notice_prefix, today=local_today)
    return Traffic(
        settings=settings,
        zone=zone,
        legal=legal,
        recorder=ViolationRecorder(
            db=db, legal=lambda: legal, known_cameras=known_cameras, zone=zone
        ),
        crossings=CrossingRecorder(db=db, known_cameras=known_cameras),
        review=ReviewService(
            db=db, audit=audit, files=files, signer=DecisionSigner(secret), notices=notices
        ),
        notices=notices,
        registry=VehicleRegistry(db=db, audit=audit, notices=notices),
        dashboard=CrossingDashboard(db=db, zone=zone),
        signals=SignalBoard(),
        files=files,
    )
