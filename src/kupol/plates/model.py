"""Tables of the plates domain: every plate a camera read (the sightings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime


class PlateSighting(Base):
    """A vehicle's plate read by a camera (voted over the vehicle's track)."""

    __tablename__ = "plate_sightings"
    __table_args__ = (
        Index("ix_plate_sightings_plate_seen", "plate", "seen_at"),
        Index("ix_plate_sightings_camera_seen", "camera_id", "seen_at"),
        Index("ix_plate_sightings_seen", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    """The message it came from: a redelivered one is stored once."""
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    plate: Mapped[str] = mapped_column(String(16))
    """Normalised: Latin letters and digits, no spaces (see kupol.plates.formats)."""
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confidence: Mapped[float] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Which way the vehicle moved past the camera (the camera's own words: in, out, north…)."""
    vehicle_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vehicle_colour: Mapped[str | None] = mapped_column(String(40), nullable=True)
    track: Mapped[str | None] = mapped_column(String(120), nullable=True)
    crop_uri: Mapped[str | None] = mapped_column(String(300), nullable=True)
    crop_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
