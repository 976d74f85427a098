"""The anti-fraud domain, wired: what the API, the console and the CLI use."""

from __future__ import annotations

from dataclasses import dataclass

from kupol.antifraud.calls import CallScreening
from kupol.antifraud.holds import TransferHolds
from kupol.antifraud.mules import MuleList
from kupol.antifraud.reports import AfcReports
from kupol.antifraud.screen_model import try_load_screen_model
from kupol.antifraud.transfer_model import MODEL_PATH, try_load_model
from kupol.core.audit import AuditLog
from kupol.core.db import Database
from kupol.settings import AntifraudSettings


@dataclass(frozen=True, kw_only=True)
class Antifraud:
    """Transfer holds, the mule list and call screening."""

    holds: TransferHolds
    mules: MuleList
    calls: CallScreening
    reports: AfcReports


def build_antifraud(*, settings: AntifraudSettings, db: Database, audit: AuditLog) -> Antifraud:
    """Wire the domain; the transfer model is loaded now (or its absence logged)."""
    model = try_load_model(settings.model or MODEL_PATH)
    calls = CallScreening(db=db, audit=audit, model=try_load_screen_model())
    return Antifraud(
        holds=TransferHolds(db=db, audit=audit, settings=settings, model=model, calls=calls),
        mules=MuleList(db=db, audit=audit),
        calls=calls,
        reports=AfcReports(db=db, audit=audit, calls=calls),
    )
