"""The anti-fraud domain, wired: what the API, the console and the CLI use."""

from __future__ import annotations

from dataclasses import dataclass

from kupol.antifraud.calls import CallScreening
from kupol.antifraud.casefile import GroupCaseFiles
from kupol.antifraud.cdr import read_ported
from kupol.antifraud.holds import TransferHolds
from kupol.antifraud.mules import MuleList
from kupol.antifraud.numbers import NUMBERING_PATH, load_numbering
from kupol.antifraud.reports import AfcReports
from kupol.antifraud.screen_model import configured_screen_model
from kupol.antifraud.screening import CallScreen
from kupol.antifraud.speakers import shipped_encoder
from kupol.antifraud.transfer_model import configured_model
from kupol.antifraud.voiceprints import VoiceChecks, try_load_detector
from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.core.errors import ConfigError, InvalidInputError
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
    """Wire the domain; the transfer, screening and synthetic-voice models (or their absence
    logged), the numbering plan and the portability register are loaded now; the speaker model
    on the first voice check.

    Raises:
        ConfigError: a file the settings name (``model``, ``screen_model``, ``numbering``,
            ``ported``) cannot be used — a deployment that names its own does not want kupol
            to go on without it.
    """
    model = configured_model(settings.model)
    screen_model = configured_screen_model(settings.screen_model)
    calls = CallScreening(
        db=db, audit=audit, screen=configured_screen(settings), model=screen_model
    )
    voices = VoiceChecks(
        db=db, audit=audit, numbering=calls.numbering, encoder=shipped_encoder,
        detector=try_load_detector(),
    )  # fmt: skip
    return Antifraud(
        holds=TransferHolds(db=db, audit=audit, settings=settings, model=model, calls=calls),
        mules=MuleList(db=db, audit=audit, numbering=calls.numbering),
        calls=calls,
        reports=AfcReports(db=db, audit=audit, calls=calls),
        voices=voices,
        case_files=GroupCaseFiles(db=db, audit=audit, calls=calls, voices=voices, vault=vault),
    )


def configured_screen(settings: AntifraudSettings) -> CallScreen:
    """A screen placing numbers by the deployment's numbering plan (``numbering``) and knowing
    its ported numbers (``ported``), each read now.

    Raises:
        ConfigError: a file the settings name cannot be read.
    """
    numbering = load_numbering(settings.numbering or NUMBERING_PATH)
    screen = CallScreen(numbering=numbering)
    if settings.ported:
        try:
            screen.ported = read_ported(settings.ported, numbering)
        except InvalidInputError as exc:
            raise ConfigError(f"[antifraud] ported: {exc}") from exc
    return screen
