"""Group commit: many request threads each wait for their rows to be stored, and one writer
stores everything waiting in one transaction. Each caller returns only once its rows are
committed (nothing acknowledged is lost), while the database sees one commit per batch instead
of one per request — on SQLite, concurrent writers otherwise queue on its single write lock
and its busy timeout."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from kupol.core.db import Base, Database

MAX_BATCH = 2_000
WAIT_S = 30.0


class GroupWriter:
    """Stores rows for many threads, one transaction per batch."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.Queue[tuple[Sequence[Base], threading.Event, list[BaseException]]] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def write(self, rows: Sequence[Base]) -> None:
        """Store ``rows``; returns once they are committed.

        Raises:
            Exception: whatever storing the batch raised (the rows are not stored).
            TimeoutError: the writer did not answer in time.
        """
        self._ensure_started()
        done = threading.Event()
        failure: list[BaseException] = []
        self._queue.put((rows, done, failure))
        if not done.wait(WAIT_S):
            raise TimeoutError("the decision writer did not answer")
        if failure:
            raise failure[0]

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="kupol-group-commit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self._db.unit_of_work() as session:
                    for rows, _, _ in batch:
                        session.add_all(rows)
            except BaseException as exc:  # every waiter hears why
                for _, _, failure in batch:
                    failure.append(exc)
            finally:
                for _, done, _ in batch:
                    done.set()
