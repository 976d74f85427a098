"""Time partitions of the big append-only tables on PostgreSQL, and their retention.

On PostgreSQL, ``camera_events`` (by ``occurred_at``) and ``plate_sightings`` (by ``seen_at``)
are range-partitioned by time (migration 0036): each interval's rows live in their own table
in the ``kupol_partitions`` schema, a search bounded in time reads only its intervals' tables
and indexes, and retention drops whole partitions — instant, no ``DELETE`` bloat, no vacuum.
A ``DEFAULT`` partition catches what no interval covers (a camera whose clock is years off, an
import of old history), so an insert never fails for want of a partition.

:class:`History` keeps the partitions ``partitions_ahead`` intervals ahead of the clock and
applies the retention (``[history]`` settings), on SQLite as batched ``DELETE`` of the rows past
it. One node does it at a time (a transaction-level advisory lock); the others skip the round.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, Engine, bindparam, text

from kupol.core.db import UTCDateTime

log = logging.getLogger(__name__)

SCHEMA = "kupol_partitions"
"""Where the partitions live: out of the way of the application's own tables."""

LOCK_KEY = 0x6B75706F6C5F7061  # "kupol_pa": one maintenance round at a time, cluster-wide
DELETE_BATCH = 10_000


@dataclass(frozen=True)
class TimePartitioned:
    """A table partitioned (or, on SQLite, trimmed) by one time column."""

    table: str
    column: str
    unique: tuple[str, ...] = ()
    """A unique key of the model that includes the time column on PostgreSQL (a partitioned
    table's unique keys must): the same guarantee for rows of one time, which duplicates of one
    message always are."""
    companions: tuple[tuple[str, str], ...] = ()
    """Tables that summarise this one, each with the column of the last time a row of this
    table stood behind its row: the retention removes their rows whose last time is older
    than anything kept here (the plates' directory of plates seen), in one statement."""
    checked_by_trigger: tuple[str, ...] = ()
    """Columns of the model's foreign keys that PostgreSQL checks once a statement, by
    triggers over the statement's new rows, instead of once a row (migration 0039: the key's
    per-row query and lock were a third of the server's cost of storing an event); SQLite
    keeps the foreign keys themselves."""


PARTITIONED = (
    TimePartitioned("camera_events", "occurred_at", checked_by_trigger=("camera_id",)),
    TimePartitioned(
        "plate_sightings",
        "seen_at",
        unique=("message_id",),
        companions=(("known_plates", "last_seen_at"),),
        checked_by_trigger=("camera_id",),
    ),
)


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def floor(moment: datetime, interval: Interval) -> datetime:
    """The start (UTC midnight; Monday for weeks; the 1st for months) of ``moment``'s interval."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval is Interval.MONTH:
        return day.replace(day=1)
    return day


def following(start: datetime, interval: Interval) -> datetime:
    """The start of the interval after the one that starts at ``start``."""
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Partition:
    name: str
    since: datetime | None
    until: datetime | None
    """Both None: the DEFAULT partition."""
    rows: int
    """PostgreSQL's estimate (``reltuples``), -1 before the partition was first analysed."""

    @property
    def default(self) -> bool:
        return self.since is None


_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def is_partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
        {"t": f"public.{table}"},
    ).first()
    return found is not None


