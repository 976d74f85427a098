"""Tables of the e-scooter registry: rental operators and their numbered, insured scooters; the
city's zones; the trips operators report (MDS) and the violations found on them; the fleet
counts their availability feeds (GBFS) show."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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


class OperatorRow(Base):
    __tablename__ = "scooter_operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The operator's MDS provider id (a UUID): its feeds are matched by it."""
    name: Mapped[str] = mapped_column(String(200))
    letter: Mapped[str] = mapped_column(String(1), unique=True)
    """The letter its scooters' numbers start with."""
    bin: Mapped[str] = mapped_column(String(12))
    """Business identification number."""
    fleet_cap: Mapped[int] = mapped_column(Integer)
    """How many scooters the city lets it put out at once."""
    account: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    """The kupol account (role ``mobility``) its system sends its feeds with."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScooterRow(Base):
    __tablename__ = "scooters"

    plate: Mapped[str] = mapped_column(String(8), primary_key=True)
    """Operator letter and up to five digits: W12345."""
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("scooter_operators.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The operator's MDS device id."""
    insurer: Mapped[str | None] = mapped_column(String(120), nullable=True)
    policy_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    insured_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ZoneRow(Base):
    __tablename__ = "scooter_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    """slow, no_ride, no_parking."""
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)
    max_speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    sidewalk: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TripRow(Base):
    __tablename__ = "scooter_trips"
    __table_args__ = (
        UniqueConstraint("operator_id", "trip_id"),
        Index("ix_scooter_trips_operator_day", "operator_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("scooter_operators.id", ondelete="CASCADE"))
    trip_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    rider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date)
    """The local day it started on: the compliance report's day."""
    distance_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    """GPS points of its route that were checked."""
    violations: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ViolationRow(Base):
    __tablename__ = "scooter_violations"
    __table_args__ = (Index("ix_scooter_violations_operator_at", "operator_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trip_row_id: Mapped[int] = mapped_column(
        ForeignKey("scooter_trips.id", ondelete="CASCADE"), index=True
    )
    operator_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    plate: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    rider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    limit_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    zone: Mapped[str | None] = mapped_column(String(120), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    operator_fine_tenge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """What the law fines the operator for it (speeding renters), as of its day."""
    operator_fine_basis: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the operator reported acting on it (its response time)."""
    resolution: Mapped[str | None] = mapped_column(String(120), nullable=True)
    """What it did: warned, fined or blocked the rider …"""


class AvailabilityRow(Base):
    """How many of an operator's scooters its GBFS feed showed out at one moment."""

    __tablename__ = "scooter_availability"
    __table_args__ = (Index("ix_scooter_availability_operator_at", "operator_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("scooter_operators.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    vehicles: Mapped[int] = mapped_column(Integer)
    unknown_plates: Mapped[int] = mapped_column(Integer, default=0)
    """Vehicles in the feed that are not registered scooters of the operator."""
