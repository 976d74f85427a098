"""Tables of the driving-school registry: schools and what they register (branches,
instructors, vehicles, cadets, lessons, exam attempts), the state examiners, graduates'
first two years, complaints — and the inspectors' side: flags and inspections.

Identifiers are the registry's own (a school's BIN-based id, a cadet's registration number):
strings, kept as given, so records from the national registry import as they are.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class SchoolRow(Base):
    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(60), index=True)
    licence_no: Mapped[str] = mapped_column(String(60))
    """The licence or notification number it trains under."""
    registered_on: Mapped[date] = mapped_column(Date)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)


class BranchRow(Base):
    __tablename__ = "school_branches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class InstructorRow(Base):
    __tablename__ = "school_instructors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)


class VehicleRow(Base):
    __tablename__ = "school_vehicles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    plate: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(4))


class ExaminerRow(Base):
    __tablename__ = "school_examiners"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    region: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(200))


class CadetRow(Base):
    __tablename__ = "school_cadets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(4))
    registered_on: Mapped[date] = mapped_column(Date)
    instructor_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    licence_no: Mapped[str | None] = mapped_column(String(40), nullable=True)


class LessonRow(Base):
    __tablename__ = "school_lessons"
    __table_args__ = (Index("ix_school_lessons_instructor_start", "instructor_id", "start"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    cadet_id: Mapped[str] = mapped_column(String(40), index=True)
    instructor_id: Mapped[str] = mapped_column(String(40))
    vehicle_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[str] = mapped_column(String(10))
    start: Mapped[datetime] = mapped_column()
    """Local wall-clock time, as the school's journal logs it."""
    end: Mapped[datetime] = mapped_column()
    start_lat: Mapped[float] = mapped_column(Float)
    start_lon: Mapped[float] = mapped_column(Float)
    end_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_lon: Mapped[float | None] = mapped_column(Float, nullable=True)


class ExamRow(Base):
    __tablename__ = "school_exams"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    cadet_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    stage: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    taken_at: Mapped[datetime] = mapped_column()
    examiner_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)


class GraduateRow(Base):
    """A licensed graduate's first two years, joined by licence from the registries."""

    __tablename__ = "school_graduates"

    cadet_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    licence_no: Mapped[str] = mapped_column(String(40))
    licensed_on: Mapped[date] = mapped_column(Date)
    exposure_years: Mapped[float] = mapped_column(Float)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    accidents: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintRow(Base):
    __tablename__ = "school_complaints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    upheld: Mapped[bool] = mapped_column(Boolean)
    instructor_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class FlagRow(Base):
    """An anomaly found by a check run, open until an inspection deals with it."""

    __tablename__ = "school_flags"
    __table_args__ = (Index("ix_school_flags_school_status", "school_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    """kind:subject_kind:subject_id:digest of the reason — a later run finding it again
    updates it, not doubles it."""
    kind: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    region: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")
    """open, inspected (an inspection took it up), dismissed."""
    first_found: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_found: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    inspection_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class InspectionRow(Base):
    """An inspector's visit to a school: what was found, what sanction followed."""

    __tablename__ = "school_inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(64))
    findings: Mapped[str] = mapped_column(Text)
    sanction: Mapped[str] = mapped_column(String(20))
    """none, warning, fine, suspension, revocation (of the licence or notification)."""
    fine_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flag_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