def partitions(conn: Connection, table: str) -> list[Partition]:
    """The table's partitions, oldest first, the default one last."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": f"public.{table}"},
    ).all()
    out = []
    for name, bound, estimate in rows:
        found = _BOUNDS.search(bound)
        if found is None:
            out.append(Partition(name=name, since=None, until=None, rows=int(estimate)))
            continue
        since, until = (datetime.fromisoformat(v).astimezone(UTC) for v in found.groups())
        out.append(Partition(name=name, since=since, until=until, rows=int(estimate)))
    return sorted(out, key=lambda p: (p.since is None, p.since or datetime.min.replace(tzinfo=UTC)))


def ensure(
    conn: Connection,
    spec: TimePartitioned,
    since: datetime,
    until: datetime,
    interval: Interval,
) -> list[str]:
    """Partitions covering ``[floor(since), until)``, made where missing; their names.

    Where existing partitions have other bounds (the interval was changed), the new ones fill
    the gaps between them. Rows already in the default partition for a new range are moved
    into it (PostgreSQL refuses to create a partition whose rows sit in the default one).
    """
    existing = [p for p in partitions(conn, spec.table) if not p.default]
    default = next((p for p in partitions(conn, spec.table) if p.default), None)
    made = []
    start = floor(since, interval)
    while start < until:
        inside = next((p for p in existing if p.since <= start < p.until), None)  # type: ignore[operator]
        if inside is not None:
            start = inside.until  # type: ignore[assignment]
            continue
        end = following(start, interval)
        later = [p.since for p in existing if p.since is not None and p.since > start]
        end = min([end, *later])
        name = f"{spec.table}_{start:%Y%m%d}"
        _create(conn, spec, name, start, end, default.name if default else None)
        existing.append(Partition(name=name, since=start, until=end, rows=0))
        made.append(name)
        start = end
    return made


def _create(
    conn: Connection,
    spec: TimePartitioned,
    name: str,
    since: datetime,
    until: datetime,
    default: str | None,
) -> None:
    bounds = {"since": since, "until": until}
    moving = 0
    if default is not None:
        moving = conn.execute(
            text(
                f'SELECT count(*) FROM {SCHEMA}."{default}" '
                f"WHERE {spec.column} >= :since AND {spec.column} < :until"
            ),
            bounds,
        ).scalar_one()
    if moving:
        conn.execute(
            text(
                f"CREATE TEMPORARY TABLE kupol_moving ON COMMIT DROP AS "
                f'SELECT * FROM {SCHEMA}."{default}" '
                f"WHERE {spec.column} >= :since AND {spec.column} < :until"
            ),
            bounds,
        )
        conn.execute(
            text(
                f'DELETE FROM {SCHEMA}."{default}" '
                f"WHERE {spec.column} >= :since AND {spec.column} < :until"
            ),
            bounds,
        )
    conn.execute(
        text(
            f'CREATE TABLE {SCHEMA}."{name}" PARTITION OF public.{spec.table} '
            f"FOR VALUES FROM ('{since.isoformat()}') TO ('{until.isoformat()}')"
        )
    )
    if moving:
        conn.execute(text(f"INSERT INTO public.{spec.table} SELECT * FROM kupol_moving"))
        conn.execute(text("DROP TABLE kupol_moving"))
        log.info("partitions: moved %d rows of %s from the default partition", moving, name)


@dataclass
class Trimmed:
    """What one retention pass removed from one table."""

    table: str
    partitions: list[str] = field(default_factory=list)
    rows: int = 0
    """Rows deleted one by one (SQLite, the default partition); dropped partitions' rows are
    not counted."""
    companions: int = 0
    """Rows of the companion tables (:attr:`TimePartitioned.companions`) deleted with them."""


def trim(conn: Connection, spec: TimePartitioned, before: datetime) -> Trimmed:
    """Removes the rows older than ``before``: whole partitions that end by then, and older
    rows of the default partition (PostgreSQL); batched deletes (SQLite, or PostgreSQL where the
    table is not partitioned). A partition that straddles ``before`` is kept whole until it
    is all past it: rows outlive the retention by up to one interval."""
    out = Trimmed(table=spec.table)
    partitioned = is_partitioned(conn, spec.table)
    parts = partitions(conn, spec.table) if partitioned else []
    # Nothing older than this is left once this pass is done: its companions' rows last seen
    # before it go first, before the partitions are dropped (a DROP locks the whole table
    # until commit, and the companions' delete reads their whole table), and before the
    # default partition's delete (so that a late row stored meanwhile keeps its companion).
    kept_from = min(
        [before] + [p.since for p in parts if p.since is not None and p.until is not None
                    and p.until > before]
    )  # fmt: skip
    for table, column in spec.companions:  # one statement: they are not indexed by time
        out.companions += conn.execute(
            text(f"DELETE FROM {table} WHERE {column} < :before").bindparams(
                bindparam("before", type_=UTCDateTime())
            ),
            {"before": kept_from},
        ).rowcount
    if partitioned:
        for part in parts:
            if part.default:
                out.rows += conn.execute(
                    text(f'DELETE FROM {SCHEMA}."{part.name}" WHERE {spec.column} < :before'),
                    {"before": before},
                ).rowcount
            elif part.until is not None and part.until <= before:
                conn.execute(text(f'DROP TABLE {SCHEMA}."{part.name}"'))
                out.partitions.append(part.name)
    else:
        out.rows = _delete_before(conn, spec.table, spec.column, before)
    return out


def _delete_before(conn: Connection, table: str, column: str, before: datetime) -> int:
    """Deletes ``table``'s rows whose ``column`` is before ``before``, in batches."""
    rows = 0
    while True:
        deleted = conn.execute(
            text(
                f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} "
                f"WHERE {column} < :before LIMIT {DELETE_BATCH})"
                if conn.dialect.name == "sqlite"
                else f"DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} "
                f"WHERE {column} < :before LIMIT {DELETE_BATCH})"
            ).bindparams(bindparam("before", type_=UTCDateTime())),
            {"before": before},
        ).rowcount
        rows += deleted
        if deleted < DELETE_BATCH:
            return rows


@dataclass
class Round:
    """One maintenance round: partitions made, and what the retention removed."""

    made: dict[str, list[str]] = field(default_factory=dict)
    trimmed: list[Trimmed] = field(default_factory=list)
    skipped: bool = False
    """Another node held the maintenance lock."""


class History:
    """Keeps the partitions ahead of the clock and the tables within their retention."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: Interval = Interval.MONTH,
        ahead: int = 3,
        retention_days: dict[str, int | None] | None = None,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.ahead = ahead
        self.retention_days = retention_days or {}

    def run(self, now: datetime | None = None) -> Round:
        now = now or datetime.now(UTC)
        out = Round()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                locked = conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}
                ).scalar_one()
                if not locked:
                    out.skipped = True
                    return out
            for spec in PARTITIONED:
                if is_partitioned(conn, spec.table):
                    until = floor(now, self.interval)
                    for _ in range(self.ahead + 1):
                        until = following(until, self.interval)
                    made = ensure(conn, spec, now, until, self.interval)
                    if made:
                        out.made[spec.table] = made
                        log.info("partitions: made %s", ", ".join(made))
                days = self.retention_days.get(spec.table)
                if days is not None:
                    trimmed = trim(conn, spec, now - timedelta(days=days))
                    if trimmed.partitions or trimmed.rows or trimmed.companions:
                        log.info(
                            "retention: %s — dropped %d partitions, deleted %d rows"
                            " (and %d rows of its summaries)",
                            spec.table,
                            len(trimmed.partitions),
                            trimmed.rows,
                            trimmed.companions,
                        )
                    out.trimmed.append(trimmed)
        return out
