"""The users table, the fixed set of roles, recovery codes and session activity."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
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
    # The user's scope (scope.py): the cameras a person sees and a device may submit events
    # for, and the regions whose cameras a person sees. Both empty: every camera.
    camera_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    region_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(2), default="ru")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Two-factor sign-in (see mfa.py): the TOTP secret, encrypted; set but not yet enabled
    # while the user is enrolling.
    mfa_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last time step whose code was accepted: a code is never accepted twice.
    mfa_last_step: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app (lost phone); kept hashed."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SessionActivity(Base):
    """When a login token was last used, for the idle timeout (written at most once a minute
    per token; see sessions.py)."""

    __tablename__ = "session_activity"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
