"""The citizens' side, assembled: the text gateway, sign-up by phone, report intake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kupol.cameras.service import CameraService
from kupol.citizens.accounts import CitizenAccounts
from kupol.citizens.helpers import PublicHelpers
from kupol.citizens.helpers_recognition import load_recognition
from kupol.citizens.helpers_rules import ShiftRules
from kupol.citizens.media_frames import FaceFinder
from kupol.citizens.payouts import CitizenRewards
from kupol.citizens.reports import CitizenReports
from kupol.citizens.review import CitizenReview
from kupol.citizens.sms import LogFileGateway
from kupol.citizens.statistics import PublicStatistics
from kupol.core.audit import AuditLog
from kupol.core.auth import AuthService
from kupol.core.db import Database
from kupol.evidence.service import EvidenceVault
from kupol.incidents.service import IncidentService
from kupol.plates.readers import PlateReader
from kupol.roads.crime_store import CrimeStatistics
from kupol.roads.whereabouts import RegionMap
from kupol.settings import CitizensSettings
from kupol.traffic.recorder import ViolationRecorder


class Citizens:
    def __init__(
        self, *, settings: CitizensSettings, data_dir: Path, db: Database, audit: AuditLog,
        auth: AuthService, vault: EvidenceVault, secret: str,
        violations: ViolationRecorder | None = None, cameras: CameraService | None = None,
        incidents: IncidentService | None = None, crime: CrimeStatistics | None = None,
        plate_reader: Callable[[], PlateReader] | None = None,
        face_finder: Callable[[], FaceFinder] | None = None,
    ) -> None:  # fmt: skip
        self.sms = LogFileGateway(data_dir / "sms.log")
        self.accounts = CitizenAccounts(db=db, audit=audit, auth=auth, sms=self.sms,
                                        settings=settings, secret=secret)  # fmt: skip
        self.regions = RegionMap.load()
        self.reports = CitizenReports(
            db=db, audit=audit, vault=vault, settings=settings, region_of=self.regions.region_of,
            plate_reader=plate_reader, face_finder=face_finder,
        )  # fmt: skip
        self.rewards = CitizenRewards(db=db, audit=audit)
        self.statistics = PublicStatistics(db=db, crime=crime)
        self.helpers = PublicHelpers(
            db=db, audit=audit, recognition=load_recognition(), region_of=self.regions.region_of,
            rules=ShiftRules(max_hours_per_week=settings.helper_max_hours_per_week,
                             max_per_area=settings.helper_max_per_area,
                             night_allowed=settings.helper_night_shifts),
        )  # fmt: skip
        self.review = CitizenReview(db=db, audit=audit, violations=violations, cameras=cameras,
                                    incidents=incidents, rewards=self.rewards)  # fmt: skip
