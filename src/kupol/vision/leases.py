"""Cameras shared out among vision workers through a lease table in the database (PostgreSQL
when several machines run workers; SQLite for one).

Each worker beats its heartbeat and renews its leases every ``ttl_s / 3``. A worker's fair
share is the number of cameras divided by the live workers (those that beat within
``ttl_s``), rounded up; it takes free or expired leases up to its share and gives back what it
holds above it, so a worker that joins gets cameras as the others shed theirs, and the cameras
of a worker that dies move to the others once its leases expire — within ``ttl_s`` plus one
beat (10 s with the defaults: ``ttl_s`` 7.5, a beat every 2.5 s). A lease is taken with one
conditional UPDATE (free, expired, or already this worker's), so two workers never hold one
camera: whoever's UPDATE the database applies first wins.

Example:
    >>> from kupol.core.db import Database
    >>> import kupol.tables; kupol.tables.import_all_tables()
    >>> from kupol.core.db import Base
    >>> db = Database.from_url("sqlite://"); Base.metadata.create_all(db.engine)
    >>> a = CameraLeases(db=db, worker="a", ttl_s=7.5)
    >>> sorted(a.beat(["c1", "c2", "c3"]))
    ['c1', 'c2', 'c3']
    >>> b = CameraLeases(db=db, worker="b", ttl_s=7.5)
    >>> _ = b.beat(["c1", "c2", "c3"]); _ = a.beat(["c1", "c2", "c3"])
    >>> len(a.beat(["c1", "c2", "c3"])), len(b.beat(["c1", "c2", "c3"]))
    (2, 1)
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from kupol.core.db import Database
from kupol.core.messages import utcnow
from kupol.vision.model import CameraLease, VisionWorkerRow


def default_worker_id() -> str:
    """``host-pid``: unique among the workers sharing one database."""
    return f"{socket.gethostname()}-{os.getpid()}"[:80]


class CameraLeases:
    """One worker's side of the lease table (see the module)."""

    def __init__(
        self, *, db: Database, worker: str, ttl_s: float = 7.5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:  # fmt: skip
        self._db = db
        self.worker = worker
        self.ttl = timedelta(seconds=ttl_s)
        self._clock = clock

    def beat(self, cameras: Sequence[str]) -> set[str]:
        """Heartbeat, renew, take up to the fair share, shed above it; returns the cameras this
        worker holds now (``cameras``: every camera that needs a pipeline)."""
        now = self._clock()
        until = now + self.ttl
        wanted = sorted(set(cameras))
        with self._db.unit_of_work() as session:
            if session.get(VisionWorkerRow, self.worker) is None:
                session.add(VisionWorkerRow(worker=self.worker, started_at=now, beat_at=now))
            else:
                session.execute(update(VisionWorkerRow)
                                .where(VisionWorkerRow.worker == self.worker)
                                .values(beat_at=now))  # fmt: skip
        with self._db.unit_of_work() as session:
            live = session.scalar(
                select(func.count()).select_from(VisionWorkerRow)
                .where(VisionWorkerRow.beat_at >= now - self.ttl)
            )  # fmt: skip
            share = math.ceil(len(wanted) / max(1, live or 1))
            leases = {r.camera_id: r for r in session.scalars(select(CameraLease))}
            for gone in set(leases) - set(wanted):
                if leases[gone].worker == self.worker:
                    session.delete(leases[gone])
            mine = [c for c in wanted if c in leases and leases[c].worker == self.worker]
            # Above the fair share: give back the last ones (another worker takes them).
            for camera in mine[share:]:
                ours = CameraLease.worker == self.worker
                session.execute(delete(CameraLease).where(CameraLease.camera_id == camera, ours))
            mine = mine[:share]
            if mine:
                session.execute(update(CameraLease)
                                .where(CameraLease.camera_id.in_(mine),
                                       CameraLease.worker == self.worker)
                                .values(expires_at=until))  # fmt: skip
        held = set(mine)
        for camera in wanted:
            if len(held) >= share:
                break
            if camera not in held and self._take(camera, now, until):
                held.add(camera)
        return held

    def _take(self, camera: str, now: datetime, until: datetime) -> bool:
        """Take ``camera``'s lease if it is free or expired (one conditional UPDATE)."""
        try:
            with self._db.unit_of_work() as session:
                taken = session.execute(
                    update(CameraLease)
                    .where(CameraLease.camera_id == camera,
                           or_(CameraLease.expires_at < now, CameraLease.worker == self.worker))
                    .values(worker=self.worker, expires_at=until, taken_at=now)
                )  # fmt: skip
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return True
                if session.get(CameraLease, camera) is None:
                    session.add(CameraLease(camera_id=camera, worker=self.worker,
                                            expires_at=until, taken_at=now))  # fmt: skip
                    session.flush()
                    return True
                return False
        except IntegrityError:  # another worker inserted it first
            return False

    def release(self) -> None:
        """Give back every lease and leave (a clean stop: the others take over at once)."""
        with self._db.unit_of_work() as session:
            session.execute(delete(CameraLease).where(CameraLease.worker == self.worker))
            session.execute(delete(VisionWorkerRow).where(VisionWorkerRow.worker == self.worker))

    def holders(self) -> dict[str, str]:
        """Every leased camera and its worker (expired leases included)."""
        with self._db.reader() as session:
            return {r.camera_id: r.worker for r in session.scalars(select(CameraLease))}
