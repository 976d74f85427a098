"""Tables of the citizens' side: citizens (signed up by phone), the codes sent to them, and
their reports with the media kept in the evidence vault."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class CitizenRow(Base):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    """E.164: +77011234567."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    """Their kupol account (role ``citizen``): their token is its token."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CodeRow(Base):
    """A verification code sent by text (kept hashed)."""

    __tablename__ = "citizen_codes"
    __table_args__ = (Index("ix_citizen_codes_phone_sent", "phone", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReportRow(Base):
    """What a citizen reported, its media in the vault, and what became of it."""

    __tablename__ = "citizen_reports"
    __table_args__ = (Index("ix_citizen_reports_citizen_submitted", "citizen_id", "submitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    """traffic_violation, public_order, lost_person, suspicious_object, fraud_call."""
    description: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the citizen says it happened."""
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(8))
    """media (its metadata) or map (the citizen's pick)."""
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    media: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    """Per file: its evidence id, type, size, what its metadata says (time, place, software)."""
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    """What the intake checks found (metadata against the claim, a re-used image …)."""
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    """submitted, in_review, confirmed, rejected, duplicate, appealed."""
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reward_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The vehicle's plate, as the officer read it from the media (traffic reports)."""
    media_hash: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The first photo's (or video frame's) 64-bit perceptual hash, as a signed integer."""
    case_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """The case of reports of one event (:mod:`kupol.citizens.dedup`)."""
    offence: Mapped[str | None] = mapped_column(String(60), nullable=True)
    """A confirmed traffic report: the offence (the legal table's name)."""
    violation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The traffic violation the case became (one per case, reviewed and signed as any)."""
    reward_reversal: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the report's reward was taken back (the fine refunded, the decision overturned)."""
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The incident a confirmed non-traffic report became."""
    region: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    """The region (its plate code) the report's place lies in; None outside Kazakhstan."""
    plates_read: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    """Plates the plate reader found in the media (text, confidence, frames), best first."""
    appeal_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LedgerEntryRow(Base):
    """One entry of the rewards ledger, append-only (:mod:`kupol.citizens.ledger` replays them)."""

    __tablename__ = "citizen_ledger"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12))
    entry: Mapped[dict[str, object]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
