"""Tables of the evidence vault: items (a file and what it is) and their chains of custody.

The custody log is append-only (database triggers refuse UPDATE, DELETE and TRUNCATE), and
each item's entries form a hash chain, so an edit that gets past the triggers still shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class EvidenceItem(Base):
    """One piece of evidence: a stored file and its metadata."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        Index("ix_evidence_items_sha256", "sha256"),
        Index("ix_evidence_items_case", "case_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    officer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    gps: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    """The device's track while recording: [latitude, longitude, ISO time] points."""
    ingested_by: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Not to be deleted before this; empty: until its case closes (kept meanwhile)."""
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    """A legal hold: not to be deleted, whatever the retention says."""
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    derived_from: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"), nullable=True)
    """The original this item was made from (a redacted copy)."""
    attribution: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """For a registered device's clip: ``shift`` (its officer's shift covers it),
    ``unassigned`` (no shift does) or ``conflict`` (the clip names another officer)."""


class CustodyEntry(Base):
    """One action on an item; ``hash`` covers the entry and the item's previous entry."""

    __tablename__ = "evidence_custody"
    __table_args__ = (UniqueConstraint("item_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"))
    seq: Mapped[int] = mapped_column(Integer)
    """1, 2, 3 … within the item."""
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Device(Base):
    """A recording device: a body camera (video badge), a dash camera, a drone's camera."""

    __tablename__ = "evidence_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(Base):
    """A device in an officer's hands for a shift: what it records then is theirs."""

    __tablename__ = "evidence_assignments"
    __table_args__ = (Index("ix_evidence_assignments_device_start", "device_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("evidence_devices.id"))
    officer: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Empty: the shift has not ended (the device is still out)."""
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Redaction(Base):
    """A redaction of a clip: what was found to hide, what the officer changed, the result."""

    __tablename__ = "evidence_redactions"
    __table_args__ = (Index("ix_evidence_redactions_item", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"))
    status: Mapped[str] = mapped_column(String(12), default="detecting")
    """detecting, planned, rendering, done or failed."""
    every_s: Mapped[float] = mapped_column(Float, default=0.2)
    tracks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    kept: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Track ids the officer keeps visible (e.g. the suspect's face)."""
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_items.id"), nullable=True
    )
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
