"""Average-speed sections over the plate sightings store, on SQLite and PostgreSQL: a fast
trip becomes one speeding violation with both plate crops, graded on the exit's local day;
slow trips, low-confidence reads and repeated runs report nothing more; and a running kupol
does it on its own over the bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.plates.messages import PlateObserved
from kupol.settings import SectionSettings
from kupol.traffic.model import Violation
from kupol.traffic.section_job import SectionJob
from tests.conftest import make_settings

SECTION = SectionSettings(
    id="a2-km12", entry_camera="a2-in", exit_camera="a2-out", length_m=5000, limit_kmh=90
)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def cameras(container: Container) -> None:
    for camera_id in ("a2-in", "a2-out"):
        container.cameras.register(
            camera=CameraCreate(
                id=camera_id, name=camera_id, kind="fixed", latitude=51.1, longitude=71.4
            ),
            actor=SYSTEM,
        )


def read(
    container: Container, plate: str, camera: str, minutes: float, confidence: float = 0.95
) -> None:
    crop = container.traffic.files.save(f"{plate}-{camera}".encode(), folder=f"{camera}/plates")
    container.plate_store.record(
        [
            PlateObserved(
                camera_id=camera,
                plate=plate,
                seen_at=T0 + timedelta(minutes=minutes),
                confidence=confidence,
                crop_uri=crop.uri,
                crop_sha256=crop.sha256,
            )
        ]
    )


def test_fast_trips_become_violations_once(container: Container) -> None:
    cameras(container)
    read(container, "123ABC02", "a2-in", 0)
    read(container, "123ABC02", "a2-out", 2.5)  # 5 km in 2.5 min: 120 km/h on a 90 road
    read(container, "777GG17", "a2-in", 1)
    read(container, "777GG17", "a2-out", 4)  # 100 km/h: within the 10 km/h tolerance
    read(container, "505KZA01", "a2-in", 1, confidence=0.5)  # not sure enough
    read(container, "505KZA01", "a2-out", 2)
    job = SectionJob(db=container.db, sections=[SECTION])
    found = job.run_once(until=T0 + timedelta(minutes=10))
    assert [(v.plate, v.measured["speed_kmh"]) for v in found] == [("123ABC02", 120.0)]
    [violation] = found
    assert violation.camera_id == "a2-out" and violation.offence == "speeding"
    assert [e.kind for e in violation.evidence] == ["plate_entry", "plate_exit"]
    assert container.traffic.recorder.record(found).stored == 1

    # A second job (a restart) looking over the same window finds the same trip: stored once.
    again = SectionJob(db=container.db, sections=[SECTION]).run_once(
        until=T0 + timedelta(minutes=11)
    )
    assert [v.id for v in again] == [violation.id]
    assert container.traffic.recorder.record(again).duplicates == 1
    job.commit(T0 + timedelta(minutes=10))
    # The next run looks 15 minutes behind the last one: the trip again, the same id.
    assert [v.id for v in job.run_once(until=T0 + timedelta(minutes=20))] == [violation.id]
    job.commit(T0 + timedelta(minutes=20))
    assert job.run_once(until=T0 + timedelta(minutes=40)) == []  # nothing new
    with container.db.reader() as session:
        [row] = session.query(Violation).all()
        assert (row.article, row.part, row.fine_mrp, row.mrp_tenge) == ("592", "2", 10.0, 4325)


def test_a_running_kupol_reports_section_trips_over_the_bus(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url,
        data_dir=tmp_path / "data",
        traffic={"sections": [SECTION.model_dump()], "sections_every_s": 0.2},
    )
    container = build_container(settings)
    cameras(container)
    now = datetime.now(UTC)
    for camera, minutes in (("a2-in", -3.0), ("a2-out", -0.5)):  # 5 km in 2.5 min
        container.plate_store.record(
            [
                PlateObserved(
                    camera_id=camera,
                    plate="123ABC02",
                    seen_at=now + timedelta(minutes=minutes),
                    confidence=0.95,
                )
            ]
        )

    async def run() -> int:
        await container.start(with_sources=False)
        try:
            for _ in range(50):
                await asyncio.sleep(0.1)
                with container.db.reader() as session:
                    count = session.query(Violation).count()
                if count:
                    return count
            return 0
        finally:
            await container.stop()

    assert asyncio.run(run()) == 1
