"""The anti-fraud domain, wired: what the API, the console and the CLI use."""

from __future__ import annotations

from dataclasses import dataclass

from kupol.antifraud.calls import CallScreening
from kupol.antifraud.casefile import GroupCaseFiles
from kupol.antifraud.holds import TransferHolds
from kupol.antifraud.mules import MuleList
from kupol.antifraud.reports import AfcReports
from kupol.antifraud.screen_model import configured_screen_model
from kupol.antifraud.speakers import shipped_encoder
from kupol.antifraud.transfer_model import configured_model
from kupol.antifraud.voiceprints import VoiceChecks, try_load_detector
from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.evidence.service import EvidenceVault
from kupol.settings import AntifraudSettings


@dataclass(frozen=True, kw_only=True)
class Antifraud:
    """Transfer holds, the mule list, call screening, reports, voice checks, case files."""

    holds: TransferHolds
    mules: MuleList
    calls: CallScreening
    reports: AfcReports
    voices: VoiceChecks
    case_files: GroupCaseFiles


def build_antifraud(
    *, settings: AntifraudSettings, db: Database, audit: AuditLog, vault: EvidenceVault
) -> Antifraud:
    """Wire the domain; the transfer, screening and synthetic-voice models are loaded now (or
    their absence logged); the speaker model on the first voice check.

    Raises:
        ConfigError: a model the settings name (``model``, ``screen_model``) cannot be used —
            a deployment that names its own model does not want the rules alone instead.
    """
    model = configured_model(settings.model)
    screen_model = configured_screen_model(settings.screen_model)
    calls = CallScreening(db=db, audit=audit, model=screen_model)
    voices = VoiceChecks(
        db=db, audit=audit, numbering=calls.numbering, encoder=shipped_encoder,
        detector=try_load_detector(),
    )  # fmt: skip
    return Antifraud(
        holds=TransferHolds(db=db, audit=audit, settings=settings, model=model, calls=calls),
        mules=MuleList(db=db, audit=audit),
        calls=calls,
        reports=AfcReports(db=db, audit=audit, calls=calls),
        voices=voices,
        case_files=GroupCaseFiles(db=db, audit=audit, calls=calls, voices=voices, vault=vault),
    )
