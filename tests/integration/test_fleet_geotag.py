"""Mobile video placed on the map, on SQLite and PostgreSQL: what a drone's camera sees — an
event, a speeding violation on the highway — is stored with where the drone was at that
moment, interpolated along its track; a fixed camera's events are left as they were."""

from __future__ import annotations

from datetime import timedelta

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

    speeding = ViolationObserved(
        camera_id="drone-1-cam", offence="speeding", occurred_at=t0 + timedelta(seconds=0.5),
        plate="123ABC02", plate_confidence=0.95, measured={"speed_kmh": 131, "limit_kmh": 90},
        evidence=(evidence(container),),
    )  # fmt: skip
    container.traffic.recorder.record([speeding])
    with container.db.reader() as session:
        row = session.query(Violation).one()
    assert row.measured["speed_kmh"] == 131
    assert row.measured["geo"]["lon"] == pytest.approx(71.4170)
    assert row.measured["geo"]["unit"] == "drone-1"
