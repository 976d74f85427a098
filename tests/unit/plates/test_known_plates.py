"""The directory of plates seen (``known_plates``): kept by the store with each plate's first
and last sighting, read first by the plate searches, let go of by the retention — on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.auth.service import SYSTEM
from kupol.core.db import upgrade
from kupol.core.partitions import History
from kupol.plates import queries as queries_module
from kupol.plates.formats import wildcard, within_one
from kupol.plates.messages import PlateObserved
from kupol.plates.model import KnownPlate
from kupol.plates.queries import Match, PlateFilter
from tests.conftest import add_user
from tests.unit.factories import add_sqlite_camera

T = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WHY = Justification(purpose="stolen car report 2026-55")


@pytest.fixture
def city(container: Container) -> Container:
    container.cameras.register(
        camera=CameraCreate(id="ast-1", name="ast-1", latitude=51.13, longitude=71.43),
        actor=SYSTEM,
    )
    return container


def read(plate: str, hours: float) -> PlateObserved:
    return PlateObserved(
        camera_id="ast-1", plate=plate, seen_at=T + timedelta(hours=hours), confidence=0.9
    )


def directory(container: Container) -> dict[str, tuple[float, float]]:
    """Each plate's first and last time, in hours after T."""
    with container.db.reader() as session:
        rows = session.execute(
            select(KnownPlate.plate, KnownPlate.first_seen_at, KnownPlate.last_seen_at)
        ).all()
    hours = lambda at: (at - T).total_seconds() / 3600  # noqa: E731
    return {plate: (hours(first), hours(last)) for plate, first, last in rows}


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL the database is sent meanwhile."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engines = {container.db.engine, container.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)


def test_the_store_keeps_each_plate_once_with_its_first_and_last_sighting(city: Container) -> None:
    store = city.plate_store
    first = read("123ABC02", 5)
    store.record([first, read("123ABC02", 7), read("777KKK17", 1)])
    assert directory(city) == {"123ABC02": (5, 7), "777KKK17": (1, 1)}
    store.record([read("123ABC02", 2), read("123ABC02", 6)])  # one earlier, one between
    store.record([read("123 abc 02", 9)])  # stored normalised
    assert directory(city) == {"123ABC02": (2, 9), "777KKK17": (1, 1)}
    # A redelivered message is not stored again, and a refused read is not a plate seen.
    assert store.record([first, read("#!", 60)]).stored == 0
    assert directory(city) == {"123ABC02": (2, 9), "777KKK17": (1, 1)}


def test_a_plate_never_seen_is_answered_without_reading_the_sightings(city: Container) -> None:
    city.plate_store.record([read("123ABC02", 0), read("123ABD02", 1)])
    officer = add_user(city, "officer", "traffic_officer")[0]
    for plate, match in [
        ("999ZZZ09", Match.EXACT),
        ("99?ZZ?09", Match.WILDCARD),
        ("999Z*", Match.WILDCARD),
        ("*ZZZ09", Match.WILDCARD),
        ("999ZZZ09", Match.FUZZY),
    ]:
        with statements(city) as sent:
            found = city.plates.search(
                filters=PlateFilter(plate=plate, match=match), actor=officer, why=WHY
            )
        assert found == []
        assert any("known_plates" in s for s in sent)
        assert not any("plate_sightings" in s for s in sent), (plate, sent)
    with statements(city) as sent:
        found = city.plates.search(
            filters=PlateFilter(plate="123ABC02", match=Match.FUZZY), actor=officer, why=WHY
        )
    assert sorted(v.plate for v in found) == ["123ABC02", "123ABD02"]
    assert any("plate_sightings" in s for s in sent)
    with city.db.reader() as session:  # every search audited, the empty ones too
        audited = session.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'search'")
        ).scalar_one()
    assert audited == 6


