"""Tables of incidents and the evidence linked to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class Incident(Base):
    """Something that happened at a place over a time: an accident, an assault, a theft…"""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_time", "occurred_from", "occurred_to"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    occurred_from: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_to: Mapped[datetime] = mapped_column(UTCDateTime())
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float, default=300.0)
    case_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IncidentEvidence(Base):
    """An evidence item linked to an incident: automatically (time and place) or by hand."""

    __tablename__ = "incident_evidence"
    __table_args__ = (UniqueConstraint("incident_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"))
    how: Mapped[str] = mapped_column(String(10))
    """auto or manual."""
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
