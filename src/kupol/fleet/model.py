"""Tables of the fleet: units, their tracks, and the advisories their telemetry raised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class Unit(Base):
    """A drone, robot dog, patrol car or foot patrol, and its last known state."""

    __tablename__ = "fleet_units"
    __table_args__ = (
        UniqueConstraint("callsign"),
        UniqueConstraint("mavlink_sysid"),
        UniqueConstraint("camera_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callsign: Mapped[str] = mapped_column(String(32))
    """The unit's name on the air and in the topic: ``drone-1``, ``dog-park-2``."""
    kind: Mapped[str] = mapped_column(String(16))
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    endurance_min: Mapped[int] = mapped_column(Integer)
    max_speed_kmh: Mapped[float] = mapped_column(Float)
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    crew: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The crew or the operator flying or walking it."""
    mavlink_sysid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """A drone's MAVLink system id (1–255): its telemetry is matched by it."""
    camera_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The unit's camera in the camera registry: what it sees is placed on its track."""
    status: Mapped[str] = mapped_column(String(12), default="idle")
    """idle, on_mission, returning, charging, fault — set by people and by telemetry."""
    link: Mapped[str] = mapped_column(String(8), default="none")
    """none (never heard), ok, stale, lost."""
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    alt_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrackPoint(Base):
    """One telemetry sample of a unit: where it was, how fast, its battery."""

    __tablename__ = "fleet_track"
    __table_args__ = (Index("ix_fleet_track_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("fleet_units.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    alt_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(8))
    """mavlink or mqtt."""


class Advisory(Base):
    """What a unit's telemetry (or its silence) calls for: link stale or lost, battery low —
    return home. Open until the condition clears."""

    __tablename__ = "fleet_advisories"
    __table_args__ = (Index("ix_fleet_advisories_open", "unit_id", "kind", "cleared_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("fleet_units.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """link_stale, link_lost, battery_low (return home), battery_critical (land now)."""
    detail: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Geofence(Base):
    """A no-fly zone or a patrol area: a polygon of (latitude, longitude) points."""

    __tablename__ = "fleet_geofences"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    """no_fly or patrol_area."""
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Mission(Base):
    """A unit's mission: waypoints from home and back, checked before it is accepted."""

    __tablename__ = "fleet_missions"
    __table_args__ = (Index("ix_fleet_missions_unit", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("fleet_units.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    waypoints: Mapped[list[list[float]]] = mapped_column(JSON)
    """[latitude, longitude, altitude above home in metres] for each waypoint."""
    speed_mps: Mapped[float] = mapped_column(Float)
    patrol_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("fleet_geofences.id", ondelete="SET NULL"), nullable=True
    )
    length_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    path: Mapped[list[list[float]] | None] = mapped_column(JSON, nullable=True)
    """The whole way, home to home (over the streets for a ground unit)."""
    reached_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The last mission item the drone reported reached (MISSION_ITEM_REACHED)."""
    status: Mapped[str] = mapped_column(String(10))
    """planned, uploaded (to the drone's autopilot), active, done, aborted."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Dispatch(Base):
    """A unit sent to an incident (or a place): the route it was given and when it arrived."""

    __tablename__ = "fleet_dispatches"
    __table_args__ = (Index("ix_fleet_dispatches_unit", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("fleet_units.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    eta_s: Mapped[float] = mapped_column(Float)
    """The estimate when it was sent."""
    route: Mapped[list[list[float]]] = mapped_column(JSON)
    how: Mapped[str] = mapped_column(String(12))
    """roads (over the road graph), air (a drone, straight), estimate (no graph: straight × 1.4)."""
    status: Mapped[str] = mapped_column(String(10))
    """en_route, arrived, cancelled."""
    dispatched_by: Mapped[str] = mapped_column(String(64))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
