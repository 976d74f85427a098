"""The Alembic history builds exactly the tables the code declares, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, create_engine, inspect, text

from kupol.core.db import Base
from kupol.core.partitions import PARTITIONED, is_partitioned


def _partition_keys(diff: list[Any]) -> list[Any]:
    """The differences that partitioning makes on purpose: on PostgreSQL a partitioned table's
    unique key also holds its time column (kupol.core.partitions.TimePartitioned.unique), and
    its foreign keys to cameras are triggers (TimePartitioned.checked_by_trigger)."""
    expected = []
    for spec in PARTITIONED:
        if spec.unique:
            expected.append(("remove_constraint", spec.table, (*spec.unique, spec.column)))
            expected.append(("add_constraint", spec.table, spec.unique))
        if spec.checked_by_trigger:
            expected.append(("add_fk", spec.table, spec.checked_by_trigger))
    found = []
    for entry in diff:
        if isinstance(entry, tuple) and isinstance(
            entry[1], UniqueConstraint | ForeignKeyConstraint
        ):
            key = (entry[0], entry[1].table.name, tuple(c.name for c in entry[1].columns))
            if key in expected:
                found.append(entry)
    assert len(found) == len(expected), f"the partitioned tables' keys: {diff}"
    return found


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        partitioned = [is_partitioned(conn, spec.table) for spec in PARTITIONED]
    engine.dispose()
    if engine.dialect.name == "postgresql":
        assert all(partitioned), "camera_events and plate_sightings are partitioned by time"
        diff = [entry for entry in diff if entry not in _partition_keys(diff)]
    else:
        assert not any(partitioned)
    assert diff == [], f"models and migrations differ: {diff}"


def test_the_audit_log_is_append_only_in_the_database_itself(database_url: str) -> None:
    engine = create_engine(database_url)
    names = set(inspect(engine).get_table_names())
    assert {"audit_log", "camera_events", "alerts", "cameras", "users"} <= names
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, roles, action, resource_type, details, "
                "prev_hash, hash) "
                "VALUES (1, CURRENT_TIMESTAMP, 'a', '', 'view', 'x', '{}', 'p', 'h')"
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log"):
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
        except Exception as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError(f"{statement} was allowed")
    engine.dispose()