def test_searches_bounded_in_time_find_what_a_scan_finds(city: Container) -> None:
    seen = {  # plate: hours it was seen
        "123ABC02": [0, 30, 31, 200],
        "123ABD02": [29],
        "124ABC02": [100, 101],
        "723ABC02": [400],
    }
    city.plate_store.record([read(p, h) for p, hours in seen.items() for h in hours])
    officer = add_user(city, "officer", "traffic_officer")[0]
    windows = [
        (None, None),
        (0, 1),
        (1, 30),
        (29, 32),
        (30, 31),
        (32, 200),
        (102, 399),
        (400, None),
    ]
    for plate, match, fits in [
        ("123ABC02", Match.EXACT, lambda p: p == "123ABC02"),
        ("12?AB?02", Match.WILDCARD, wildcard("12?AB?02").match),
        ("*ABC02", Match.WILDCARD, wildcard("*ABC02").match),
        ("123ABC02", Match.FUZZY, lambda p: within_one(p, "123ABC02")),
    ]:
        for since, until in windows:
            for limit in (1, 2, 1000):
                filters = PlateFilter(
                    plate=plate,
                    match=match,
                    since=None if since is None else T + timedelta(hours=since),
                    until=None if until is None else T + timedelta(hours=until),
                    limit=limit,
                )
                found = city.plates.search(filters=filters, actor=officer, why=WHY)
                expected = sorted(
                    (
                        (h, p)
                        for p, hours in seen.items()
                        for h in hours
                        if fits(p)
                        and (since is None or h >= since)
                        and (until is None or h < until)
                    ),
                    reverse=True,
                )[:limit]  # every time differs: the newest are well defined
                got = [((v.seen_at - T).total_seconds() / 3600, v.plate) for v in found]
                assert got == expected, (plate, match, since, until, limit)


def test_a_long_history_is_read_back_a_few_months_at_a_time(city: Container) -> None:
    days = {  # plate: days before T it was seen (every time differs)
        "123ABC02": [d + 0.5 for d in range(0, 420, 10)],  # every ten days for fourteen months
        "124ABC02": [395.25, 200.25, 31.25],
        "723ABC02": [100.75],
        "123ABC17": [3.125],
    }
    city.plate_store.record([read(p, -24 * d) for p, when in days.items() for d in when])
    officer = add_user(city, "officer", "traffic_officer")[0]
    at = lambda d: T - timedelta(days=d)  # noqa: E731
    forms = [
        ("123ABC02", Match.EXACT, lambda p: p == "123ABC02"),
        ("12?AB?02", Match.WILDCARD, wildcard("12?AB?02").match),
        ("*ABC02", Match.WILDCARD, wildcard("*ABC02").match),
        ("123ABC02", Match.FUZZY, lambda p: within_one(p, "123ABC02")),
    ]
    for plate, match, fits in forms:
        for since, until in [(None, None), (None, 35), (150, 60), (410, None), (396, 394)]:
            for limit in (1, 3, 4, 5, 12, 30, 44, 46, 1000):
                filters = PlateFilter(
                    plate=plate,
                    match=match,
                    since=None if since is None else at(since),
                    until=None if until is None else at(until),
                    limit=limit,
                )
                found = city.plates.search(filters=filters, actor=officer, why=WHY)
                expected = sorted(
                    (
                        (-d, p)
                        for p, when in days.items()
                        for d in when
                        if fits(p)
                        and (since is None or d <= since)
                        and (until is None or d > until)
                    ),
                    reverse=True,
                )[:limit]
                got = [((v.seen_at - T).total_seconds() / 86400, v.plate) for v in found]
                assert got == expected, (plate, match, since, until, limit)

    def windows_read(plate: str, limit: int) -> int:
        with statements(city) as sent:
            city.plates.search(
                filters=PlateFilter(plate=plate, limit=limit), actor=officer, why=WHY
            )
        return sum("WITH times AS" in s for s in sent)

    # Three sightings a month: the newest three are in November (T's month, to the 24th); for
    # more, the rate found so far (with half again to spare) reaches back to September, or for
    # thirty to December 2025, and a thousand are more than all the rest.
    windows = [windows_read("123ABC02", n) for n in (2, 3, 4, 6, 7, 30, 1000)]
    assert windows == [1, 1, 2, 2, 2, 2, 2]
    # Seen on 25 October, 9 May and 26 October 2025: for two, October 2026, August–September,
    # then March–July; for three, October, July–September, then all before.
    assert [windows_read("124ABC02", n) for n in (1, 2, 3)] == [1, 3, 3]


def test_a_sighting_from_a_camera_whose_clock_was_reset_is_still_found(city: Container) -> None:
    # The rate of the newest months would send the next window back thousands of years.
    times = [T, T - timedelta(days=10), datetime(1, 1, 2, tzinfo=UTC)]
    city.plate_store.record(
        [PlateObserved(camera_id="ast-1", plate="123ABC02", seen_at=t, confidence=0.9)
         for t in times]
    )  # fmt: skip
    officer = add_user(city, "officer", "traffic_officer")[0]
    found = city.plates.search(
        filters=PlateFilter(plate="123ABC02", limit=1000), actor=officer, why=WHY
    )
    assert [v.seen_at for v in found] == times


