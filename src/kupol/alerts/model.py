"""Tables of the alerts domain: rules, alerts, and which events an alert gathered."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    severity: Mapped[str] = mapped_column(String(16))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    camera_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    active_from: Mapped[str | None] = mapped_column(String(5), nullable=True)
    active_to: Mapped[str | None] = mapped_column(String(5), nullable=True)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Almaty")
    cooldown_s: Mapped[int] = mapped_column(Integer, default=60)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_raised", "status", "raised_at"),
        Index("ix_alerts_rule_camera_subject_status", "rule_id", "camera_id", "subject", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"))
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    subject: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """A digest of what the alert's events are about (:func:`subject_key`); empty: nothing
    named. Events about another subject do not join the alert."""
    first_event_id: Mapped[UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    close_comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertEvent(Base):
    __tablename__ = "alert_events"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    event_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
