"""Dispatch on SQLite and PostgreSQL, over a synthetic city's road graph: units ranked by
their time to an incident (a car over the roads, a dog walking them, a drone flying straight),
the unavailable ones left out, a unit sent with its route, and its arrival recorded from its
telemetry."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kupol.bootstrap import Container, build_container
from kupol.core.errors import ConflictError, InvalidInputError
from kupol.core.geo import haversine_m
from kupol.core.messages import utcnow
from kupol.fleet.missions import MissionView
from kupol.fleet.roads import grid_city, load_geojson
from kupol.fleet.service import Sample, UnitSpec
from tests.conftest import add_user, make_settings
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
ORIGIN = (43.2300, 76.9000)
SPACING = 250.0
DLAT = SPACING / 111_195.0


def write_city(path: Path) -> Path:
    """The 12 × 12 grid of :func:`grid_city` as GeoJSON."""
    graph = grid_city(ORIGIN, rows=12, cols=12, spacing_m=SPACING)
    path.write_text(json.dumps(graph.to_geojson()))
    return path


def at(i: float, j: float) -> tuple[float, float]:
    """Grid crossing (row i, column j)."""
    import math

    dlon = SPACING / (111_195.0 * math.cos(math.radians(ORIGIN[0])))
    return (ORIGIN[0] + i * DLAT, ORIGIN[1] + j * dlon)


def spec(callsign: str, kind: str, home: tuple[float, float], speed: float, **kw: Any) -> UnitSpec:
    return UnitSpec(callsign=callsign, kind=kind, endurance_min=kw.pop("endurance", 240),
                    max_speed_kmh=speed, home_lat=home[0], home_lon=home[1], **kw)  # fmt: skip


def test_the_road_graph_routes_over_streets_and_arterials(tmp_path: Path) -> None:
    graph = load_geojson(write_city(tmp_path / "city.geojson"))
    assert graph.junctions == 144
    car = graph.route(at(1, 1), at(1, 9), pace_mps=20, car=True)
    assert car is not None
    # Row 1 is a 30 km/h street; the arterial (row 0, 60 km/h) one block south is quicker.
    assert min(p[0] for p in car.path) == pytest.approx(ORIGIN[0], abs=1e-6)
    assert car.metres == pytest.approx(8 * SPACING + 2 * SPACING, rel=0.01)
    walk = graph.route(at(1, 1), at(1, 9), pace_mps=1.5, car=False)
    assert walk is not None and walk.metres == pytest.approx(8 * SPACING, rel=0.01)
    assert walk.seconds == pytest.approx(8 * SPACING / 1.5, rel=0.01)
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"geometry": {"type": '
                   '"LineString", "coordinates": [[1]]}}]}')  # fmt: skip
    with pytest.raises(InvalidInputError, match="feature 1"):
        load_geojson(bad)


def test_units_are_ranked_sent_and_their_arrival_recorded(
    database_url: str, tmp_path: Path
) -> None:
    city = write_city(tmp_path / "city.geojson")
    settings = make_settings(
        database_url=database_url, data_dir=tmp_path / "data", fleet={"roads": str(city)}
    )
    container: Container = build_container(settings)
    try:
        admin = add_user(container, "admin", "admin")[0]
        fleet, dispatcher = container.fleet.fleet, container.fleet.dispatcher
        fleet.register(actor=admin, spec=spec("car-1", "patrol_car", at(0, 0), 80))
        fleet.register(actor=admin, spec=spec("car-2", "patrol_car", at(11, 11), 80))
        fleet.register(actor=admin, spec=spec("dog-1", "robot_dog", at(5, 4), 6, endurance=90))
        fleet.register(actor=admin, spec=spec("drone-1", "drone", at(0, 11), 60, endurance=30))
        fleet.register(actor=admin, spec=spec("car-3", "patrol_car", at(5, 5), 80))
        fleet.set_status(actor=admin, callsign="car-3", status="charging")  # not available
        incident = at(5, 5)
        ranked = dispatcher.rank(actor=admin, lat=incident[0], lon=incident[1])
        names = [c.callsign for c in ranked]
        assert "car-3" not in names and set(names) == {"car-1", "car-2", "dog-1", "drone-1"}
        by = {c.callsign: c for c in ranked}
        assert by["dog-1"].how == "roads" and by["drone-1"].how == "air"
        # car-1: 10 blocks, mostly on 60 km/h arterials (165 s); the drone: 30 s to take off
        # and 1.95 km straight; the dog: one block at 1.33 m/s (188 s); car-2: 14 blocks.
        assert names == ["car-1", "drone-1", "dog-1", "car-2"]
        assert by["car-1"].metres == pytest.approx(10 * SPACING, rel=0.01)
        assert by["car-2"].metres == pytest.approx(14 * SPACING, rel=0.01)
        assert by["dog-1"].eta_s == pytest.approx(250 / (6 / 3.6 * 0.8), rel=0.01)
        assert by["drone-1"].eta_s == pytest.approx(
            30 + haversine_m(at(0, 11), incident) / (60 / 3.6 * 0.8), rel=0.01)  # fmt: skip
        assert by["car-1"].route[0] == [round(at(0, 0)[0], 7), round(at(0, 0)[1], 7)]

        sent = dispatcher.send(actor=admin, callsign="car-1", lat=incident[0], lon=incident[1])
        assert sent.status == "en_route" and sent.how == "roads" and len(sent.route) > 3
        with pytest.raises(ConflictError, match="already on its way"):
            dispatcher.send(actor=admin, callsign="car-1", lat=incident[0], lon=incident[1])
        with pytest.raises(ConflictError, match="not available"):
            dispatcher.send(actor=admin, callsign="car-3", lat=incident[0], lon=incident[1])
        assert "car-1" not in [c.callsign for c in dispatcher.rank(actor=admin, lat=incident[0],
                                                                   lon=incident[1])]  # fmt: skip
        # Its telemetry: on the way, then within 60 m of the incident.
        start = utcnow()
        fleet.accept("car-1", Sample(at=start, lat=at(2, 3)[0], lon=at(2, 3)[1]))
        assert dispatcher.record_arrivals() == 0
        near = (incident[0] + 0.0003, incident[1])  # ~33 m north
        fleet.accept("car-1", Sample(at=start + timedelta(seconds=90), lat=near[0], lon=near[1]))
        assert dispatcher.record_arrivals() == 1
        fleet.flush()
        done = dispatcher.dispatches(actor=admin)[0]
        assert done.status == "arrived" and done.arrived_at is not None
        assert fleet.unit(actor=admin, callsign="car-1").status == "on_mission"
        # A drone whose battery would not last there and back is not offered.
        fleet.accept("drone-1", Sample(at=start, lat=at(0, 11)[0], lon=at(0, 11)[1],
                                       battery_pct=5))  # fmt: skip
        fleet.flush()
        far = dispatcher.rank(actor=admin, lat=incident[0], lon=incident[1])
        assert "drone-1" not in [c.callsign for c in far]
    finally:
        container.db.dispose()


def test_dispatch_over_the_api(api: Any, container: Container) -> None:
    operator = login_as(api, container, "duty", "operator")
    analyst = login_as(api, container, "an", "analyst")
    unit = {"callsign": "car-1", "kind": "patrol_car", "endurance_min": 480,
            "max_speed_kmh": 90, "home_lat": 43.23, "home_lon": 76.90}  # fmt: skip
    assert api.post("/api/fleet/units", json=unit, headers=operator).status_code == 201
    place = {"lat": 43.24, "lon": 76.91}
    ranked = api.post("/api/fleet/dispatch/rank", json=place, headers=analyst).json()
    # No road graph configured here: a straight line × 1.4, and it says so.
    assert [(c["callsign"], c["how"]) for c in ranked] == [("car-1", "estimate")]
    assert api.post("/api/fleet/dispatch/rank", json={}, headers=analyst).status_code == 422
    missing = api.post("/api/fleet/dispatch/rank", json={"incident_id": 99}, headers=analyst)
    assert missing.status_code == 404
    sent = api.post("/api/fleet/dispatches", json={**place, "callsign": "car-1"},
                    headers=operator)  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert api.post("/api/fleet/dispatches", json={**place, "callsign": "car-1"},
                    headers=analyst).status_code == 403  # fmt: skip
    listed = api.get("/api/fleet/dispatches", params={"open": "true"}, headers=analyst).json()
    assert [d["callsign"] for d in listed] == ["car-1"]
    back = api.put(f"/api/fleet/dispatches/{sent.json()['id']}", json={"status": "cancelled"},
                   headers=operator)  # fmt: skip
    assert back.json()["status"] == "cancelled"
    assert api.get("/api/fleet/dispatches", params={"open": "true"}, headers=analyst).json() == []


def test_a_robot_dog_s_mission_follows_the_streets(database_url: str, tmp_path: Path) -> None:
    city = write_city(tmp_path / "city.geojson")
    settings = make_settings(
        database_url=database_url, data_dir=tmp_path / "data", fleet={"roads": str(city)}
    )
    container: Container = build_container(settings)
    try:
        admin = add_user(container, "admin", "admin")[0]
        container.fleet.fleet.register(actor=admin, spec=spec("dog-1", "robot_dog", at(0, 0), 6))
        missions = container.fleet.missions
        # Diagonally across two blocks and back: straight, 2 × 707 m; over the streets,
        # 2 × 1,000 m (two blocks east, two north).
        mission = missions.plan(actor=admin, callsign="dog-1", name="round",
                                waypoints=[list(at(2, 2))], speed_mps=1.5)  # fmt: skip
        assert mission.length_m == pytest.approx(4 * 2 * SPACING, rel=0.01)
        assert mission.duration_s == pytest.approx(4 * 2 * SPACING / 1.5, rel=0.01)
        assert mission.path is not None and len(mission.path) == 9  # home, 7 junctions, home
        # No-fly zones are airspace: a zone over the dog's street does not stop it.
        corner = at(1, 0)
        missions.add_fence(actor=admin, name="corner", kind="no_fly", polygon=[
            [corner[0] - 0.0005, corner[1] - 0.0005], [corner[0] - 0.0005, corner[1] + 0.0005],
            [corner[0] + 0.0005, corner[1] + 0.0005], [corner[0] + 0.0005, corner[1] - 0.0005],
        ])  # fmt: skip
        again = missions.plan(actor=admin, callsign="dog-1", name="again",
                              waypoints=[list(at(2, 2))], speed_mps=1.5)  # fmt: skip
        assert again.path == mission.path

        # Under way, its telemetry marks the waypoints reached, in order, and the last one
        # makes it done.
        fleet = container.fleet.fleet
        walk = missions.plan(actor=admin, callsign="dog-1", name="walk", speed_mps=1.5,
                             waypoints=[list(at(1, 0)), list(at(1, 1))])  # fmt: skip
        missions.set_status(mission_id=walk.id, status="active", actor=admin)
        t0 = utcnow()

        def report(seconds: int, where: tuple[float, float]) -> MissionView:
            fleet.accept("dog-1", Sample(at=t0 + timedelta(seconds=seconds), lat=where[0] + 1e-4,
                                         lon=where[1]))  # 11 m off: within reach  # fmt: skip
            return missions.mission(actor=admin, mission_id=walk.id)

        assert report(0, at(1, 1)).reached_seq is None  # the second before the first: nothing
        assert report(10, at(0, 1)).reached_seq is None  # nowhere near
        assert report(20, at(1, 0)).reached_seq == 2 and report(21, at(1, 0)).status == "active"
        done = report(30, at(1, 1))
        assert done.reached_seq == 3 and done.status == "done"
        assert [m.status for m in missions.missions(actor=admin, callsign="dog-1")] == [
            "done", "planned", "planned"]  # fmt: skip
    finally:
        container.db.dispose()
