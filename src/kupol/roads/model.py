"""Tables of the road-safety domain: accidents, their imports, and the official crime figures
by region."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class AccidentImport(Base):
    """One file imported: every row is imported, already known, or rejected with a reason."""

    __tablename__ = "accident_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    mapping: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The rejected rows: line, reference, reason (the rows themselves are in the file)."""
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Accident(Base):
    """A road accident (ДТП) as the police recorded it."""

    __tablename__ = "accidents"
    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        Index("ix_accidents_occurred", "occurred_at"),
        Index("ix_accidents_region_occurred", "region_code", "occurred_at"),
        Index("ix_accidents_h3", "h3_cell"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("accident_imports.id"), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_time: Mapped[str] = mapped_column(String(19))
    """The local wall time, ``YYYY-MM-DDTHH:MM:SS``, for counts by hour, weekday and month."""
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    h3_cell: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The place's H3 cell at the registry's finest resolution (coarser ones derive from it)."""
    region_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    district: Mapped[str | None] = mapped_column(String(80), nullable=True)
    road: Mapped[str | None] = mapped_column(String(80), nullable=True)
    road_class: Mapped[str] = mapped_column(String(12), default="unknown")
    kind: Mapped[str] = mapped_column(String(16), default="other")
    severity: Mapped[str] = mapped_column(String(12))
    killed: Mapped[int] = mapped_column(Integer, default=0)
    injured: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int | None] = mapped_column(Integer, nullable=True)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    light: Mapped[str] = mapped_column(String(12), default="unknown")
    weather: Mapped[str] = mapped_column(String(12), default="unknown")
    surface: Mapped[str] = mapped_column(String(12), default="unknown")
    speed_limit_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Linked records: ``{"kind": "violation" | "evidence" | "incident", "id": …}``."""
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The source's own fields the mapping keeps (e.g. junction detail)."""
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CrimeFigure(Base):
    """One line of an official crime report (form 1-M) for a region and period: offences
    registered and in proceedings, by Criminal Code article or chapter."""

    __tablename__ = "crime_figures"
    __table_args__ = (UniqueConstraint("region_code", "period", "line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(20))
    line: Mapped[int] = mapped_column(Integer)
    """The report's line code (шифр строки)."""
    article: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The article (``190``, ``345-1``); None for totals and chapters."""
    chapter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(Text)
    in_proceedings: Mapped[int] = mapped_column(Integer)
    registered: Mapped[int] = mapped_column(Integer)
    source_file: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoadMeasure(Base):
    """A measure put in place at sites — smart crosswalks, cameras, speed bumps — kept so that
    its evaluation can be run again as the after period fills."""

    __tablename__ = "road_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    installed_on: Mapped[str] = mapped_column(String(10))
    """ISO date (local)."""
    radius_m: Mapped[float] = mapped_column(Float)
    sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    comparison: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
