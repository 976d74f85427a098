"""The audit log: a hash chain that detects tampering, append-only in the database itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kupol.core.audit import AuditEntry, AuditLog, AuditRecord
from kupol.core.audit.service import GENESIS, entry_hash
from kupol.core.db import Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


@pytest.fixture
def log(db: Database) -> AuditLog:
    return AuditLog(db)


def fill(log: AuditLog, count: int) -> None:
    for i in range(count):
        log.append(
            AuditRecord(
                actor=f"user{i}",
                roles=("operator",),
                action="view",
                resource_type="camera_event",
                resource_id=str(i),
                purpose="проверка по сообщению",
                case_number=f"KZ-{i}",
                details={"filters": {"zone": "road", "n": i}},
            )
        )


def entries(db: Database) -> list[AuditEntry]:
    with db.reader() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def tamper(db: Database, sql: str, **params: Any) -> None:
    """Run ``sql`` on the audit log with its append-only triggers lifted, as an intruder
    with database rights would; PostgreSQL's triggers are back on afterwards (shared DB)."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text(sql), params)
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def test_an_empty_log_verifies(log: AuditLog) -> None:
    report = log.verify()

    assert report.ok
    assert report.checked == 0


def test_appends_build_one_chain_from_the_genesis_hash(db: Database, log: AuditLog) -> None:
    fill(log, 4)

    rows = entries(db)

    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert len({r.hash for r in rows}) == 4


def test_stored_entries_read_back_as_written_and_verify(db: Database, log: AuditLog) -> None:
    fill(log, 3)

    report = log.verify()
    second = entries(db)[1]

    assert report.ok
    assert report.checked == 3
    assert log.count() == 3
    assert second.purpose == "проверка по сообщению"
    assert second.details == {"filters": {"zone": "road", "n": 1}}
    assert second.roles == "operator"
    assert second.at.tzinfo is not None


def test_the_hash_covers_the_time_of_the_entry(db: Database, log: AuditLog) -> None:
    fill(log, 1)
    row = entries(db)[0]
    record = AuditRecord(
        actor=row.actor,
        roles=("operator",),
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        purpose=row.purpose,
        case_number=row.case_number,
        details=row.details,
    )

    assert entry_hash(seq=1, at=row.at, record=record, prev_hash=GENESIS) == row.hash
    later = row.at.replace(microsecond=(row.at.microsecond + 1) % 1_000_000)
    assert entry_hash(seq=1, at=later, record=record, prev_hash=GENESIS) != row.hash


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "somebody-else"),
        ("purpose", "no reason"),
        ("case_number", "KZ-999"),
        ("resource_id", "42"),
    ],
)
def test_changing_a_field_of_an_entry_is_detected_at_that_entry(
    db: Database, log: AuditLog, column: str, value: str
) -> None:
    fill(log, 5)

    tamper(db, f"UPDATE audit_log SET {column} = :value WHERE seq = 3", value=value)
    report = log.verify()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.checked == 2
    assert report.reason == "contents do not match the hash"


def test_changing_the_details_json_is_detected(db: Database, log: AuditLog) -> None:
    fill(log, 3)

    tamper(
        db,
        "UPDATE audit_log SET details = :d WHERE seq = 2",
        d='{"filters": {"zone": "road", "n": 99}}',
    )

    assert log.verify().first_bad_seq == 2


def test_deleting_an_entry_is_detected_at_the_missing_seq(db: Database, log: AuditLog) -> None:
    fill(log, 5)

    tamper(db, "DELETE FROM audit_log WHERE seq = 3")
    report = log.verify()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.reason == "entry 3 is missing"


def test_rehashing_a_changed_entry_breaks_the_link_from_the_next(
    db: Database, log: AuditLog
) -> None:
    fill(log, 4)
    row = entries(db)[1]
    forged = AuditRecord(
        actor="intruder",
        roles=("operator",),
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        purpose=row.purpose,
        case_number=row.case_number,
        details=row.details,
    )
    new_hash = entry_hash(seq=2, at=row.at, record=forged, prev_hash=row.prev_hash)

    tamper(db, "UPDATE audit_log SET actor = 'intruder', hash = :h WHERE seq = 2", h=new_hash)
    report = log.verify()

    assert report.first_bad_seq == 3
    assert report.reason == "previous-hash link broken"


def test_the_database_refuses_to_update_the_audit_log(db: Database, log: AuditLog) -> None:
    fill(log, 2)

    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq = 1"))

    assert entries(db)[0].actor == "user0"
    assert log.verify().ok


def test_the_database_refuses_to_delete_from_the_audit_log(db: Database, log: AuditLog) -> None:
    fill(log, 2)

    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))

    assert log.count() == 2


def test_postgresql_also_refuses_to_truncate_the_audit_log(db: Database, log: AuditLog) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    fill(log, 1)

    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log"))

    assert log.count() == 1


def test_concurrent_appends_from_threads_and_separate_writers_keep_one_chain(
    database_url: str, log: AuditLog
) -> None:
    # Two threads share the process's AuditLog; two more have their own engine, as a second
    # process (the CLI beside the server, another API worker) would.
    others = [Database.from_url(database_url) for _ in range(2)]
    writers = [log, log] + [AuditLog(other) for other in others]
    errors: list[BaseException] = []

    def work(writer: AuditLog, n: int) -> None:
        try:
            for i in range(8):
                writer.append(
                    AuditRecord(
                        actor=f"w{n}", action="view", resource_type="camera", resource_id=str(i)
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w, n)) for n, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for other in others:
        other.dispose()

    assert errors == []
    report = log.verify()
    assert report.ok
    assert report.checked == 32
