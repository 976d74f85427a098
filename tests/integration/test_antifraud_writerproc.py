"""Decisions stored by a process of their own: each call back only once its row is committed
(seen from another connection), a failed batch heard by its calls and not by the next, a dead
child heard by those waiting and replaced for the next call — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from kupol.antifraud.model import CallDecision, NumberListEntry
from kupol.antifraud.writerproc import ProcessWriter
from kupol.core.audit import AuditEntry, AuditLog
from kupol.core.db import Database
from kupol.core.errors import ServiceUnavailableError

TABLE = "kupol.antifraud.model:CallDecision"
STORE = "kupol.antifraud.decision_store:store_decisions"


def row(n: object, **changes: Any) -> dict[str, Any]:
    return {
        "call_id": str(n), "switch": "s", "at": datetime(2026, 12, 6, 8, 30, tzinfo=UTC),
        "caller": "+77011234567", "called": "+77017654321", "international": False,
        "verdict": "allow", "reasons": ["fan_out"], "imsi": None, "imei": None, "cell": None,
        **changes,
    }  # fmt: skip


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def stored(db: Database) -> list[str]:
    with db.reader() as session:
        return list(session.scalars(select(CallDecision.call_id).order_by(CallDecision.id)))


def test_each_call_returns_once_its_row_is_committed(database_url: str, db: Database) -> None:
    writer = ProcessWriter(database_url, TABLE)

    async def one(n: int) -> None:
        await writer.write_async([row(n)])
        assert str(n) in stored(db)  # committed: another connection sees it

    async def main() -> None:
        try:
            await asyncio.gather(*(one(n) for n in range(300)))
            await writer.write_async([row("last")])
        finally:
            await writer.close()

    asyncio.run(main())
    assert sorted(stored(db)) == sorted([str(n) for n in range(300)] + ["last"])
    assert writer.batches < 301  # the rows of one turn of the loop go as one message
    with db.reader() as session:
        first = session.scalars(select(CallDecision).where(CallDecision.call_id == "7")).one()
    assert first.at == datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
    assert first.reasons == ["fan_out"]
    assert first.international is False


def test_a_failed_batch_is_heard_by_its_calls_and_the_next_is_stored(
    database_url: str, db: Database
) -> None:
    writer = ProcessWriter(database_url, TABLE)

    async def main() -> list[BaseException | None]:
        try:
            # one turn, one batch: a row the table refuses (no caller) fails all of it
            results = await asyncio.gather(
                writer.write_async([row("good-1")]),
                writer.write_async([row("bad", caller=None)]),
                return_exceptions=True,
            )
            await writer.write_async([row("after")])  # the child goes on
            return list(results)
        finally:
            await writer.close()

    first, second = asyncio.run(main())
    assert isinstance(first, ServiceUnavailableError)
    assert isinstance(second, ServiceUnavailableError)
    assert "could not be stored" in str(second)
    assert stored(db) == ["after"]


def test_a_decision_that_lists_its_caller_is_stored_with_the_entry_and_its_audit(
    database_url: str, db: Database
) -> None:
    """The call decisions' store (as the switches' port uses it): a caller the screening has
    just listed is stored with its block-list entry and audit record, in the transaction of
    the decisions that came with it. An entry that cannot be stored (a caller's text longer
    than the lists take, on PostgreSQL; a malformed listing) is left out, the decisions are
    stored all the same; decisions that cannot be stored fail their whole batch."""
    writer = ProcessWriter(database_url, STORE)
    until = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    listed = {"source": "auto: fan_out_heavy (25 callees)", "expires_at": until}

    async def main() -> list[BaseException | None]:
        try:
            await asyncio.gather(
                writer.write_async([row("plain-1")]),
                writer.write_async([row("caught", caller="+77757770000", listed=listed)]),
                writer.write_async([row("plain-2")]),
            )
            await asyncio.gather(
                writer.write_async(
                    [row("long", caller="Private caller 0000000000", listed=listed)]
                ),
                writer.write_async([row("malformed", caller="+77757770001", listed={})]),
                writer.write_async([row("beside")]),
            )
            failed = await asyncio.gather(
                writer.write_async([row("with-bad")]),
                writer.write_async([row("bad", caller=None, listed=listed)]),
                return_exceptions=True,
            )
            await writer.write_async([row("after")])
            return list(failed)
        finally:
            await writer.close()

    failed = asyncio.run(main())
    assert all(isinstance(f, ServiceUnavailableError) for f in failed)
    assert stored(db) == ["plain-1", "caught", "plain-2", "long", "malformed", "beside", "after"]
    with db.reader() as session:
        entries = {e.number: e for e in session.scalars(select(NumberListEntry))}
        audit = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "block_list").order_by(AuditEntry.seq)
            )
        )
    caught = entries.pop("+77757770000")
    assert (caught.list, caught.source, caught.added_by, caught.active) == (
        "block",
        listed["source"],
        "screening",
        True,
    )
    assert caught.expires_at == until
    # SQLite does not hold text to its column's length; PostgreSQL refuses it: left out there
    assert list(entries) == ([] if db.dialect == "postgresql" else ["Private caller 0000000000"])
    assert (audit[0].actor, audit[0].resource_id) == ("screening", "+77757770000")
    assert len(audit) == 1 + len(entries)
    assert AuditLog(db).verify().ok


def test_a_dead_writer_is_heard_by_those_waiting_and_replaced(
    database_url: str, db: Database
) -> None:
    writer = ProcessWriter(database_url, TABLE)

    async def main() -> BaseException | None:
        try:
            await writer.write_async([row("before")])
            child = writer._child
            assert child is not None
            os.kill(child.pid, signal.SIGSTOP)  # it takes the row, and never answers
            waiting = asyncio.ensure_future(writer.write_async([row("lost?")]))
            await asyncio.sleep(0.2)
            os.kill(child.pid, signal.SIGKILL)
            failure = None
            try:
                await asyncio.wait_for(waiting, 10)
            except ServiceUnavailableError as exc:
                failure = exc
            await writer.write_async([row("after")])  # a new child
            assert writer._child is not None and writer._child.pid != child.pid
            return failure
        finally:
            await writer.close()

    failure = asyncio.run(main())
    assert isinstance(failure, ServiceUnavailableError)
    assert "stopped" in str(failure)
    assert stored(db) == ["before", "after"]


def test_close_stores_what_was_handed_over(database_url: str, db: Database) -> None:
    writer = ProcessWriter(database_url, TABLE)

    async def main() -> list[None]:
        await writer.write_async([row(0)])
        pending = [asyncio.ensure_future(writer.write_async([row(n)])) for n in range(1, 50)]
        await asyncio.sleep(0)  # they are handed over this turn
        await writer.close()
        return await asyncio.wait_for(asyncio.gather(*pending), 1)

    assert asyncio.run(main()) == [None] * 49  # each call heard its row stored
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(CallDecision)) == 50


def test_a_child_that_cannot_start_is_heard_at_once_and_not_restarted_for_each_call(
    database_url: str,
) -> None:
    writer = ProcessWriter(database_url, "kupol.antifraud.nothing_here:Nothing")

    async def main() -> tuple[BaseException | None, float, bool, bool]:
        started = time.monotonic()
        failure = None
        try:
            await writer.write_async([row(1)])
        except ServiceUnavailableError as exc:
            failure = exc
        took = time.monotonic() - started
        usable = writer.usable()  # backing off: the caller uses the group commit's thread
        try:
            await writer.write_async([row(2)])  # refused at once, no new child
            again = False
        except ServiceUnavailableError:
            again = True
        await writer.close()
        return failure, took, usable, again

    failure, took, usable, again = asyncio.run(main())
    assert isinstance(failure, ServiceUnavailableError)
    assert "cannot store" in str(failure) and "nothing_here" in str(failure)
    assert took < 20
    assert not usable
    assert again
    assert writer._child is None


def test_only_a_database_another_process_can_open(tmp_path: Any) -> None:
    assert ProcessWriter.supports(f"sqlite:///{tmp_path / 'k.sqlite'}")
    assert ProcessWriter.supports("postgresql+psycopg://postgres@127.0.0.1/test")
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:k?mode=memory&uri=true"):
        assert not ProcessWriter.supports(url)
        with pytest.raises(ValueError, match="cannot store"):
            ProcessWriter(url, TABLE)


def test_bound_to_the_loop_that_first_used_it(database_url: str) -> None:
    writer = ProcessWriter(database_url, TABLE)
    assert not writer.usable()  # no loop running

    async def first() -> bool:
        await writer.write_async([row(1)])
        return writer.usable()

    async def other() -> bool:
        return writer.usable()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(first())
        assert not asyncio.run(other())
        loop.run_until_complete(writer.close())
    finally:
        loop.close()
