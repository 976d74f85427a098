"""The transactional outbox: events a transaction produces are stored with it, then published.

A service that changes state and must announce it (an alert raised, events recorded) adds the
announcement to the outbox in the *same* transaction. After commit the :class:`OutboxRelay`
publishes pending messages and deletes them; if the bus refuses, they stay and the relay's
background loop tries again. So an announcement is neither lost (the change committed
without it) nor sent for a change that rolled back. Delivery is at-least-once: consumers
are idempotent by message id, as the bus contract requires anyway.

Several nodes share one outbox table (NATS and PostgreSQL). A row is *claimed* while someone
is publishing it (``claimed_until``): its writer claims it for ``grace_s`` when it adds it
(it publishes the row itself right after its commit, then deletes it with its next
transaction), and a background loop claims what it takes for as long as a publish may take.
A loop takes only unclaimed rows, or rows whose claim ran out (their node died or its bus
refused), and locks them while it claims them (``FOR UPDATE SKIP LOCKED``), so two nodes'
loops never publish the same rows and no loop publishes another node's fresh ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import String, Text, Uuid, delete, insert, or_, select, update
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
    # While someone publishes the row: its writer for a grace after the commit, or a relay's
    # background loop that took it. NULL or past: any node's loop may take it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def add_to_outbox(session: Session, events: Sequence[Event], *, claim_s: float = 0.0) -> None:
    """Store ``events`` for publication, in the caller's transaction, claimed by the writer
    for ``claim_s`` seconds (it publishes them itself after its commit)."""
    if not events:
        return
    now = utcnow()
    claimed_until = now + timedelta(seconds=claim_s) if claim_s > 0 else None
    session.execute(
        insert(OutboxMessage),
        [
            {
                "id": e.id,
                "created_at": now,
                "type": e.type_name(),
                "body": envelope(e).decode(),
                "claimed_until": claimed_until,
            }
            for e in events
        ],
    )


class OutboxRelay:
    """Publishes what transactions left in the outbox, in order, and then forgets it.

    ``grace_s``: how long a writer's own claim on the rows it adds lasts (0 where one process
    is the only relay: the in-process bus); ``lease_s``: how long a background loop's claim
    lasts (longer than a publish may take).
    """

    def __init__(
        self,
        *,
        db: Database,
        bus: Bus,
        batch: int = 500,
        interval_s: float = 1.0,
        grace_s: float = 0.0,
        lease_s: float = 30.0,
    ) -> None:
        self._db = db
        self._bus = bus
        self._batch = batch
        self._interval_s = interval_s
        self._grace_s = grace_s
        self._lease_s = lease_s
        # One lock per event loop: an asyncio lock wakes its waiters on its own loop only, and
        # a test or a command may flush from another loop while the server's relay runs.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._task: asyncio.Task[None] | None = None
        # Published but still in the table: deleted by the next transaction that adds to the
        # outbox (saving a commit per batch on the hot path) or by the background loop.
        self._published: list[UUID] = []
        # Added here and not published by publish_now (the bus refused them): this node's loop
        # takes them at its next round, its own claim notwithstanding.
        self._handed: set[UUID] = set()
        # The background loop's event loop and the event that wakes it before its interval.
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def add(self, session: Session, events: Sequence[Event]) -> None:
        """Store ``events`` in the caller's transaction, and drop rows already published."""
        done, self._published = self._published, []
        if done:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(done)))
        add_to_outbox(session, events, claim_s=self._grace_s)

    async def flush(self) -> int:
        """Publish every pending message, claimed or not; returns how many were published.

        For one process (tests, a command that must see its announcements out); a node among
        several leaves this to the background loop (:meth:`relay`), which takes only what is
        no one's. Raises the bus's error if it refuses (the messages stay for the next try).
        """
        return await self._publish_pending(everything=True)

    async def relay(self) -> int:
        """Publish what is pending and no one's: unclaimed rows, rows whose claim ran out,
        and the rows this node added but did not publish. Raises as :meth:`flush`."""
        return await self._publish_pending(everything=False)

    async def _publish_pending(self, *, everything: bool) -> int:
        published = 0
        async with self._lock():
            done, self._published = self._published, []
            if done:
                await asyncio.to_thread(self._forget, done)
            while True:
                rows = await asyncio.to_thread(self._claim, everything)
                if not rows:
                    return published
                messages = [decode(body.encode()) for _, body in rows]
                try:
                    await self._bus.publish(*(m for m in messages if isinstance(m, Event)))
                except Exception:
                    # Still claimed by this node: its next pass tries them again at once.
                    self._handed.update(row_id for row_id, _ in rows)
                    raise
                await asyncio.to_thread(self._forget, [row_id for row_id, _ in rows])
                published += len(rows)

    async def publish_now(self, events: Sequence[Event]) -> None:
        """Publish ``events`` a transaction just added to the outbox, then forget them.

        The fast path after a commit (no read back from the database); if the bus refuses,
        they stay in the outbox for the background loop. Never raises.
        """
        if not events:
            return
        if self._grace_s > 0:
            # The rows are this writer's by its claim, so no relay takes them meanwhile: the
            # consumer tasks of a node publish side by side. (They used to take turns, and
            # one that found another publishing left its events to the background loop — up
            # to ``interval_s`` later: a 1 s tail on alerts under load.)
            await self._publish_fresh(events)
            return
        if self._lock().locked():
            # A publication is under way — perhaps the very one whose consumer called us
            # (the in-process bus delivers inside publish): waiting would deadlock. The
            # background loop is woken to publish these as soon as that one is done.
            self._hand_over(events)
            self._wake_loop()
            return
        async with self._lock():
            await self._publish_fresh(events)

    async def _publish_fresh(self, events: Sequence[Event]) -> None:
        try:
            await self._bus.publish(*events)
            self._published.extend(e.id for e in events)
        except Exception as exc:
            self._hand_over(events)
            log.warning("outbox not published yet, will retry: %s", exc)

    def _hand_over(self, events: Sequence[Event]) -> None:
        if self._grace_s > 0:  # else the rows are no one's already
            self._handed.update(e.id for e in events)

    def _wake_loop(self) -> None:
        if self._wake is None:
            return
        loop, wake = self._wake
        if loop is asyncio.get_running_loop():
            wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # that loop closed: nothing to wake
                loop.call_soon_threadsafe(wake.set)

    async def flush_quietly(self) -> None:
        """Flush, logging instead of raising (the background loop retries)."""
        try:
            await self.flush()
        except Exception as exc:
            log.warning("outbox not published yet, will retry: %s", exc)

    async def _relay_quietly(self) -> None:
        try:
            await self.relay()
        except Exception as exc:
            log.warning("outbox not published yet, will retry: %s", exc)

    def start(self) -> None:
        """Retry pending messages in the background (left by a crash or a refused publish)."""
        loop = asyncio.get_running_loop()
        self._wake = (loop, asyncio.Event())
        self._task = loop.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop the background loop (pending messages stay in the database)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._wake = None

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake[1]
        while True:
            wake.clear()
            await self._relay_quietly()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._interval_s)

    def pending_count(self) -> int:
        """How many messages wait to be published."""
        with self._db.reader() as session:
            ids = set(session.scalars(select(OutboxMessage.id)))
        return len(ids - set(self._published))

    def _claim(self, everything: bool) -> list[tuple[UUID, str]]:
        """The next rows to publish, claimed for ``lease_s`` in one transaction (rows another
        node is claiming at this moment are skipped, not waited for)."""
        now = utcnow()
        handed = set(self._handed)
        query = (
            select(OutboxMessage.id, OutboxMessage.body)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(self._batch)
        )
        if not everything:
            free = [OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now]
            if handed:
                free.append(OutboxMessage.id.in_(list(handed)))
            query = query.where(or_(*free))
        # A read first: nothing to publish (the usual case) takes no write lock — on SQLite a
        # write transaction every second would hold up every writer of the node meanwhile.
        with self._db.reader() as session:
            pending = session.execute(query.with_only_columns(OutboxMessage.id).limit(1)).first()
        rows: list[tuple[UUID, str]] = []
        if pending is not None:
            with self._db.unit_of_work() as session:
                locked = query.with_for_update(skip_locked=True)
                rows = [(row[0], row[1]) for row in session.execute(locked).all()]
                if rows:
                    session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_([row_id for row_id, _ in rows]))
                        .values(claimed_until=now + timedelta(seconds=self._lease_s))
                    )
        if len(rows) < self._batch:
            self._handed -= handed  # taken by now, or gone (published by a flush, rolled back)
        else:
            self._handed -= {row_id for row_id, _ in rows}
        return rows

    def _forget(self, ids: list[UUID]) -> None:
        with self._db.unit_of_work() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
