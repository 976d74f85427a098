"""Decisions stored by a process of their own, for the event loop that screens calls.

At thousands of calls a second the group commit's thread (:mod:`~kupol.antifraud.groupcommit`)
and the event loop share one interpreter lock: the thread's share of the work (converting each
row for the driver, waking the waiters) and every hand-over of the lock between the two —
a thread that released it for the database waits up to the interpreter's switch interval to
get it back from a busy loop — put milliseconds on every call (measured on the switches'
port: at 4,000 calls/s p50 79 ms with the thread, 1.5 ms with nothing stored). Here a child
process owns the storing: the loop hands it each turn's rows as one message on a socket pair
(no thread, no lock), the child stores everything that has arrived in one transaction (for
the call decisions :func:`~kupol.antifraud.decision_store.store_decisions`: at the driver, and
with the block-list entries some calls earn) and answers with the number of the last row
stored; the loop then wakes the calls whose rows are
committed. A call is still answered only once its decision is stored.

If the child fails to store a batch, the calls in it hear 503 (as with the thread); if it
dies, the calls waiting hear 503 and the next call starts a new one. It works on a database
another process can open (a SQLite file, PostgreSQL), not on an in-memory SQLite.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib
import logging
import multiprocessing.connection
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from kupol.core.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

WAIT_S = 30.0  # a call waiting longer than this for its commit hears 503
MAX_BATCH = 5_000  # rows the child stores in one transaction at most
START_S = 30.0  # a child that has not opened the database by then is given up
_HEADER = struct.Struct("!i")  # multiprocessing.Connection's framing: a signed length


class ProcessWriter:
    """Stores rows in the database at ``url`` through a child process; :meth:`write_async`
    returns once they are committed. ``table`` (``"module:name"``) names what stores them
    there: a model of :mod:`kupol.core.db`'s Base (its rows, inserted at the driver) or a
    function ``(database, rows)`` that stores a batch in one transaction (the call decisions':
    :func:`kupol.antifraud.decision_store.store_decisions`). Bound to the event loop it is
    first used in (:meth:`usable`)."""

    def __init__(self, url: str, table: str) -> None:
        if not self.supports(url):
            raise ValueError(f"a process of its own cannot store into {url!r}")
        self._url = url
        self._table = table
        self._loop: asyncio.AbstractEventLoop | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._outgoing: list[dict[str, Any]] = []  # rows of this turn, not yet sent
        self._sent = 0  # number of the last row sent to the child running now
        # calls waiting, oldest first: (number of their last row, deadline, future)
        self._waiting: collections.deque[tuple[int, float, asyncio.Future[None]]] = (
            collections.deque()
        )
        self._reaping = False
        self._starting: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None  # the child's first word
        self._drained: asyncio.Event | None = None  # set when no call waits (closing)
        self._buffer = bytearray()
        self._retry_at = 0.0  # after a failed start, no new one before this (monotonic)
        self._backoff = 0.0
        self._closed = False
        self.batches = 0  # messages sent (each turn's rows)

    @staticmethod
    def supports(url: str) -> bool:
        """Whether a child process can open the database at ``url``."""
        if url.startswith("sqlite"):
            path = url.partition(":///")[2]
            return bool(path) and not path.startswith(":memory:") and "mode=memory" not in url
        return True

    def usable(self) -> bool:
        """Whether the running event loop may use this writer now: the first loop to use it,
        not closed, and not waiting out a failed start (the group commit's thread stores
        meanwhile)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._closed or (self._loop is not None and self._loop is not loop):
            return False
        return self._transport is not None or time.monotonic() >= self._retry_at

    async def write_async(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store ``rows``; returns once they are committed.

        Raises:
            ServiceUnavailableError: they could not be stored, not within ``WAIT_S``, or no
                child could be started.
        """
        loop = asyncio.get_running_loop()
        while self._transport is None:  # (a child lost between its start and this call)
            await self._started(loop)
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.extend(rows)
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append((self._sent + len(self._outgoing), time.monotonic() + WAIT_S, future))
        if not self._reaping:
            self._reaping = True
            loop.call_later(1.0, self._reap)
        await future

    async def _started(self, loop: asyncio.AbstractEventLoop) -> None:
        """A child running, its socket in ``loop`` (the calls that come meanwhile wait)."""
        if self._closed:
            raise ServiceUnavailableError("the decision writer is stopping")
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError("the decision writer belongs to another event loop")
        self._loop = loop
        if self._starting is None or self._starting.done():
            if time.monotonic() < self._retry_at:
                raise ServiceUnavailableError("the decision writer could not be started")
            self._starting = loop.create_task(self._start(loop))
        await asyncio.shield(self._starting)

    async def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a child and wait for its first word (its database opened); on failure, the
        next start waits 1 s, doubling up to a minute."""
        sock, child = self._spawn()
        self._ready = loop.create_future()
        try:
            sock.setblocking(False)
            transport, _ = await loop.connect_accepted_socket(lambda: _Replies(self), sock)
            self._child = child
            self._transport = transport
            self._sent = 0
            self._buffer.clear()
            await asyncio.wait_for(asyncio.shield(self._ready), START_S)
        except (OSError, TimeoutError, ServiceUnavailableError) as exc:
            if self._transport is None:
                sock.close()
            self._back_off()
            self._drop_child(child)
            log.error("the decision writer could not be started: %s", exc)
            raise ServiceUnavailableError(
                f"the decision writer could not be started: {exc}"
            ) from exc
        self._backoff = 0.0
        log.info("decisions are stored by process %d", child.pid)

    def _back_off(self) -> None:
        """No new start for 1 s after a failed one, doubling up to a minute."""
        self._backoff = min(60.0, self._backoff * 2 or 1.0)
        self._retry_at = time.monotonic() + self._backoff

    def _drop_child(self, child: subprocess.Popen[bytes]) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        if self._child is child:
            self._child = None
        if child.poll() is None:
            child.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(1)

    def _spawn(self) -> tuple[socket.socket, subprocess.Popen[bytes]]:
        """The child, and the parent's end of the socket pair it was handed."""
        sock, theirs = socket.socketpair()
        # A plain child (not multiprocessing's: the API may itself run in a daemonic process,
        # which may have none); the database's address goes by environment, not argv.
        env = dict(os.environ, KUPOL_WRITER_URL=self._url)
        try:
            with theirs:
                child = subprocess.Popen(
                    [sys.executable, "-m", "kupol.antifraud.writerproc", str(theirs.fileno()),
                     self._table],
                    pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
                )  # fmt: skip
        except OSError as exc:
            sock.close()
            self._back_off()
            raise ServiceUnavailableError(
                f"the decision writer could not be started: {exc}"
            ) from exc
        return sock, child

    def _flush(self) -> None:
        rows, self._outgoing = self._outgoing, []
        if not rows:
            return
        if self._transport is None:  # the child died this turn: its waiters heard already
            self._fail_after(self._sent, "the decision writer stopped; nothing was stored")
            return
        payload = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        cast(asyncio.Transport, self._transport).write(_HEADER.pack(len(payload)) + payload)
        self._sent += len(rows)
        self.batches += 1

    def _fail_after(self, number: int, why: str) -> None:
        """Fail the calls waiting on rows numbered above ``number`` (never sent)."""
        kept: collections.deque[tuple[int, float, asyncio.Future[None]]] = collections.deque()
        for entry in self._waiting:
            if entry[0] > number:
                if not entry[2].done():
                    entry[2].set_exception(ServiceUnavailableError(why))
            else:
                kept.append(entry)
        self._waiting = kept

    def _received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                return
            message = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            stored, failure = pickle.loads(message)  # noqa: S301 - our own child's answer
            ready = self._ready
            if ready is not None and not ready.done():  # its first word: (0, why not or None)
                if failure is None:
                    ready.set_result(None)
                else:
                    ready.set_exception(ServiceUnavailableError(failure))
                continue
            self._settle(stored, failure)

    def _settle(self, up_to: int, failure: str | None) -> None:
        """The rows up to number ``up_to`` are stored (or failed, with why)."""
        waiting = self._waiting
        while waiting and waiting[0][0] <= up_to:
            _, _, future = waiting.popleft()
            if future.done():  # timed out meanwhile
                continue
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(ServiceUnavailableError(failure))
        if not waiting and self._drained is not None:
            self._drained.set()

    def _lost(self, transport: asyncio.BaseTransport) -> None:
        """The child's socket closed: everyone waiting on it hears it; the next call starts
        a new child."""
        if transport is not self._transport:  # an earlier child's, already dealt with
            return
        self._transport = None
        child = self._child
        if child is not None:
            self._drop_child(child)
            log.error("the decision writer stopped (exit code %s)", child.returncode)
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(ServiceUnavailableError("the decision writer stopped at start"))
        while self._waiting:
            _, _, future = self._waiting.popleft()
            if not future.done():
                future.set_exception(
                    ServiceUnavailableError("the decision writer stopped; nothing was stored")
                )
        self._outgoing.clear()
        if self._drained is not None:
            self._drained.set()

    def _reap(self) -> None:
        """Calls waiting past their deadline hear 503 and are let go; a child that let one
        wait that long is taken for hung and replaced."""
        now = time.monotonic()
        waiting = self._waiting
        hung = False
        while waiting and (waiting[0][2].done() or waiting[0][1] <= now):
            _, _, future = waiting.popleft()
            if not future.done():
                hung = True
                future.set_exception(
                    ServiceUnavailableError("the decision writer did not answer in time")
                )
        if hung and self._child is not None:
            log.error("the decision writer did not answer for %.0f s: replacing it", WAIT_S)
            self._child.kill()  # its socket closes: _lost
        if waiting and self._loop is not None:
            self._loop.call_later(1.0, self._reap)
        else:
            self._reaping = False

    async def close(self, wait_s: float = 10.0) -> None:
        """Let the child store what it was handed — the calls waiting on it are answered —
        and stop; calls still waiting after ``wait_s`` hear 503."""
        self._closed = True
        starting = self._starting
        if starting is not None and not starting.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(starting)
        self._flush()
        if self._waiting and self._transport is not None:
            self._drained = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), wait_s)
        transport, self._transport = self._transport, None
        child, self._child = self._child, None
        if transport is not None:
            transport.close()
        while self._waiting:
            _, _, future = self._waiting.popleft()
            if not future.done():
                future.set_exception(ServiceUnavailableError("the decision writer stopped"))
        if child is not None:
            try:
                await asyncio.to_thread(child.wait, 10)
            except subprocess.TimeoutExpired:
                child.kill()
                await asyncio.to_thread(child.wait, 5)


