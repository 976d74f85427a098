"""Group commit: many threads' rows in few transactions, each caller back only once its rows
are stored, and a failed batch reported to every caller in it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kupol.antifraud.groupcommit import GroupWriter
from kupol.antifraud.model import CallDecision


class FakeSession:
    def __init__(self, store: FakeDb) -> None:
        self.store = store
        self.rows: list[Any] = []

    def execute(self, _statement: Any, rows: Any) -> None:
        self.rows.extend(r["n"] for r in rows)


class FakeDb:
    def __init__(self) -> None:
        self.committed: list[list[Any]] = []
        self.fail_next = False

    @contextmanager
    def unit_of_work(self) -> Iterator[FakeSession]:
        session = FakeSession(self)
        yield session
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("disk full")
        self.committed.append(session.rows)


def test_every_caller_returns_with_its_rows_stored_in_few_transactions() -> None:
    db = FakeDb()
    writer = GroupWriter(db, CallDecision)  # type: ignore[arg-type]
    threads = [threading.Thread(target=writer.write, args=([{"n": i}],)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    stored = sorted(row for batch in db.committed for row in batch)
    assert stored == list(range(200))
    assert len(db.committed) < 200  # rows waiting together shared a commit


def test_a_failed_batch_is_reported_to_its_callers_and_the_writer_goes_on() -> None:
    db = FakeDb()
    writer = GroupWriter(db, CallDecision)  # type: ignore[arg-type]
    db.fail_next = True
    with pytest.raises(RuntimeError, match="disk full"):
        writer.write([{"n": "lost"}])
    writer.write([{"n": "kept"}])
    assert db.committed == [["kept"]]


def test_coroutines_wait_for_their_commit_without_blocking_the_loop() -> None:
    import asyncio

    db = FakeDb()
    writer = GroupWriter(db, CallDecision)  # type: ignore[arg-type]

    async def main() -> None:
        await asyncio.gather(*(writer.write_async([{"n": i}]) for i in range(100)))
        db.fail_next = True
        with pytest.raises(RuntimeError, match="disk full"):
            await writer.write_async([{"n": "lost"}])
        await writer.write_async([{"n": "kept"}])

    asyncio.run(main())
    stored = [row for batch in db.committed for row in batch]
    assert sorted(stored[:-1]) == list(range(100)) and stored[-1] == "kept"
    assert "lost" not in stored


def test_a_coroutine_whose_commit_does_not_come_hears_so_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import time

    from kupol.antifraud import groupcommit

    monkeypatch.setattr(groupcommit, "WAIT_S", 0.3)
    monkeypatch.setattr(groupcommit, "_REAP_EVERY_S", 0.05)
    db = FakeDb()
    stuck = threading.Event()
    release = threading.Event()

    @contextmanager
    def hanging() -> Iterator[FakeSession]:
        stuck.set()
        release.wait(10)  # the database holds its lock
        yield FakeSession(db)

    monkeypatch.setattr(db, "unit_of_work", hanging)
    writer = GroupWriter(db, CallDecision)  # type: ignore[arg-type]

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="did not answer"):
            await writer.write_async([{"n": 1}])
        return time.monotonic() - started

    try:
        waited = asyncio.run(main())
    finally:
        release.set()
    assert stuck.is_set()
    assert 0.3 <= waited < 2.0
