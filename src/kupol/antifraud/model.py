"""Tables of the anti-fraud domain: transfers banks asked about, and mule accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class TransferCheck(Base):
    """One transfer a bank asked about, the decision, and what became of a hold."""

    __tablename__ = "transfer_checks"
    __table_args__ = (
        UniqueConstraint("bank", "bank_ref"),
        Index("ix_transfer_checks_status", "status", "asked_at"),
        Index("ix_transfer_checks_payer", "payer", "transfer_at"),
        Index("ix_transfer_checks_payee", "payee", "transfer_at"),
        Index("ix_transfer_checks_asked", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank: Mapped[str] = mapped_column(String(64))
    """The account the bank asked with."""
    bank_ref: Mapped[str] = mapped_column(String(64))
    """The bank's own reference of the transfer: asking again with it returns the decision."""
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    transfer_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    payer: Mapped[str] = mapped_column(String(64))
    payer_balance: Mapped[float] = mapped_column(Float)
    payee: Mapped[str] = mapped_column(String(64))
    payee_balance: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The model's fraud probability (none where the model could not be used)."""
    decision: Mapped[str] = mapped_column(String(8))
    """``allow`` or ``hold``."""
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    callers: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    """The suspicious numbers (E.164) that had just rung the payer (``suspicious_call``),
    ordered by their last call, the latest last, those whose calls were all blocked first:
    the money trail from a caught number to the accounts its victims paid."""
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    """``allowed``; or ``held``, then ``released`` (confirmed by the payer, or the period
    ran out) or ``cancelled`` (the payer or the bank stopped it: the money protected)."""
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)


class MuleAccount(Base):
    """An account known or suspected to pass on stolen money, with where that came from."""

    __tablename__ = "mule_accounts"
    __table_args__ = (UniqueConstraint("account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    """``known`` (confirmed: holds every transfer to it) or ``suspected``."""
    source: Mapped[str] = mapped_column(String(120))
    """Provenance: a case number, the Anti-Fraud Centre's report, a bank's notice."""
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberListEntry(Base):
    """A number on the block or allow list, with where that came from and until when."""

    __tablename__ = "number_lists"
    __table_args__ = (UniqueConstraint("number", "list"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    """E.164."""
    list: Mapped[str] = mapped_column(String(5))
    """``block`` or ``allow``."""
    source: Mapped[str] = mapped_column(String(160))
    """Provenance: a case, the Anti-Fraud Centre's report, ``auto: <rule> at <time>``."""
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallDecision(Base):
    """A call attempt screened through the API, and the verdict."""

    __tablename__ = "call_decisions"
    __table_args__ = (
        Index("ix_call_decisions_caller", "caller", "at"),
        Index("ix_call_decisions_called", "called", "at"),
        Index("ix_call_decisions_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64))
    switch: Mapped[str] = mapped_column(String(64))
    """The account the switch asked with."""
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    caller: Mapped[str] = mapped_column(String(32))
    called: Mapped[str] = mapped_column(String(32))
    international: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(String(5))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    imsi: Mapped[str | None] = mapped_column(String(16), nullable=True)
    imei: Mapped[str | None] = mapped_column(String(17), nullable=True)
    cell: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AfcReport(Base):
    """A suspicious number or account reported to the National Bank's Anti-Fraud Centre, with
    its evidence and the check the operator or bank owes within two working days."""

    __tablename__ = "afc_reports"
    __table_args__ = (
        UniqueConstraint("exchange_id"),
        Index("ix_afc_reports_status_due", "status", "due_by"),
        Index("ix_afc_reports_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(36))
    """The report's id in the exchange (a UUID), the same on both sides."""
    kind: Mapped[str] = mapped_column(String(8))
    """``number`` or ``account``."""
    subject: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(24))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_by: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))
    """``submitted``, then ``confirmed`` or ``rejected`` by the operator's or bank's check."""
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)


class VoiceRecording(Base):
    """A recording an analyst checked: a fraudster's call, a victim's complaint. kupol keeps
    its fingerprint (SHA-256), its speaker embedding and its synthetic-speech score, not the
    audio itself (that stays in the evidence vault or with whoever recorded it)."""

    __tablename__ = "voice_recordings"
    __table_args__ = (
        UniqueConstraint("sha256"),
        Index("ix_voice_recordings_number", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(10))
    """``call`` (a recorded fraud call), ``complaint`` (a victim's), ``other``."""
    reference: Mapped[str] = mapped_column(String(120))
    """Where it comes from: a call's id, a complaint's number, a case."""
    number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The fraudster's number as E.164, when known."""
    seconds: Mapped[float] = mapped_column(Float)
    synthetic: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The synthetic-speech detector's probability; None when no detector is loaded."""
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    """The speaker embedding: 256 float32, little-endian."""
    encoder: Mapped[str] = mapped_column(String(64))
    """The speaker model's SHA-256: embeddings of different models do not compare."""
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
