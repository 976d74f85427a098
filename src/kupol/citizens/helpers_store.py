"""Tables of the public-order helpers: volunteers (citizens signed up by phone, registered by
the police), their patrol areas, shifts and the recognition they earned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class PatrolAreaRow(Base):
    """Where helpers patrol: a named circle (a district's streets, a park, a station)."""

    __tablename__ = "helper_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    """The region (plate code) its centre lies in."""
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HelperRow(Base):
    """A volunteer helper: applied from the portal, approved (or not) by an operator."""

    __tablename__ = "public_helpers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), unique=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    motivation: Mapped[str] = mapped_column(Text, default="")
    home_area_id: Mapped[int | None] = mapped_column(ForeignKey("helper_areas.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="applied", index=True)
    """applied, active, declined, suspended."""
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ShiftRow(Base):
    """A helper's shift in an area: planned, then attended (checked in and out on the spot),
    missed or cancelled."""

    __tablename__ = "helper_shifts"
    __table_args__ = (
        Index("ix_helper_shifts_helper_start", "helper_id", "start"),
        Index("ix_helper_shifts_area_start", "area_id", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("public_helpers.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("helper_areas.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="planned")
    """planned, attended, no_show, cancelled."""
    checked_in: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_out: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    planned_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class RecognitionRow(Base):
    """Recognition a helper earned for a period (a thanks letter, a badge, a reward), once."""

    __tablename__ = "helper_recognitions"
    __table_args__ = (UniqueConstraint("helper_id", "level", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("public_helpers.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(24))
    period: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    amount_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    awarded_by: Mapped[str] = mapped_column(String(64))
