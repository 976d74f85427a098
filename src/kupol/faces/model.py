"""Tables of the faces domain: watchlists and their people, enrolled photos, faces seen by
cameras (sightings, kept for the retention window), and watchlist hits awaiting review."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class WatchlistKind(enum.StrEnum):
    WANTED = "wanted"
    MISSING = "missing"
    BANNED = "banned"
    OTHER = "other"


class HitStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Watchlist(Base):
    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    threshold: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Counts the changes to the list, its people and photos (the signal other processes
    watch to refresh their watchlist index)."""


class WatchlistPerson(Base):
    __tablename__ = "watchlist_persons"
    __table_args__ = (Index("ix_watchlist_persons_list", "watchlist_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"))
    name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(120), nullable=True)
    """Case or warrant number, missing-person report, venue ban order."""
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EnrolledPhoto(Base):
    __tablename__ = "watchlist_photos"
    __table_args__ = (Index("ix_watchlist_photos_person", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("watchlist_persons.id"))
    image_uri: Mapped[str] = mapped_column(String(300))
    """The photo as given, under the data folder."""
    crop_uri: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    template: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(40))
    quality: Mapped[float] = mapped_column(Float)
    box: Mapped[list[float]] = mapped_column(JSON)
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FaceSighting(Base):
    """A face a camera saw: the template searched retrospectively until it expires."""

    __tablename__ = "face_sightings"
    __table_args__ = (
        Index("ix_face_sightings_expires", "expires_at"),
        Index("ix_face_sightings_camera_seen", "camera_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    """The FaceObserved message it came from: a redelivered message is stored once."""
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    track: Mapped[str | None] = mapped_column(String(120), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    box: Mapped[list[float]] = mapped_column(JSON)
    quality: Mapped[float] = mapped_column(Float)
    template: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(40))
    crop_uri: Mapped[str] = mapped_column(String(300))
    crop_sha256: Mapped[str] = mapped_column(String(64))


class FaceHit(Base):
    """A watchlist person seen by a camera: a lead for an operator to confirm or reject."""

    __tablename__ = "face_hits"
    __table_args__ = (
        Index("ix_face_hits_status_last", "status", "last_seen_at"),
        Index("ix_face_hits_group", "camera_id", "person_id", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("watchlist_persons.id"))
    photo_id: Mapped[int] = mapped_column(ForeignKey("watchlist_photos.id"))
    """The enrolled photo that matched best."""
    sighting_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The best sighting (kept as a copy below: the sighting itself expires)."""
    track: Mapped[str | None] = mapped_column(String(120), nullable=True)
    similarity: Mapped[float] = mapped_column(Float)
    """Best similarity over the grouped sightings."""
    threshold: Mapped[float] = mapped_column(Float)
    """The list's threshold when the hit was raised."""
    probe_uri: Mapped[str] = mapped_column(String(300))
    probe_sha256: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sightings: Mapped[int] = mapped_column(Integer, default=1)
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=HitStatus.PENDING.value)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
