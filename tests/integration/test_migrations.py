"""The Alembic history builds exactly the tables the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from kupol.core.db import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
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
