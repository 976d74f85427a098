"""The transactional outbox: events a transaction produces are stored with it, then published.

A service that changes state and must announce it (an alert raised, events recorded) adds the
announcement to the outbox in the *same* transaction. After commit the :class:`OutboxRelay`
publishes pending messages and deletes them; if the bus refuses, they stay and the relay's
background loop tries again. So an announcement is neither lost (the change committed
without it) nor sent for a change that rolled back. Delivery is at-least-once: consumers
are idempotent by message id, as the bus contract requires anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import String, Text, Uuid, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kupol.core.bus import Bus
from kupol.core.db import Base, Database, UTCDateTime
from kupol.core.messages import Event, decode, envelope, utcnow

log = logging.getLogger(__name__)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)


def add_to_outbox(session: Session, events: Sequence[Event]) -> None:
    """Store ``events`` for publication, in the caller's transaction."""
    if not events:
        return
    now = utcnow()
    session.execute(
        insert(OutboxMessage),
        [
            {"id": e.id, "created_at": now, "type": e.type_name(), "body": envelope(e).decode()}
            for e in events
        ],
    )


class OutboxRelay:
    """Publishes what transactions left in the outbox, in order, and then forgets it."""

    def __init__(
        self, *, db: Database, bus: Bus, batch: int = 500, interval_s: float = 1.0
    ) -> None:
        self._db = db
        self._bus = bus
        self._batch = batch
        self._interval_s = interval_s
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Published but still in the table: deleted by the next transaction that adds to the
        # outbox (saving a commit per batch on the hot path) or by the background loop.
        self._published: list[UUID] = []

    def add(self, session: Session, events: Sequence[Event]) -> None:
        """Store ``events`` in the caller's transaction, and drop rows already published."""
        done, self._published = self._published, []
        if done:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(done)))
        add_to_outbox(session, events)

    async def flush(self) -> int:
        """Publish every pending message; returns how many were published.

        Raises the bus's error if it refuses (the messages stay for the next try).
        """
        published = 0
        async with self._lock:
            done, self._published = self._published, []
            if done:
                await asyncio.to_thread(self._forget, done)
            while True:
                rows = await asyncio.to_thread(self._pending)
                if not rows:
                    return published
                messages = [decode(body.encode()) for _, body in rows]
                await self._bus.publish(*(m for m in messages if isinstance(m, Event)))
                await asyncio.to_thread(self._forget, [row_id for row_id, _ in rows])
                published += len(rows)

    async def publish_now(self, events: Sequence[Event]) -> None:
        """Publish ``events`` a transaction just added to the outbox, then forget them.

        The fast path after a commit (no read back from the database); if the bus refuses,
        they stay in the outbox for the background loop. Never raises.
        """
        if not events:
            return
        if self._lock.locked():
            # A publication is under way — perhaps the very one whose consumer called us
            # (the in-process bus delivers inside publish): waiting would deadlock. The
            # background loop publishes these within ``interval_s``.
            return
        try:
            async with self._lock:
                await self._bus.publish(*events)
                self._published.extend(e.id for e in events)
        except Exception as exc:
            log.warning("outbox not published yet, will retry: %s", exc)

    async def flush_quietly(self) -> None:
        """Flush, logging instead of raising (the background loop retries)."""
        try:
            await self.flush()
        except Exception as exc:
            log.warning("outbox not published yet, will retry: %s", exc)

    def start(self) -> None:
        """Retry pending messages in the background (left by a crash or a refused publish)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop the background loop (pending messages stay in the database)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.flush_quietly()
            await asyncio.sleep(self._interval_s)

    def pending_count(self) -> int:
        """How many messages wait to be published."""
        with self._db.reader() as session:
            ids = set(session.scalars(select(OutboxMessage.id)))
        return len(ids - set(self._published))

    def _pending(self) -> list[tuple[UUID, str]]:
        with self._db.reader() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.body)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
                .limit(self._batch)
            ).all()
            return [(row[0], row[1]) for row in rows]

    def _forget(self, ids: list[UUID]) -> None:
        with self._db.unit_of_work() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
