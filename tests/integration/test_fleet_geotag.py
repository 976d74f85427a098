"""Mobile video placed on the map, on SQLite and PostgreSQL: what a drone's camera sees — an
event, a speeding violation on the highway — is stored with where the drone was at that
moment, interpolated along its track; a fixed camera's events are left as they were."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import utcnow
from kupol.events.messages import CameraEventObserved
from kupol.events.model import CameraEvent
from kupol.fleet.service import Sample, UnitSpec
from kupol.traffic.messages import ViolationObserved
from kupol.traffic.model import Violation
from tests.conftest import add_user
from tests.integration.test_api_traffic_review import evidence

A = (51.0890, 71.4160)
B = (51.0890, 71.4200)  # 280 m east, two seconds later (140 m/s: a fast drone, an easy sum)


def test_what_a_drone_sees_is_placed_on_its_track(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    for cam, kind in (("drone-1-cam", "drone"), ("fixed-1", "fixed")):
        container.cameras.register(
            camera=CameraCreate(id=cam, name=cam, kind=kind, latitude=A[0], longitude=A[1]),
            actor=SYSTEM,
        )
    fleet = container.fleet.fleet
    fleet.register(actor=admin, spec=UnitSpec(
        callsign="drone-1", kind="drone", endurance_min=240, max_speed_kmh=72,
        home_lat=A[0], home_lon=A[1], camera_id="drone-1-cam"))  # fmt: skip
    t0 = utcnow() - timedelta(minutes=1)
    fleet.accept("drone-1", Sample(at=t0, lat=A[0], lon=A[1], alt_m=80, heading_deg=350))
    fleet.accept("drone-1", Sample(at=t0 + timedelta(seconds=2), lat=B[0], lon=B[1], alt_m=90,
                                   heading_deg=10))  # fmt: skip
    seen = [
        CameraEventObserved(camera_id="drone-1-cam", type="vehicle", confidence=0.9,
                            occurred_at=t0 + timedelta(seconds=1)),
        CameraEventObserved(camera_id="drone-1-cam", type="vehicle", confidence=0.9,
                            occurred_at=t0 + timedelta(minutes=5)),  # no telemetry then
        CameraEventObserved(camera_id="fixed-1", type="vehicle", confidence=0.9,
                            occurred_at=t0 + timedelta(seconds=1)),
    ]  # fmt: skip
    container.recorder.record(seen)
    with container.db.reader() as session:
        payloads = {e.id: e.payload for e in session.query(CameraEvent)}
    geo = payloads[seen[0].id]["geo"]
    assert geo["unit"] == "drone-1" and geo["from"] == "track"
    assert geo["lat"] == pytest.approx(A[0]) and geo["lon"] == pytest.approx(71.4180)
    assert geo["alt_m"] == pytest.approx(85) and geo["heading_deg"] == pytest.approx(0)
    assert payloads[seen[1].id]["geo"] == {"unit": "drone-1",
                                           "error": "no telemetry within 10 s"}  # fmt: skip
    assert "geo" not in payloads[seen[2].id]

    assert geo["speed_mps"] == pytest.approx(140, rel=0.01)  # from its displacement

    # A violation from that camera keeps the place; a red light needs no still camera.
    red = ViolationObserved(
        camera_id="drone-1-cam", offence="red_light", occurred_at=t0 + timedelta(seconds=0.5),
        plate="123ABC02", plate_confidence=0.95, evidence=(evidence(container),),
    )  # fmt: skip
    assert container.traffic.recorder.record([red]).stored == 1
    with container.db.reader() as session:
        row = session.query(Violation).one()
    assert row.measured["geo"]["lon"] == pytest.approx(71.4170)
    assert row.measured["geo"]["unit"] == "drone-1"


def _speeding(container: Container, camera: str, at: datetime) -> ViolationObserved:
    return ViolationObserved(
        camera_id=camera, offence="speeding", occurred_at=at, plate="123ABC02",
        plate_confidence=0.95, measured={"speed_kmh": 131, "limit_kmh": 90, "track_s": 2.0},
        evidence=(evidence(container),),
    )  # fmt: skip


def test_a_speed_stands_only_from_a_still_camera(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet = container.fleet.fleet
    for n in (1, 2):
        container.cameras.register(
            camera=CameraCreate(id=f"cam-{n}", name=f"cam-{n}", kind="drone", latitude=A[0],
                                longitude=A[1]), actor=SYSTEM)  # fmt: skip
        fleet.register(actor=admin, spec=UnitSpec(
            callsign=f"drone-{n}", kind="drone", endurance_min=240, max_speed_kmh=72,
            home_lat=A[0], home_lon=A[1], camera_id=f"cam-{n}"))  # fmt: skip
    t0 = utcnow() - timedelta(minutes=5)
    for s in range(0, 61):  # drone-1 hovers a minute (GPS jitter of a few cm)
        at = t0 + timedelta(seconds=s)
        fleet.accept("drone-1", Sample(at=at, lat=A[0] + (s % 2) * 3e-7, lon=A[1], alt_m=80,
                                       speed_mps=0.1))  # fmt: skip
    for s in range(0, 31):  # drone-2 hovers 30 s, then flies off at 15 m/s
        at = t0 + timedelta(seconds=s)
        fleet.accept("drone-2", Sample(at=at, lat=A[0], lon=A[1], alt_m=80, speed_mps=0.0))
    for s in range(31, 61):
        at = t0 + timedelta(seconds=s)
        lon = A[1] + (s - 30) * 15 / 70_000  # about 15 m/s east at this latitude
        fleet.accept("drone-2", Sample(at=at, lat=A[0], lon=lon, alt_m=80, speed_mps=15.0))
    stats = container.traffic.recorder.record([
        still := _speeding(container, "cam-1", t0 + timedelta(seconds=20)),
        _speeding(container, "cam-2", t0 + timedelta(seconds=45)),  # moving all along
        _speeding(container, "cam-2", t0 + timedelta(seconds=31.5)),  # started still, not done
        _speeding(container, "cam-1", t0 + timedelta(minutes=10)),  # no telemetry then
        kept := _speeding(container, "cam-2", t0 + timedelta(seconds=25)),
    ])  # fmt: skip
    assert (stats.stored, stats.refused) == (2, 3)
    with container.db.reader() as session:
        rows = {r.message_id: r for r in session.query(Violation)}
    assert set(rows) == {str(still.id), str(kept.id)}
    geo = rows[str(still.id)].measured["geo"]
    assert geo["unit"] == "drone-1" and geo["speed_mps"] <= 0.1
    assert geo["lat"] == pytest.approx(A[0], abs=1e-6)
