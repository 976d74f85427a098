"""Database: engine per URL, one declarative base, a unit of work, Alembic upgrades.

SQLite (WAL) is the embedded default; PostgreSQL is the scale-out path. Code here and in
domains uses only SQL both accept, and the test suite runs the storage tests on both.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kupol.core.errors import NotFoundError, ServiceUnavailableError
from kupol.core.messages import Clock

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5
"""A PostgreSQL server that does not answer a connection attempt within this is unavailable
(without it a lost host holds a request for the TCP time-out, minutes)."""
UNAVAILABLE_LOG_EVERY_S = 10.0
CLOCK_NOISE_S = 0.001
"""Clock offsets and changes of them smaller than this are measurement noise."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use kupol.core.messages.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed transaction survives a power cut too, which is what "accepted"
    # promises to a device; in WAL mode it costs one fsync per commit (per batch).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own implicit BEGIN is switched off so SQLAlchemy's "begin" event
    # decides how a transaction starts (SQLAlchemy's documented SQLite recipe).
    dbapi_connection.isolation_level = None


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, sqlite_begin: str = "IMMEDIATE"
) -> Engine:
    """Create the engine for ``url``; SQLite files get WAL and their folder is created.

    Statement parameters are never logged nor put in error messages (``hide_parameters``):
    they carry password hashes, phone numbers and plates, and a DEBUG log or a logged
    database error would otherwise print them.

    SQLite transactions begin with ``sqlite_begin``: ``IMMEDIATE`` (the default) takes the
    write lock at once, so read-then-write transactions (the audit chain, the recorder's
    duplicate check) never see a stale snapshot and never fail to upgrade their lock;
    ``DEFERRED`` is for read-only sessions.

    Example:
        >>> engine = make_engine("sqlite://")
        >>> engine.dialect.name
        'sqlite'
    """
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if url.startswith("sqlite:///") and path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_manual_transactions)
        begin = f"BEGIN {sqlite_begin}"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # pool_pre_ping: after a database restart the pooled connections are dead; each is
    # tested as it is taken and replaced, so the first request after the restart works.
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "not reachable now, try again" (a restart, a lost
    connection, a locked SQLite file) rather than a bug in the statement.

    Example:
        >>> is_unavailable(ValueError("no"))
        False
    """
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite reports syntax errors and missing tables as OperationalError too.
        reason = str(exc.orig)
        return "locked" in reason or "unable to open" in reason or "disk I/O" in reason
    return isinstance(exc, OperationalError | InterfaceError)


@dataclass(frozen=True, kw_only=True)
class ClockSample:
    """One measurement of a node's clock against the database server's."""

    offset_s: float
    """The server's clock minus the node's, in seconds (positive: the node is behind)."""
    uncertainty_s: float
    """Half the round trip: the true offset is within this of ``offset_s``."""


_InsertPlan = tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...], bool]


class Database:
    """Engines and sessions. Built by the composition root, never at import time.

    On a SQLite file, writes and reads use two engines: units of work begin IMMEDIATE (one
    writer at a time, as SQLite allows anyway), readers DEFERRED (they never wait for writers
    in WAL mode). On PostgreSQL both are the same engine.
    """

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._unavailable_logged = 0.0
        self._plans: dict[tuple[str, tuple[str, ...]], _InsertPlan] = {}

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """A database with a writer and (for SQLite files) a separate reader engine."""
        engine = make_engine(url, **kwargs)
        on_disk = url.startswith("sqlite:///") and url.removeprefix("sqlite:///") not in (
            "",
            ":memory:",
        )
        reader = make_engine(url, sqlite_begin="DEFERRED", **kwargs) if on_disk else None
        return cls(engine, reader)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Example:
            >>> db = Database.from_url("sqlite://")
            >>> with db.unit_of_work() as session:
            ...     session.execute(text("select 1")).scalar()
            1
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException as exc:
            with contextlib.suppress(DBAPIError):  # a dead connection cannot roll back
                session.rollback()
            if isinstance(exc, DBAPIError) and is_unavailable(exc):
                raise self._unavailable(exc) from exc
            raise
        finally:
            session.close()

    def insert_many(self, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (dicts of ``model``'s columns; the same keys in each) in one
        transaction, at the driver: the statement compiled once per set of columns, each value
        converted by its column's type as the ORM would, one ``executemany``, one commit.

        For a writer that stores many small batches (the call decisions' group commit): a
        unit of work costs about 0.6 ms of CPU a transaction and 20 µs a row on SQLite, this
        a third of that, and the driver's work runs without the interpreter lock.

        Raises:
            ServiceUnavailableError: the database cannot be reached (nothing is stored).
            DBAPIError: any other failure of the statement (nothing is stored).
        """
        if not rows:
            return
        table = cast(Table, model.__table__)
        sql, steps, named = self._insert_plan(table, tuple(rows[0]))
        params: list[Any]
        if named:  # psycopg's paramstyle: dicts
            params = [{k: (f(r[k]) if f else r[k]) for k, f in steps} for r in rows]
        else:
            params = [tuple(f(r[k]) if f else r[k] for k, f in steps) for r in rows]
        dialect = self.engine.dialect
        try:
            raw = self.engine.raw_connection()
        except dialect.loaded_dbapi.Error as orig:  # the pool hands the driver's own error
            raise self._driver_error(orig, sql, gone=True) from orig
        cursor = None
        try:
            cursor = raw.cursor()
            if dialect.name == "sqlite":  # the driver's implicit BEGIN is off (see make_engine)
                cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(sql, params)
            raw.commit()
        except dialect.loaded_dbapi.Error as orig:
            gone = dialect.is_disconnect(orig, raw.driver_connection, cursor)
            with contextlib.suppress(Exception):
                raw.rollback()
            if gone:
                raw.invalidate(orig)
            raise self._driver_error(orig, sql, gone=gone) from orig
        finally:
            if cursor is not None:
                with contextlib.suppress(Exception):
                    cursor.close()
            raw.close()  # back to the pool

    def _driver_error(self, orig: Exception, sql: str, *, gone: bool) -> Exception:
        """A driver's exception as SQLAlchemy would have raised it, or the 503 of a database
        that cannot be reached."""
        dialect = self.engine.dialect
        error = DBAPIError.instance(
            sql, None, orig, dialect.loaded_dbapi.Error, hide_parameters=True,
            connection_invalidated=gone, dialect=dialect,
        )  # fmt: skip
        if isinstance(error, DBAPIError) and is_unavailable(error):
            return self._unavailable(error)
        return error

    def _insert_plan(self, table: Table, keys: tuple[str, ...]) -> _InsertPlan:
        """The compiled INSERT of ``keys`` into ``table``: its SQL, each parameter's column
        and bind conversion in the statement's order, and whether parameters are named."""
        plan = self._plans.get((table.name, keys))
        if plan is None:
            dialect = self.engine.dialect
            compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
            order = tuple(compiled.positiontup or ()) if dialect.positional else keys
            steps = tuple(
                (key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
                for key in order
            )
            plan = self._plans[(table.name, keys)] = (
                compiled.string, steps, not dialect.positional,
            )  # fmt: skip
        return plan

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only; nothing is committed.

        Closing (not rolling back) ends the transaction without expiring loaded objects,
        so rows read here stay usable after the block.
        """
        session = self._read_sessions()
        try:
            yield session
        except DBAPIError as exc:
            if is_unavailable(exc):
                raise self._unavailable(exc) from exc
            raise
        finally:
            session.close()

    def _unavailable(self, exc: DBAPIError) -> ServiceUnavailableError:
        """The 503 a lost database becomes (the API answers it, bus consumers hold their
        events and try again); the cause is logged, at most every few seconds."""
        now = time.monotonic()
        if now - self._unavailable_logged > UNAVAILABLE_LOG_EVERY_S:
            self._unavailable_logged = now
            log.warning("database unavailable: %s", (str(exc.orig).splitlines() or [""])[0])
        return ServiceUnavailableError(
            "the database is unavailable; try again shortly", code="database_unavailable"
        )

    def ping(self) -> None:
        """Raise :class:`ServiceUnavailableError` when the database does not answer."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("select 1"))
        except OperationalError as exc:
            raise ServiceUnavailableError(f"database unavailable: {exc.orig}") from exc

    def clock_sample(self, source: Callable[[], datetime], *, tries: int = 5) -> ClockSample:
        """The database server's clock against ``source``, NTP-style: the server's time minus
        the middle of the round trip, from the try with the shortest trip.

        On SQLite the database is this machine's file and shares its clock: offset 0.
        """
        if self.dialect != "postgresql":
            return ClockSample(offset_s=0.0, uncertainty_s=0.0)
        best: ClockSample | None = None
        try:
            with self.engine.connect() as conn:
                for _ in range(tries):
                    before = source()
                    started = time.perf_counter()
                    server = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
                    trip = time.perf_counter() - started
                    offset = (server - before).total_seconds() - trip / 2
                    if best is None or trip / 2 < best.uncertainty_s:
                        best = ClockSample(offset_s=offset, uncertainty_s=trip / 2)
        except DBAPIError as exc:
            if is_unavailable(exc):
                raise self._unavailable(exc) from exc
            raise
        assert best is not None
        return best

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.read_engine.dispose()


class ClockSync:
    """Keeps a node's :class:`~kupol.core.messages.Clock` corrected to the database server's
    clock, the one clock every node shares, so events stamped on nodes whose clocks disagree
    still sort in the order they happened. A node further off than ``max_skew_s`` logs a
    warning (its timestamps are corrected anyway; its time synchronisation needs fixing).

    Example:
        >>> sync = ClockSync(db=Database.from_url("sqlite://"), clock=Clock(), max_skew_s=1)
        >>> sync.sync().offset_s
        0.0
    """

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        max_skew_s: float,
        report: Callable[[Clock], None] | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self._max_skew_s = max_skew_s
        self._report = report
        self._warned_at: float | None = None

    def sync(self) -> ClockSample:
        """Measure once and correct the clock; returns the measurement."""
        sample = self._db.clock_sample(self.clock.source)
        clock = self.clock
        noise = max(sample.uncertainty_s, CLOCK_NOISE_S)
        # An offset within the measurement's uncertainty of zero is no offset (a node on the
        # database's machine stays uncorrected), and one within it of the offset applied is
        # no change: timestamps are spared a jitter of a fraction of a ms at each sync.
        measured = sample.offset_s if abs(sample.offset_s) > noise else 0.0
        if clock.uncertainty_s is None or abs(measured - clock.offset_s) > noise:
            clock.offset_s = measured
        clock.uncertainty_s = sample.uncertainty_s
        if self._report is not None:
            self._report(clock)
        skew = -clock.offset_s
        if abs(skew) > self._max_skew_s:
            if self._warned_at is None or abs(skew - self._warned_at) > self._max_skew_s:
                self._warned_at = skew
                log.warning(
                    "this node's clock is %.1f s %s the database server's (more than %g s): its "
                    "timestamps are corrected by the measured offset; fix its time "
                    "synchronisation (NTP)",
                    abs(skew), "ahead of" if skew > 0 else "behind", self._max_skew_s,
                )  # fmt: skip
        elif self._warned_at is not None:
            self._warned_at = None
            log.info("this node's clock is within %g s of the database server's again (%+.3f s)",
                     self._max_skew_s, skew)  # fmt: skip
        return sample


def alembic_config(url: str) -> Any:
    """The Alembic configuration for kupol's migrations, pointed at ``url``."""
    from alembic.config import Config

    here = Path(__file__).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(here))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating the SQLite file if needed)."""
    from alembic import command

    if url.startswith("sqlite:///"):
        make_engine(url).dispose()  # creates the folder
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, ``None`` when never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


Row = TypeVar("Row", bound=Base)


def fetch(session: Session, model: type[Row], key: object, *, what: str, lock: bool = False) -> Row:
    """The ``model`` row with primary key ``key`` (locked for update with ``lock``), or
    NotFoundError "no <what> <key>"."""
    row = session.get(model, key, with_for_update=lock or None)
    if row is None:
        raise NotFoundError(f"no {what} {key}")
    return row
