"""Tables of the traffic domain: violations and their review, the vehicle registry, notices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class Violation(Base):
    """A violation found by a camera, qualified by the legal table, waiting for an officer."""

    __tablename__ = "traffic_violations"
    __table_args__ = (
        Index("ix_traffic_violations_status_occurred", "status", "occurred_at"),
        Index("ix_traffic_violations_camera_occurred", "camera_id", "occurred_at"),
        Index("ix_traffic_violations_plate", "plate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    offence: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)
    plate_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    track: Mapped[str | None] = mapped_column(String(120), nullable=True)
    measured: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    article: Mapped[str] = mapped_column(String(20))
    part: Mapped[str | None] = mapped_column(String(10), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    fine_mrp: Mapped[float] = mapped_column(Float)
    mrp_tenge: Mapped[int] = mapped_column(Integer)
    fine_tenge: Mapped[int] = mapped_column(Integer)
    discount_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    discount_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending, approved or rejected."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    signed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The signed decision: the exact document and its signature (see traffic.signing)."""


class RegisteredVehicle(Base):
    """A vehicle's registered owner, imported from the registry's CSV."""

    __tablename__ = "vehicle_registry"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_name: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str] = mapped_column(String(12))
    """ИИН (individual) or БИН (organisation), 12 digits."""
    address: Mapped[str] = mapped_column(String(500))
    make: Mapped[str | None] = mapped_column(String(100), nullable=True)
    colour: Mapped[str | None] = mapped_column(String(60), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notice(Base):
    """The notice an approved violation produces for the vehicle's registered owner."""

    __tablename__ = "traffic_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("traffic_violations.id"), unique=True)
    plate: Mapped[str] = mapped_column(String(16))
    owner_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    """issued (to the registered owner) or owner_unknown (the plate is not in the registry:
    nothing is sent until it is)."""
    issued_on: Mapped[date] = mapped_column(Date)
    amount_tenge: Mapped[int] = mapped_column(Integer)
    discounted_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    discount_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    payment: Mapped[str] = mapped_column(String(20), default="unpaid")
    """unpaid, paid, cancelled or refunded (paid, then its resolution quashed)."""
    paid_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    payment_reference: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CrossingEvent(Base):
    """One thing a smart crossing counted: a pedestrian or vehicle that used it, a near miss,
    or a warning-device activation (with its latency from the deciding frame)."""

    __tablename__ = "crossing_events"
    __table_args__ = (Index("ix_crossing_events_crossing_at", "crossing_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    crossing_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    kind: Mapped[str] = mapped_column(String(20))
    """pedestrian, vehicle, near_miss, warning_on or warning_off."""
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Near miss: the time gap in seconds; activation: its latency in milliseconds."""
