"""Group commit: many threads' rows in few transactions, each caller back only once its rows
are stored, and a failed batch reported to every caller in it (on a real SQLite file)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kupol.antifraud.groupcommit import GroupWriter
from kupol.antifraud.model import CallDecision
from kupol.core.db import Database, make_engine


class CountingDb(Database):
    """A real SQLite database that counts the batches stored and can fail the next one."""

    def __init__(self, url: str) -> None:
        engine = make_engine(url)
        super().__init__(engine)
        self.committed: list[list[Any]] = []
        self.fail_next = False

    def insert_many(self, table: Any, rows: Any) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("disk full")
        super().insert_many(table, rows)
        self.committed.append([r["call_id"] for r in rows])

    def stored(self) -> list[str]:
        with self.reader() as session:
            return list(session.scalars(select(CallDecision.call_id).order_by(CallDecision.id)))


def row(n: object) -> dict[str, Any]:
    return {
        "call_id": str(n), "switch": "s", "at": datetime(2026, 12, 6, tzinfo=UTC),
        "caller": "+77011234567", "called": "+77017654321", "international": False,
        "verdict": "allow", "reasons": [], "imsi": None, "imei": None, "cell": None,
    }  # fmt: skip


@pytest.fixture
def db(sqlite_url: str) -> Iterator[CountingDb]:
    database = CountingDb(sqlite_url)
    yield database
    database.dispose()


def test_every_caller_returns_with_its_rows_stored_in_few_transactions(db: CountingDb) -> None:
    writer = GroupWriter(db, CallDecision)
    threads = [threading.Thread(target=writer.write, args=([row(i)],)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(int(n) for n in db.stored()) == list(range(200))
    assert len(db.committed) < 200  # rows waiting together shared a commit


def test_a_failed_batch_is_reported_to_its_callers_and_the_writer_goes_on(
    db: CountingDb,
) -> None:
    writer = GroupWriter(db, CallDecision)
    db.fail_next = True
    with pytest.raises(RuntimeError, match="disk full"):
        writer.write([row("lost")])
    writer.write([row("kept")])
    assert db.stored() == ["kept"]


def test_a_batch_the_database_refuses_fails_for_every_caller_in_it(db: CountingDb) -> None:
    import asyncio

    writer = GroupWriter(db, CallDecision)

    async def main() -> list[BaseException | None]:
        bad = row("bad") | {"verdict": None}  # NOT NULL: the whole batch is refused
        return await asyncio.gather(
            *(writer.write_async([r]) for r in (row("a"), bad, row("b"))), return_exceptions=True
        )

    outcomes = asyncio.run(main())
    # They may or may not have shared the bad row's batch; whoever did heard why.
    assert isinstance(outcomes[1], IntegrityError)
    refused = {n for n, o in zip("abc", outcomes, strict=True) if o is not None}
    assert set(db.stored()) == {"a", "b"} - refused


def test_coroutines_wait_for_their_commit_without_blocking_the_loop(db: CountingDb) -> None:
    import asyncio

    writer = GroupWriter(db, CallDecision)

    async def main() -> None:
        await asyncio.gather(*(writer.write_async([row(i)]) for i in range(100)))
        assert len(db.stored()) == 100  # all stored before any returned
        db.fail_next = True
        with pytest.raises(RuntimeError, match="disk full"):
            await writer.write_async([row("lost")])
        await writer.write_async([row("kept")])

    asyncio.run(main())
    stored = db.stored()
    assert sorted(int(n) for n in stored[:-1]) == list(range(100)) and stored[-1] == "kept"
    assert len(db.committed) < 100


def test_a_coroutine_whose_commit_does_not_come_hears_so_in_time(
    monkeypatch: pytest.MonkeyPatch, db: CountingDb
) -> None:
    import asyncio
    import time

    from kupol.antifraud import groupcommit

    monkeypatch.setattr(groupcommit, "WAIT_S", 0.3)
    monkeypatch.setattr(groupcommit, "_REAP_EVERY_S", 0.05)
    stuck = threading.Event()
    release = threading.Event()
    store = db.insert_many

    def hanging(table: Any, rows: Any) -> None:
        stuck.set()
        release.wait(10)  # the database holds its lock
        store(table, rows)

    monkeypatch.setattr(db, "insert_many", hanging)
    writer = GroupWriter(db, CallDecision)

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="did not answer"):
            await writer.write_async([row(1)])
        return time.monotonic() - started

    try:
        waited = asyncio.run(main())
    finally:
        release.set()
    assert stuck.is_set()
    assert 0.3 <= waited < 5.0  # its own time-out, long before the 10 s the database holds
