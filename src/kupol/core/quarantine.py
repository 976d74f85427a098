"""Input that could not be accepted is kept here with the reason, never silently dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from kupol.core.db import Base, Database, UTCDateTime
from kupol.core.messages import utcnow


class QuarantinedInput(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[Any] = mapped_column(JSON)


class Quarantine:
    """Keeps rejected input for an operator to inspect and replay."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def keep(self, *, source: str, reason: str, body: Any) -> int:
        """Store one rejected input; returns its id."""
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        with self._db.unit_of_work() as session:
            row = QuarantinedInput(source=source[:200], reason=reason, body=body)
            session.add(row)
            session.flush()
            return row.id

    def recent(self, *, limit: int = 100) -> list[QuarantinedInput]:
        """The newest rejected inputs."""
        with self._db.reader() as session:
            return list(
                session.scalars(
                    select(QuarantinedInput).order_by(QuarantinedInput.id.desc()).limit(limit)
                )
            )
