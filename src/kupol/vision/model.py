"""The tracks table: one row per tracked object, kept current by one writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime


class TrackRecord(Base):
    __tablename__ = "tracks"
    __table_args__ = (
        Index("ix_tracks_camera_started", "camera_id", "started_at"),
        Index("ix_tracks_class_started", "object_class", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    run_id: Mapped[str] = mapped_column(String(40))
    track_id: Mapped[int] = mapped_column(Integer)
    object_class: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(8))  # active | ended
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    max_confidence: Mapped[float] = mapped_column(Float)
    last_box: Mapped[list[float]] = mapped_column(JSON)
    path: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    updates: Mapped[int] = mapped_column(Integer, default=0)

    @staticmethod
    def key(camera_id: str, run_id: str, track_id: int) -> str:
        """The row id of a track."""
        return f"{camera_id}/{run_id}/{track_id}"

    def summary(self) -> dict[str, Any]:
        """The row as plain values."""
        return {
            "id": self.id,
            "camera_id": self.camera_id,
            "track_id": self.track_id,
            "object_class": self.object_class,
            "state": self.state,
            "started_at": self.started_at,
            "last_seen_at": self.last_seen_at,
            "ended_at": self.ended_at,
            "max_confidence": self.max_confidence,
        }


class VisionWorkerRow(Base):
    """A vision worker process and its last heartbeat (:mod:`kupol.vision.leases`)."""

    __tablename__ = "vision_workers"

    worker: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CameraLease(Base):
    """Which worker runs a camera's pipeline, until when (renewed by its heartbeat)."""

    __tablename__ = "camera_leases"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker: Mapped[str] = mapped_column(String(80), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
