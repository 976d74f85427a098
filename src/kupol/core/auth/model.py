"""The users table and the fixed set of roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class Role(enum.StrEnum):
    """What a user may do is decided by their roles (see :mod:`.permissions`)."""

    ADMIN = "admin"
    OPERATOR = "operator"
    ANALYST = "analyst"
    INVESTIGATOR = "investigator"
    TRAFFIC_OFFICER = "traffic_officer"
    FRAUD_ANALYST = "fraud_analyst"
    AUDITOR = "auditor"
    DEVICE = "device"  # cameras, edge boxes and drones that only submit events
    BANK = "bank"  # a bank's anti-fraud gateway: asks about transfers, reports answers
    TELECOM = "telecom"  # a mobile operator's switch or border controller: screens calls
    MOBILITY = "mobility"  # a rental e-scooter operator's system: sends its MDS/GBFS feeds
    CITIZEN = "citizen"  # a member of the public signed up by phone: reports, sees their own
    MONITOR = "monitor"  # Prometheus and the like: reads the metrics, nothing else


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Cameras this user may submit events for (devices); empty: any camera.
    camera_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(2), default="ru")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