class _Replies(asyncio.Protocol):
    def __init__(self, writer: ProcessWriter) -> None:
        self._writer = writer
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._writer._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._writer._lost(self._transport)


def _serve(conn: multiprocessing.connection.Connection, url: str, table: str) -> None:
    """The child: say whether the database opens, then store what arrives, one transaction
    for all that has arrived, and say up to which row it is stored (or why not). Stops when
    the parent closes its end; the terminal's and the service manager's signals are the
    parent's to act on (it closes its end once its calls are answered)."""
    from sqlalchemy import text

    from kupol.core.db import Database

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        module, _, name = table.partition(":")
        target = getattr(importlib.import_module(module), name)
        db = Database.from_url(url)
        if not hasattr(target, "__table__") and not callable(target):
            raise TypeError(f"{table} is neither a model nor a function")
        store: Callable[[Database, list[dict[str, Any]]], None] = (
            (lambda db, rows: db.insert_many(target, rows))
            if hasattr(target, "__table__")
            else target
        )
        with db.reader() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # the parent hears why and backs off
        with contextlib.suppress(OSError):
            conn.send_bytes(pickle.dumps((0, f"cannot store into the database: {exc}")))
        return
    conn.send_bytes(pickle.dumps((0, None)))
    stored = 0
    open_ = True
    while open_:
        try:
            rows: list[dict[str, Any]] = pickle.loads(conn.recv_bytes())  # noqa: S301 - ours
        except (EOFError, OSError):
            break
        try:
            while len(rows) < MAX_BATCH and conn.poll(0):
                rows.extend(pickle.loads(conn.recv_bytes()))  # noqa: S301 - the parent's
        except (EOFError, OSError):  # the parent is gone or stopping: store what came
            open_ = False
        failure: str | None = None
        try:
            store(db, rows)
        except Exception as exc:  # the waiters hear why; the child goes on
            failure = f"the decisions could not be stored: {exc}"
            log.error("%s", failure)
        stored += len(rows)
        try:
            conn.send_bytes(pickle.dumps((stored, failure)))
        except OSError:
            break
    with contextlib.suppress(Exception):
        db.dispose()


def main(argv: list[str]) -> None:
    """``python -m kupol.antifraud.writerproc FD TABLE``, the database's URL in
    ``KUPOL_WRITER_URL``: the child, on the socket it was handed."""
    fd, table = int(argv[0]), argv[1]
    _serve(multiprocessing.connection.Connection(fd), os.environ["KUPOL_WRITER_URL"], table)


if __name__ == "__main__":
    main(sys.argv[1:])
