"""Group commit: many request threads each wait for their rows to be stored, and one writer
stores everything waiting in one transaction (inserted at the driver,
:meth:`~kupol.core.db.Database.insert_many`: the ORM's unit of work cost more than the rest of
a call's screening). Each caller returns only once its rows are committed (nothing
acknowledged is lost), while the database sees one commit per batch instead of one per
request — on SQLite, concurrent writers otherwise queue on its single write lock and its busy
timeout. The coroutines of one event loop waiting on a batch are woken together, with one
call into their loop (one each cost a wake-up of the loop per request)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kupol.core.db import Base, Database

MAX_BATCH = 2_000
WAIT_S = 30.0
_REAP_EVERY_S = 1.0


class GroupWriter:
    """Stores rows of ``table`` (as dicts of its columns) for many threads and coroutines, one
    transaction per batch."""

    def __init__(self, db: Database, table: type[Base]) -> None:
        self._db = db
        self._table = table
        self._queue: queue.Queue[_Waiter] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        # Per event loop, the requests waiting for their commit, oldest first, with deadlines.
        self._waiting: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, collections.deque[tuple[float, asyncio.Future[None]]]
        ] = weakref.WeakKeyDictionary()

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store ``rows``; returns once they are committed.

        Raises:
            Exception: whatever storing the batch raised (the rows are not stored).
            TimeoutError: the writer did not answer in time.
        """
        self._ensure_started()
        waiter = _Waiter(rows, done=threading.Event())
        self._queue.put(waiter)
        assert waiter.done is not None
        if not waiter.done.wait(WAIT_S):
            raise TimeoutError("the decision writer did not answer")
        if waiter.failure is not None:
            raise waiter.failure

    async def write_async(self, rows: Sequence[dict[str, Any]]) -> None:
        """Like :meth:`write` for a coroutine: the event loop is not blocked while it waits.

        The time-out is kept by one timer per event loop for every waiting request (a timer
        per request — ``asyncio.wait_for`` — cost 40 µs a call, a tenth of a screening)."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._watch(loop, future)
        self._queue.put(_Waiter(rows, loop=loop, future=future))
        await future

    def _watch(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        """Fail ``future`` with TimeoutError if it is still waiting after ``WAIT_S``."""
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = collections.deque()
            loop.call_later(_REAP_EVERY_S, self._reap, loop)
        waiting.append((time.monotonic() + WAIT_S, future))

    def _reap(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting[loop]
        now = time.monotonic()
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
            _, future = waiting.popleft()
            if not future.done():
                future.set_exception(TimeoutError("the decision writer did not answer"))
        if waiting:
            loop.call_later(_REAP_EVERY_S, self._reap, loop)
        else:
            del self._waiting[loop]

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
            failure: BaseException | None = None
            try:
                self._db.insert_many(self._table, [r for w in batch for r in w.rows])
            except BaseException as exc:  # every waiter hears why
                failure = exc
            finally:
                _wake(batch, failure)


@dataclass(slots=True)
class _Waiter:
    """Rows waiting to be stored, and who waits for them: a thread (``done``) or a coroutine
    (``future`` of ``loop``)."""

    rows: Sequence[dict[str, Any]]
    done: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    failure: BaseException | None = None


def _wake(batch: list[_Waiter], failure: BaseException | None) -> None:
    """Tell everyone in ``batch`` that its rows are stored (or why not): threads one by one,
    coroutines with one call into each event loop."""
    futures: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in batch:
        if waiter.done is not None:
            waiter.failure = failure
            waiter.done.set()
        elif waiter.loop is not None and waiter.future is not None:
            futures.setdefault(waiter.loop, []).append(waiter.future)
    for loop, waiting in futures.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: no one waits any more
            loop.call_soon_threadsafe(_settle, waiting, failure)


def _settle(futures: list[asyncio.Future[None]], failure: BaseException | None) -> None:
    for future in futures:
        if future.done():  # timed out meanwhile
            continue
        if failure is None:
            future.set_result(None)
        else:
            future.set_exception(failure)
