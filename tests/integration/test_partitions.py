"""Time partitions of camera_events and plate_sightings on PostgreSQL, and retention on both
databases: rows land in their interval's partition, a search bounded in time reads only its
partitions, retention drops whole partitions, and nothing accepted is lost on the way."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from kupol.core.db import make_engine
from kupol.core.partitions import (
    PARTITIONED,
    SCHEMA,
    History,
    Interval,
    ensure,
    floor,
    following,
    is_partitioned,
    partitions,
    trim,
)
from tests.conftest import fresh_postgres
from tests.unit.factories import add_sqlite_camera

EVENTS, SIGHTINGS = PARTITIONED
NOW = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg() -> Iterator[Engine]:
    """A database of its own: these tests make and drop partitions."""
    with fresh_postgres("kupol_partitions") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def db(pg: Engine) -> Iterator[Engine]:
    with pg.begin() as conn:
        conn.execute(text("TRUNCATE camera_events, plate_sightings, known_plates, cameras CASCADE"))
        _camera(conn)
    yield pg


def _camera(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO cameras (id, name, kind, latitude, longitude, zones, analytics, enabled,"
            " created_at, updated_at) VALUES ('cam-1', 'c', 'fixed', 43.2, 76.9, '[]', '{}',"
            " true, now(), now())"
        )
    )


def _event(conn: Connection, at: datetime) -> None:
    conn.execute(
        text(
            "INSERT INTO camera_events (id, camera_id, type, occurred_at, recorded_at, confidence,"
            " payload, evidence) VALUES (:id, 'cam-1', 'motion', :at, :at, 0.9, '{}', '[]')"
        ),
        {"id": uuid.uuid4(), "at": at},
    )


def _sighting(conn: Connection, at: datetime, message: str | None = None) -> None:
    conn.execute(
        text(
            "INSERT INTO plate_sightings (message_id, camera_id, plate, kind, seen_at,"
            " confidence) VALUES (:m, 'cam-1', '123ABC02', 'kz_individual', :at, 0.9)"
        ),
        {"m": message or str(uuid.uuid4()), "at": at},
    )


def _where(conn: Connection, table: str) -> dict[str, int]:
    """Rows per partition."""
    rows = conn.execute(text(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1"))
    return {name.removeprefix(f"{SCHEMA}."): count for name, count in rows}


def test_intervals() -> None:
    assert floor(NOW, Interval.DAY) == datetime(2026, 12, 6, tzinfo=UTC)
    assert floor(NOW, Interval.WEEK) == datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
    assert floor(NOW, Interval.MONTH) == datetime(2026, 12, 1, tzinfo=UTC)
    assert following(datetime(2026, 12, 1, tzinfo=UTC), Interval.MONTH) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert following(datetime(2027, 1, 31, tzinfo=UTC), Interval.DAY).day == 1
    almaty = datetime(2026, 12, 1, 3, 0, tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo)
    assert floor(almaty, Interval.MONTH) == datetime(2026, 12, 1, tzinfo=UTC)


def test_the_migration_partitions_both_tables_by_month_with_a_default(db: Engine) -> None:
    with db.connect() as conn:
        for spec in PARTITIONED:
            assert is_partitioned(conn, spec.table)
            parts = partitions(conn, spec.table)
            assert parts[-1].default
            months = [p for p in parts if not p.default]
            assert all(following(p.since, Interval.MONTH) == p.until for p in months)  # type: ignore[arg-type]
            assert all(a.until == b.since for a, b in itertools.pairwise(months))
            assert months[-1].until is not None and months[-1].until > datetime.now(UTC)


def test_rows_land_in_their_month_and_far_times_in_the_default(db: Engine) -> None:
    now = datetime.now(UTC)
    with db.begin() as conn:
        _event(conn, now)
        _event(conn, now + timedelta(days=3650))  # a camera whose clock is ten years off
        _sighting(conn, now)
    with db.connect() as conn:
        events = _where(conn, "camera_events")
        assert events == {f"camera_events_{floor(now, Interval.MONTH):%Y%m%d}": 1,
                          "camera_events_default": 1}  # fmt: skip
        assert _where(conn, "plate_sightings") == {
            f"plate_sightings_{floor(now, Interval.MONTH):%Y%m%d}": 1
        }


def test_one_message_is_still_stored_once(db: Engine) -> None:
    at = datetime.now(UTC)
    with db.begin() as conn:
        _sighting(conn, at, message="m-1")
    with pytest.raises(Exception, match="message_id, seen_at"), db.begin() as conn:
        _sighting(conn, at, message="m-1")
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plate_sightings")).scalar_one() == 1


def test_a_time_bounded_search_reads_only_its_partitions(db: Engine) -> None:
    # The last day, within this month: the migration makes partitions from this month on, so
    # on a month's 1st the day before lies in the default partition.
    now = datetime.now(UTC)
    since = max(now - timedelta(days=1), floor(now, Interval.MONTH))
    with db.connect() as conn:
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    "EXPLAIN SELECT * FROM plate_sightings WHERE plate = '123ABC02' "
                    "AND seen_at >= :a AND seen_at < :b"
                ),
                {"a": since, "b": now},
            )
        )
        whole = "\n".join(
            row[0]
            for row in conn.execute(text("EXPLAIN SELECT * FROM plate_sightings WHERE plate = 'X'"))
        )
    scanned = {p.name for p in partitions(db.connect(), "plate_sightings") if p.name in plan}
    assert len(scanned) == 1, plan  # this month's
    assert "plate_sightings_default" not in plan
    assert "plate_sightings_default" in whole


def test_a_new_partition_takes_its_rows_out_of_the_default_one(db: Engine) -> None:
    far = datetime(2031, 5, 17, 12, tzinfo=UTC)
    with db.begin() as conn:
        for i in range(5):
            _event(conn, far + timedelta(hours=i))
        _event(conn, far + timedelta(days=40))  # June: stays in the default
    with db.begin() as conn:
        made = ensure(conn, EVENTS, far, datetime(2031, 5, 18, tzinfo=UTC), Interval.DAY)
    assert made == ["camera_events_20310517"]
    with db.connect() as conn:
        where = _where(conn, "camera_events")
    assert where == {"camera_events_20310517": 5, "camera_events_default": 1}


def test_ensure_fills_gaps_between_partitions_of_another_interval(db: Engine) -> None:
    since = datetime(2032, 1, 30, tzinfo=UTC)
    with db.begin() as conn:
        ensure(conn, SIGHTINGS, datetime(2032, 2, 1, tzinfo=UTC),
               datetime(2032, 2, 2, tzinfo=UTC), Interval.MONTH)  # fmt: skip
        made = ensure(conn, SIGHTINGS, since, datetime(2032, 3, 2, tzinfo=UTC), Interval.DAY)
        again = ensure(conn, SIGHTINGS, since, datetime(2032, 3, 2, tzinfo=UTC), Interval.DAY)
    assert made == [
        "plate_sightings_20320130",
        "plate_sightings_20320131",
        "plate_sightings_20320301",
    ]
    assert again == []


def test_retention_drops_whole_partitions_and_old_default_rows(db: Engine) -> None:
    old = datetime(2030, 1, 10, tzinfo=UTC)
    with db.begin() as conn:
        ensure(conn, EVENTS, old, old + timedelta(days=70), Interval.MONTH)
        for day in (0, 30, 60):  # January, February, March 2030
            _event(conn, old + timedelta(days=day))
        _event(conn, datetime(2001, 1, 1, tzinfo=UTC))  # in the default, long past
        _event(conn, datetime(2044, 1, 1, tzinfo=UTC))  # in the default, future
    with db.begin() as conn:
        trimmed = trim(conn, EVENTS, datetime(2030, 3, 1, tzinfo=UTC))
    assert trimmed.partitions[-2:] == ["camera_events_20300101", "camera_events_20300201"]
    assert trimmed.rows == 1
    with db.connect() as conn:
        left = sorted(r[0] for r in conn.execute(text("SELECT occurred_at FROM camera_events")))
        names = {p.name for p in partitions(conn, "camera_events")}
    assert [t.year for t in left] == [2030, 2044]
    assert "camera_events_20300101" not in names and "camera_events_20300301" in names


def test_retention_lets_go_of_the_plates_seen_only_before_the_partitions_it_keeps(
    db: Engine,
) -> None:
    old = datetime(2030, 1, 10, tzinfo=UTC)
    known = {  # plate: first and last seen, as the store keeps them (kupol.plates.model.KnownPlate)
        "JANUARY": (datetime(2030, 1, 10, tzinfo=UTC), datetime(2030, 1, 20, tzinfo=UTC)),
        "LONGAGO": (datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 1, 1, tzinfo=UTC)),
        "EARLYFEB": (datetime(2030, 1, 2, tzinfo=UTC), datetime(2030, 2, 3, tzinfo=UTC)),
        "MARCH": (datetime(2030, 3, 5, tzinfo=UTC), datetime(2030, 3, 5, tzinfo=UTC)),
    }
    with db.begin() as conn:
        ensure(conn, SIGHTINGS, old, old + timedelta(days=70), Interval.MONTH)
        for plate, (first, last) in known.items():
            conn.execute(
                text("INSERT INTO known_plates VALUES (:p, :f, :l)"),
                {"p": plate, "f": first, "l": last},
            )
    with db.begin() as conn:
        # Retention to 10 February: January goes, February is kept whole (it straddles the
        # line), so a plate last seen on 3 February still has its sighting and stays listed.
        trimmed = trim(conn, SIGHTINGS, datetime(2030, 2, 10, tzinfo=UTC))
    assert "plate_sightings_20300101" in trimmed.partitions
    assert trimmed.companions == 2
    with db.connect() as conn:
        left = {r[0] for r in conn.execute(text("SELECT plate FROM known_plates"))}
    assert left == {"EARLYFEB", "MARCH"}


def test_history_keeps_partitions_ahead_and_one_node_at_a_time(db: Engine) -> None:
    keeper = History(db, interval=Interval.DAY, ahead=3)
    at = datetime(2033, 7, 1, 23, tzinfo=UTC)
    done = keeper.run(now=at)
    assert done.made["camera_events"] == [
        f"camera_events_2033070{d}" for d in range(1, 5)
    ]  # today and 3 ahead
    assert keeper.run(now=at).made == {}
    with db.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x6B75706F6C5F7061})
        assert keeper.run(now=at + timedelta(days=1)).skipped


def test_sqlite_retention_deletes_in_batches(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kupol.core.partitions as module

    monkeypatch.setattr(module, "DELETE_BATCH", 7)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        add_sqlite_camera(conn)
    from kupol.events.model import CameraEvent

    with engine.begin() as conn:
        for day in range(30):
            conn.execute(
                CameraEvent.__table__.insert(),
                {"id": uuid.uuid4(), "camera_id": "cam-1", "type": "motion",
                 "occurred_at": NOW - timedelta(days=day), "recorded_at": NOW,
                 "confidence": 0.5, "payload": {}, "evidence": []},
            )  # fmt: skip
    done = History(engine, retention_days={"camera_events": 10}).run(now=NOW)
    assert done.trimmed[0].rows == 19  # days 11…29 are past; day 10 is exactly at the line
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM camera_events")).scalar_one() == 11
        assert not is_partitioned(conn, "camera_events")
    engine.dispose()


def test_the_cli_lists_partitions_and_runs_a_round(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from kupol import cli

    monkeypatch.setenv("KUPOL_DATABASE__URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KUPOL_HISTORY__PARTITION_INTERVAL", "day")
    monkeypatch.setenv("KUPOL_HISTORY__PLATE_SIGHTINGS_DAYS", "36500")
    listed = CliRunner().invoke(cli.app, ["db", "partitions"])
    assert listed.exit_code == 0, listed.output
    assert "camera_events:" in listed.output and "camera_events_default" in listed.output
    ran = CliRunner().invoke(cli.app, ["db", "history"])
    assert ran.exit_code == 0, ran.output
    assert "plate_sightings: dropped 0 partitions, deleted 0 rows" in ran.output


FOREIGN_KEY = r"FOREIGN KEY|foreign key"


def _portable_camera(conn: Connection, camera_id: str) -> None:
    conn.execute(
        text(
            "INSERT INTO cameras (id, name, kind, latitude, longitude, zones, analytics, enabled,"
            " created_at, updated_at) VALUES (:id, 'c', 'fixed', 43.2, 76.9, '[]', '{}',"
            " :enabled, :at, :at)"
        ),
        {"id": camera_id, "enabled": True, "at": NOW},
    )


def _rows(conn: Connection, camera_ids: list[str]) -> None:
    """One statement: an event per camera id."""
    from kupol.events.model import CameraEvent

    conn.execute(
        CameraEvent.__table__.insert(),
        [{"id": uuid.uuid4(), "camera_id": c, "type": "motion", "occurred_at": NOW,
          "recorded_at": NOW, "confidence": 0.9, "payload": {}, "evidence": []}
         for c in camera_ids],
    )  # fmt: skip


def _read(conn: Connection, camera_id: str) -> None:
    from kupol.plates.model import PlateSighting

    conn.execute(
        PlateSighting.__table__.insert(),
        {"message_id": str(uuid.uuid4()), "camera_id": camera_id, "plate": "123ABC02",
         "kind": "kz_individual", "seen_at": NOW, "confidence": 0.9},
    )  # fmt: skip


def test_events_and_sightings_name_only_cameras_that_exist(database_url: str) -> None:
    """The foreign keys to cameras hold on both databases — on PostgreSQL as triggers checking
    a statement's rows at once (migration 0039), on SQLite as foreign keys."""
    engine = make_engine(database_url)  # kupol's: foreign keys switched on in SQLite
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        _portable_camera(conn, "cam-a")
        _portable_camera(conn, "cam-b")
        _portable_camera(conn, "cam-idle")
        _rows(conn, ["cam-a", "cam-a"])
        _read(conn, "cam-b")
    # A statement with one unknown camera among known ones is refused whole.
    with pytest.raises(IntegrityError, match=FOREIGN_KEY) as refused, engine.begin() as conn:
        _rows(conn, ["cam-a", "cam-nowhere", "cam-b"])
    if postgres:
        assert "cam-nowhere" in str(refused.value)
    with pytest.raises(IntegrityError, match=FOREIGN_KEY), engine.begin() as conn:
        _read(conn, "cam-nowhere")
    with pytest.raises(IntegrityError, match=FOREIGN_KEY), engine.begin() as conn:
        conn.execute(text("UPDATE camera_events SET camera_id = 'cam-nowhere'"))
    # A camera that events or sightings name cannot be deleted or renamed; another can.
    for camera in ("cam-a", "cam-b"):
        with pytest.raises(IntegrityError, match=FOREIGN_KEY), engine.begin() as conn:
            conn.execute(text("DELETE FROM cameras WHERE id = :id"), {"id": camera})
    with pytest.raises(IntegrityError, match=FOREIGN_KEY), engine.begin() as conn:
        conn.execute(text("UPDATE cameras SET id = 'cam-renamed' WHERE id = 'cam-a'"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE cameras SET name = 'renamed' WHERE id = 'cam-a'"))
        conn.execute(text("DELETE FROM cameras WHERE id = 'cam-idle'"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM camera_events")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM plate_sightings")).scalar_one() == 1
        cameras = conn.execute(text("SELECT id FROM cameras ORDER BY id")).scalars().all()
        assert cameras == ["cam-a", "cam-b"]
        if postgres:  # the per-row keys are gone: the check is the statement's triggers
            keys = conn.execute(
                text(
                    "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                    " AND conrelid IN ('camera_events'::regclass, 'plate_sightings'::regclass)"
                )
            ).scalar_one()
            assert keys == 0
    engine.dispose()