def test_a_pattern_of_more_plates_than_the_directory_lists_reads_the_sightings(
    city: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    plates = ["123AB02", "123AC02", "123AD02", "123AE02", "777KKK17"]
    city.plate_store.record([read(p, i) for i, p in enumerate(plates)])
    officer = add_user(city, "officer", "traffic_officer")[0]
    monkeypatch.setattr(queries_module, "MAX_KNOWN", 2)
    for pattern in ("123A?02", "123A*", "*A?02"):
        found = city.plates.search(
            filters=PlateFilter(plate=pattern, match=Match.WILDCARD), actor=officer, why=WHY
        )
        assert sorted(v.plate for v in found) == plates[:4], pattern


def test_the_retention_lets_go_of_plates_seen_only_before_what_it_keeps(
    city: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = T + timedelta(days=100)
    city.plate_store.record(
        [
            read("111AAA01", 0),
            read("222BBB02", 24),
            read("222BBB02", 24 * 95),
            read("333CCC03", 24 * 99),
        ]
    )
    History(city.db.engine, retention_days={"plate_sightings": 50}).run(now=now)
    left = directory(city)
    # 111AAA01 was seen only past the retention; 222BBB02 still has a sighting kept.
    assert "111AAA01" not in left
    assert set(left) == {"222BBB02", "333CCC03"}
    officer = add_user(city, "officer", "traffic_officer")[0]
    found = city.plates.search(
        filters=PlateFilter(plate="222BBB02", match=Match.EXACT), actor=officer, why=WHY
    )
    assert [(v.seen_at - T).days for v in found] == [95]


def test_the_migration_fills_the_directory_from_the_sightings_already_stored(
    tmp_path: Any,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0037")
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        add_sqlite_camera(conn)
        for i, (plate, at) in enumerate(
            [("123ABC02", "2026-03-01 10:00:00.000000"), ("123ABC02", "2026-01-05 08:00:00.000000"),
             ("777KKK17", "2026-02-02 00:00:00.000000")]
        ):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO plate_sightings (message_id, camera_id, plate, kind, seen_at,"
                    " confidence) VALUES (:m, 'cam-1', :p, 'kz_individual', :at, 0.9)"
                ),
                {"m": f"m{i}", "p": plate, "at": at},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM known_plates ORDER BY plate")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("123ABC02", "2026-01-05 08:00:00.000000", "2026-03-01 10:00:00.000000"),
        ("777KKK17", "2026-02-02 00:00:00.000000", "2026-02-02 00:00:00.000000"),
    ]


def test_a_plate_seen_more_often_than_the_limit_gives_its_newest_sightings(
    container: Container,
) -> None:
    for camera in ("ast-1", "ast-2"):
        container.cameras.register(
            camera=CameraCreate(id=camera, name=camera, latitude=51.13, longitude=71.43),
            actor=SYSTEM,
        )
    reads = [  # 123ABC02 30 times, alternating cameras; 123ABD02 (one off) in between
        PlateObserved(
            camera_id=("ast-1", "ast-2")[h % 2], plate=plate, seen_at=T + timedelta(hours=h),
            confidence=0.9,
        )
        for h in range(30)
        for plate in (["123ABC02", "123ABD02"] if h % 7 == 0 else ["123ABC02"])
    ]  # fmt: skip
    container.plate_store.record(reads)
    officer = add_user(container, "officer", "traffic_officer")[0]

    def hours(plate: str, match: Match, limit: int, camera: str | None = None) -> list[float]:
        found = container.plates.search(
            filters=PlateFilter(plate=plate, match=match, limit=limit, camera_id=camera),
            actor=officer,
            why=WHY,
        )
        return [(v.seen_at - T).total_seconds() / 3600 for v in found]

    assert hours("123ABC02", Match.EXACT, 5) == [29, 28, 27, 26, 25]
    assert hours("123ABC02", Match.EXACT, 30) == list(range(29, -1, -1))
    assert hours("123ABC02", Match.EXACT, 31) == list(range(29, -1, -1))
    assert hours("123ABC02", Match.FUZZY, 4) == [29, 28, 28, 27]  # 28: both plates
    assert hours("123ABC02", Match.EXACT, 3, camera="ast-1") == [28, 26, 24]
    assert hours("123AB?02", Match.WILDCARD, 2) == [29, 28]
