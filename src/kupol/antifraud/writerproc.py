"""Decisions stored by a process of their own, for the event loop that screens calls.

At thousands of calls a second the group commit's thread (:mod:`~kupol.antifraud.groupcommit`)
and the event loop share one interpreter lock: the thread's share of the work (converting each
row for the driver, waking the waiters) and every hand-over of the lock between the two —
a thread that released it for the database waits up to the interpreter's switch interval to
get it back from a busy loop — put milliseconds on every call (measured on the switches'
port: at 4,000 calls/s p50 79 ms with the thread, 1.5 ms with nothing stored). Here a child
process owns the storing: the loop hands it each turn's rows as one message on a socket pair
(no thread, no lock), the child inserts everything that has arrived in one transaction
(:meth:`~kupol.core.db.Database.insert_many`, the same rows the thread would store) and
answers with the number of the last row stored; the loop then wakes the calls whose rows are
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
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from kupol.core.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

WAIT_S = 30.0  # a call waiting longer than this for its commit hears 503
MAX_BATCH = 5_000  # rows the child stores in one transaction at most
_HEADER = struct.Struct("!i")  # multiprocessing.Connection's framing: a signed length


class ProcessWriter:
    """Stores rows of ``table`` (``"module:Class"``, a model of :mod:`kupol.core.db`'s Base)
    in the database at ``url`` through a child process; :meth:`write_async` returns once they
    are committed. Bound to the event loop it is first used in (:meth:`usable`)."""

    def __init__(self, url: str, table: str) -> None:
        if not self.supports(url):
            raise ValueError(f"a process of its own cannot store into {url!r}")
        self._url = url
        self._table = table
        self._loop: asyncio.AbstractEventLoop | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._transport: asyncio.Transport | None = None
        self._outgoing: list[dict[str, Any]] = []  # rows of this turn, not yet sent
        self._sent = 0  # number of the last row sent
        # calls waiting, oldest first: (number of their last row, deadline, future)
        self._waiting: collections.deque[tuple[int, float, asyncio.Future[None]]] = (
            collections.deque()
        )
        self._reaping = False
        self._starting: asyncio.Task[None] | None = None
        self._drained: asyncio.Event | None = None  # set when no call waits (closing)
        self._buffer = bytearray()
        self.batches = 0  # messages sent (each turn's rows)

    @staticmethod
    def supports(url: str) -> bool:
        """Whether a child process can open the database at ``url``."""
        if url.startswith("sqlite"):
            path = url.partition(":///")[2]
            return bool(path) and not path.startswith(":memory:") and "mode=memory" not in url
        return True

    def usable(self) -> bool:
        """Whether the running event loop may use this writer (the first loop to use it)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        return self._loop is None or self._loop is loop

    async def write_async(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store ``rows``; returns once they are committed.

        Raises:
            ServiceUnavailableError: they could not be stored, or not within ``WAIT_S``.
        """
        loop = asyncio.get_running_loop()
        if self._transport is None:
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
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError("the decision writer belongs to another event loop")
        self._loop = loop
        if self._starting is None:
            self._starting = loop.create_task(self._start(loop))
        starting = self._starting
        try:
            await asyncio.shield(starting)
        finally:
            if starting.done() and self._starting is starting:
                self._starting = None

    async def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        sock, child = self._spawn()
        sock.setblocking(False)
        self._child = child
        transport, _ = await loop.connect_accepted_socket(lambda: _Replies(self), sock)
        self._transport = transport
        self._sent = 0
        self._buffer.clear()
        log.info("decisions are stored by process %d", child.pid)

    def _spawn(self) -> tuple[socket.socket, subprocess.Popen[bytes]]:
        """The child, and the parent's end of the socket pair it was handed."""
        sock, theirs = socket.socketpair()
        # A plain child (not multiprocessing's: the API may itself run in a daemonic process,
        # which may have none); the database's address goes by environment, not argv.
        env = dict(os.environ, KUPOL_WRITER_URL=self._url)
        with theirs:
            child = subprocess.Popen(
                [sys.executable, "-m", "kupol.antifraud.writerproc", str(theirs.fileno()),
                 self._table],
                pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        return sock, child

    def _flush(self) -> None:
        rows, self._outgoing = self._outgoing, []
        if not rows:
            return
        if self._transport is None:  # the child died this turn: the waiters heard already
            return
        payload = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        self._transport.write(_HEADER.pack(len(payload)) + payload)
        self._sent += len(rows)
        self.batches += 1

    def _received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                return
            message = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            stored, failure = pickle.loads(message)  # noqa: S301 - our own child's answer
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

    def _lost(self, exc: BaseException | None) -> None:
        """The child went away: everyone waiting hears it; the next call starts a new one."""
        self._transport = None
        child, self._child = self._child, None
        if child is not None:
            if child.poll() is None:  # its socket is gone but it runs on: no use any more
                child.kill()
            log.error("the decision writer stopped (exit code %s)", child.poll())
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
        now = time.monotonic()
        waiting = self._waiting
        for _, deadline, future in waiting:
            if deadline > now:
                break
            if not future.done():
                future.set_exception(
                    ServiceUnavailableError("the decision writer did not answer in time")
                )
        if waiting and self._loop is not None:
            self._loop.call_later(1.0, self._reap)
        else:
            self._reaping = False

    async def close(self, wait_s: float = 10.0) -> None:
        """Let the child store what it was handed — the calls waiting on it are answered —
        and stop; calls still waiting after ``wait_s`` hear 503."""
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


class _Replies(asyncio.Protocol):
    def __init__(self, writer: ProcessWriter) -> None:
        self._writer = writer

    def data_received(self, data: bytes) -> None:
        self._writer._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._writer._transport is not None:
            self._writer._lost(exc)


def main(argv: list[str]) -> None:
    """``python -m kupol.antifraud.writerproc FD TABLE``, the database's URL in
    ``KUPOL_WRITER_URL``: the child, on the socket it was handed."""
    fd, table = int(argv[0]), argv[1]
    _serve(multiprocessing.connection.Connection(fd), os.environ["KUPOL_WRITER_URL"], table)


def _serve(conn: multiprocessing.connection.Connection, url: str, table: str) -> None:
    """The child: store what arrives, one transaction for all that has arrived, and say up to
    which row it is stored (or why not). Stops when the parent closes its end."""
    from kupol.core.db import Database

    module, _, name = table.partition(":")
    model = getattr(importlib.import_module(module), name)
    db = Database.from_url(url)
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
            db.insert_many(model, rows)
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


if __name__ == "__main__":
    main(sys.argv[1:])
