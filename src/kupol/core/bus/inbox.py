"""Idempotent consumers: remember, per consumer, which event ids were already handled.

The inbox row is written in the same transaction as the consumer's own changes, so an
event redelivered after a crash is recognised and skipped — the effect happens once.

Example:
    >>> from kupol.core.db import Database, Base
    >>> db = Database.from_url("sqlite://")
    >>> Base.metadata.create_all(db.engine, tables=[InboxEntry.__table__])
    >>> from uuid import uuid4
    >>> first = uuid4()
    >>> with db.unit_of_work() as session:
    ...     claim(session, consumer="c", ids=[first]) == {first}
    True
    >>> with db.unit_of_work() as session:
    ...     claim(session, consumer="c", ids=[first])
    set()
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import String, Uuid, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kupol.core.db import Base, UTCDateTime
from kupol.core.messages import utcnow


class InboxEntry(Base):
    __tablename__ = "bus_inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def claim(session: Session, *, consumer: str, ids: Iterable[UUID]) -> set[UUID]:
    """Record ``ids`` as handled by ``consumer``; return those not handled before.

    If two workers race on the same id, the second transaction fails on the primary key
    and its events are redelivered, then skipped.
    """
    wanted = set(ids)
    if not wanted:
        return set()
    seen = set(
        session.scalars(
            select(InboxEntry.message_id).where(
                InboxEntry.consumer == consumer, InboxEntry.message_id.in_(wanted)
            )
        )
    )
    new = wanted - seen
    if new:
        now = utcnow()
        session.execute(
            insert(InboxEntry),
            [{"consumer": consumer, "message_id": i, "handled_at": now} for i in new],
        )
    return new
