"""Driver-level inserts (``Database.insert_many``): rows read back through the ORM exactly as
the ORM would have stored them, on SQLite and PostgreSQL; a failed batch stores nothing; a
database that cannot be reached is a 503."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from kupol.antifraud.model import CallDecision
from kupol.core.db import Database
from kupol.core.errors import ServiceUnavailableError


def decision(n: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "call_id": f"c{n}", "switch": "switch-1",
        "at": datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=5))),
        "caller": "+77011234567", "called": "+77017654321", "international": n % 2 == 1,
        "verdict": "warn", "reasons": ["fan_out", "night_burst"], "imsi": None,
        "imei": "356938035643809", "cell": f"cell-{n}",
    }  # fmt: skip
    row.update(changes)
    return row


def stored(db: Database) -> list[CallDecision]:
    with db.reader() as session:
        return list(session.scalars(select(CallDecision).order_by(CallDecision.call_id)))


def test_rows_inserted_at_the_driver_read_back_as_the_orms_own(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        db.insert_many(CallDecision, [decision(1), decision(2, imsi="401011234567890", reasons=[])])
        with db.unit_of_work() as session:  # the same rows the ORM's way, to compare
            session.execute(insert(CallDecision), [decision(3)])
        one, two, three = stored(db)
        assert one.at == datetime(2026, 12, 5, 20, 2, 3, 456789, tzinfo=UTC) == three.at
        assert (one.reasons, one.international, one.imsi) == (
            ["fan_out", "night_burst"],
            True,
            None,
        )
        assert (two.reasons, two.international, two.imsi) == ([], False, "401011234567890")
        with db.reader() as session:  # the time compares in SQL as the ORM's rows do
            at = datetime(2026, 12, 5, 20, 2, 3, tzinfo=UTC)
            later = session.scalar(
                select(func.count()).select_from(CallDecision).where(CallDecision.at > at)
            )
        assert later == 3
    finally:
        db.dispose()


def test_a_batch_that_fails_stores_none_of_its_rows(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        db.insert_many(CallDecision, [decision(1)])
        with pytest.raises(IntegrityError):  # the second row breaks a constraint
            db.insert_many(CallDecision, [decision(2), decision(3, verdict=None)])
        db.insert_many(CallDecision, [decision(4)])  # the connection is usable again
        assert [d.call_id for d in stored(db)] == ["c1", "c4"]
    finally:
        db.dispose()


def test_an_unreachable_database_is_service_unavailable() -> None:
    db = Database.from_url("postgresql://kupol@127.0.0.1:1/nowhere")
    with pytest.raises(ServiceUnavailableError):
        db.insert_many(CallDecision, [decision(1)])
    db.insert_many(CallDecision, [])  # nothing to store: nothing asked of the database
