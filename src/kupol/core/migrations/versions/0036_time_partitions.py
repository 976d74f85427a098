"""time partitions of camera_events and plate_sightings (PostgreSQL)

On PostgreSQL the two tables become range-partitioned by their time column, their partitions
(one a month here; kupol.core.partitions keeps them ahead of the clock afterwards) in the
kupol_partitions schema, with a DEFAULT partition for rows no month covers. A partitioned
table's primary and unique keys must include the partition column: the primary keys become
(id, time) and plate_sightings' unique message_id becomes (message_id, seen_at) — one message's
duplicates share their time, so they are still refused. The rows are copied over in the
migration's transaction. Nothing changes on SQLite.

Revision ID: 0036
Revises: 0035
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alembic import op
from sqlalchemy import text

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

SCHEMA = "kupol_partitions"
TABLES = {
    # table: (time column, unique keys other than the primary key)
    "camera_events": ("occurred_at", ()),
    "plate_sightings": ("seen_at", (("uq_plate_sightings_message_id", "message_id"),)),
}
MONTHS_AHEAD = 3


def _month(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next(month: datetime) -> datetime:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table, (column, uniques) in TABLES.items():
        indexes = bind.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = :t AND indexname LIKE 'ix_%'"
            ),
            {"t": table},
        ).all()
        sequence = bind.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f"public.{table}"}
        ).scalar_one()
        first, last = bind.execute(text(f"SELECT min({column}), max({column}) FROM {table}")).one()
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS) "
            f"PARTITION BY RANGE ({column})"
        )
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id")
        now = datetime.now(UTC)
        month = _month(min(first or now, now))
        end = _next(_month(max(last or now, now)))
        for _ in range(MONTHS_AHEAD):
            end = _next(end)
        while month < end:
            following = _next(month)
            op.execute(
                f'CREATE TABLE {SCHEMA}."{table}_{month:%Y%m%d}" PARTITION OF {table} '
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
            )
            month = following
        op.execute(f'CREATE TABLE {SCHEMA}."{table}_default" PARTITION OF {table} DEFAULT')
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
        op.execute(f"DROP TABLE {table}_unpartitioned")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {column})")
        for name, unique in uniques:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({unique}, {column})")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_camera_id_cameras "
            "FOREIGN KEY (camera_id) REFERENCES cameras (id)"
        )
        for _, definition in indexes:
            op.execute(definition)
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, (_column, uniques) in TABLES.items():
        indexes = bind.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = :t AND indexname LIKE 'ix_%'"
            ),
            {"t": table},
        ).all()
        sequence = bind.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f"public.{table}"}
        ).scalar_one()
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
        op.execute(f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS)")
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id")
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
        op.execute(f"DROP TABLE {table}_partitioned")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        for name, unique in uniques:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({unique})")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_camera_id_cameras "
            "FOREIGN KEY (camera_id) REFERENCES cameras (id)"
        )
        for _, definition in indexes:
            op.execute(definition)
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
