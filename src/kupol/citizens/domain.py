"""The citizens' side, assembled: the text gateway, sign-up by phone, report intake."""

from __future__ import annotations

from pathlib import Path

from kupol.cameras.service import CameraService
from kupol.citizens.accounts import CitizenAccounts
from kupol.citizens.payouts import CitizenRewards
from kupol.citizens.reports import CitizenReports
from kupol.citizens.review import CitizenReview
from kupol.citizens.sms import LogFileGateway
from kupol.core.audit import AuditLog
from kupol.core.auth import AuthService
from kupol.core.db import Database
from kupol.evidence.service import EvidenceVault
from kupol.incidents.service import IncidentService
from kupol.settings import CitizensSettings
from kupol.traffic.recorder import ViolationRecorder


class Citizens:
    def __init__(
        self, *, settings: CitizensSettings, data_dir: Path, db: Database, audit: AuditLog,
        auth: AuthService, vault: EvidenceVault, secret: str,
        violations: ViolationRecorder | None = None, cameras: CameraService | None = None,
        incidents: IncidentService | None = None,
    ) -> None:  # fmt: skip
        self.sms = LogFileGateway(data_dir / "sms.log")
        self.accounts = CitizenAccounts(db=db, audit=audit, auth=auth, sms=self.sms,
                                        settings=settings, secret=secret)  # fmt: skip
        self.reports = CitizenReports(db=db, audit=audit, vault=vault, settings=settings)
        self.rewards = CitizenRewards(db=db, audit=audit)
        self.review = CitizenReview(db=db, audit=audit, violations=violations, cameras=cameras,
                                    incidents=incidents, rewards=self.rewards)  # fmt: skip
