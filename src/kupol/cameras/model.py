"""The cameras table."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class CameraKind(enum.StrEnum):
    FIXED = "fixed"
    PTZ = "ptz"
    DRONE = "drone"
    ROBOT = "robot"
    BODYCAM = "bodycam"
    CITIZEN = "citizen"
    """The citizens' portal: what the public sends in (no stream)."""


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    stream_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    zones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    analytics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
