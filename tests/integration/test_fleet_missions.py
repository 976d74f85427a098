"""Missions and geofences on SQLite and PostgreSQL: a mission checked against no-fly zones
(even one its legs only cross), its patrol area, the unit's speed and endurance; exported as a
QGroundControl plan; uploaded to a simulated drone over the MAVLink mission protocol on
loopback, which then flies it; a unit inside a no-fly zone raises a live advisory."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kupol.bootstrap import Container
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.fleet.geofence import Fence, check_polygon
from kupol.fleet.service import Sample, UnitSpec
from kupol.fleet.sim import DroneSim
from tests.conftest import add_user
from tests.integration.test_fleet import _stop, eventually, mavlink_server
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
HOME = (43.2000, 76.9000)
# A small square no-fly zone ~500 m north of home, 200 m across.
ZONE = [[43.2045, 76.8988], [43.2045, 76.9012], [43.2063, 76.9012], [43.2063, 76.8988]]
PARK = [[43.2380, 76.9440], [43.2380, 76.9470], [43.2400, 76.9470], [43.2400, 76.9440]]


def drone_spec(sysid: int | None = 7) -> UnitSpec:
    return UnitSpec(callsign="drone-1", kind="drone", capabilities=("camera",), endurance_min=30,
                    max_speed_kmh=72, home_lat=HOME[0], home_lon=HOME[1],
                    mavlink_sysid=sysid)  # fmt: skip


def test_geofence_geometry() -> None:
    square = Fence("zone", "no_fly", check_polygon(ZONE))
    assert square.contains((43.2054, 76.9000))
    assert not square.contains((43.2030, 76.9000))
    # A leg from south to north of the zone, both ends outside, passes through it.
    assert square.entered_by([(43.2030, 76.9000), (43.2080, 76.9000)])
    assert not square.entered_by([(43.2030, 76.8950), (43.2080, 76.8950)])  # west of it
    for bad, message in [([[1, 2], [3, 4]], "3 to 500"), ([[1, 2], [1, 2], [1, 2]], "no area"),
                         ([[91, 0], [0, 1], [1, 1]], "latitude"),
                         # a bow tie: the corners clicked out of order
                         ([[43.20, 76.90], [43.21, 76.91], [43.21, 76.90], [43.20, 76.91]],
                          "crosses itself \\(edges 1 and 3\\)")]:  # fmt: skip
        with pytest.raises(InvalidInputError, match=message):
            check_polygon(bad)
    # Concave is fine; so is a closed ring.
    notch = [[43.20, 76.90], [43.20, 76.92], [43.22, 76.92], [43.21, 76.91], [43.22, 76.90]]
    assert len(check_polygon([*notch, notch[0]])) == 5


def test_a_mission_is_checked_before_it_is_accepted(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet, missions = container.fleet.fleet, container.fleet.missions
    fleet.register(actor=admin, spec=drone_spec())
    missions.add_fence(actor=admin, name="Airport approach", kind="no_fly", polygon=ZONE)
    missions.add_fence(actor=admin, name="Central park", kind="patrol_area", polygon=PARK)
    north = [[43.2080, 76.9000, 80]]  # straight north: the leg crosses the zone
    with pytest.raises(InvalidInputError, match="no-fly zone 'Airport approach'"):
        missions.plan(actor=admin, callsign="drone-1", name="north", waypoints=north)
    around = [[43.2030, 76.8950, 80], [43.2080, 76.8950, 80], [43.2080, 76.8960, 80]]
    with pytest.raises(InvalidInputError, match="altitude must be 1–120 m"):
        missions.plan(actor=admin, callsign="drone-1", name="high",
                      waypoints=[[43.2030, 76.8950, 300]])  # fmt: skip
    with pytest.raises(InvalidInputError, match="top speed"):
        missions.plan(actor=admin, callsign="drone-1", name="fast", waypoints=around,
                      speed_mps=40)  # fmt: skip
    far = [[43.2, 77.4, 80]]  # 41 km east and back at 16 m/s: 84 min of a 30-min battery
    with pytest.raises(
        InvalidInputError, match=r"takes 84 min at 16\.0 m/s \(81\.1 km\); the unit may work 24 min"
    ):
        missions.plan(actor=admin, callsign="drone-1", name="far", waypoints=far)
    with pytest.raises(InvalidInputError, match="leave the patrol area 'Central park'"):
        missions.plan(actor=admin, callsign="drone-1", name="park", waypoints=around,
                      patrol_area="Central park")  # fmt: skip
    with pytest.raises(NotFoundError):
        missions.plan(actor=admin, callsign="drone-9", name="x", waypoints=around)
    with pytest.raises(InvalidInputError, match="the hold must be 0–3600 s"):
        missions.plan(actor=admin, callsign="drone-1", name="stay",
                      waypoints=[[43.2030, 76.8950, 80, 4000]])  # fmt: skip
    ok = missions.plan(actor=admin, callsign="drone-1", name="around", waypoints=around)
    assert ok.status == "planned" and ok.speed_mps == pytest.approx(16.0)
    assert 1500 < ok.length_m < 2200
    # A hold (the drone hovering at a waypoint) is flown time.
    held = missions.plan(actor=admin, callsign="drone-1", name="watch",
                         waypoints=[[*around[0], 120], *around[1:]])  # fmt: skip
    assert held.waypoints[0] == [*around[0], 120] and held.waypoints[1] == around[1]
    assert held.duration_s == pytest.approx(ok.duration_s + 120)
    assert [i.params[0] for i in missions.mission_items(held, HOME)] == [0, 0, 120, 0, 0, 0]
    # Switched off, the zone no longer stands in the way.
    missions.set_fence_active(actor=admin, name="Airport approach", active=False)
    assert missions.plan(actor=admin, callsign="drone-1", name="north", waypoints=north).id

    plan = missions.qgc_plan(ok, HOME)
    assert plan["fileType"] == "Plan" and plan["mission"]["plannedHomePosition"] == [*HOME, 0]
    commands = [item["command"] for item in plan["mission"]["items"]]
    assert commands == [22, 16, 16, 16, 20]  # take-off, three waypoints, return to launch
    assert plan["mission"]["items"][1]["params"][4:] == around[0]


def test_a_unit_inside_a_no_fly_zone_raises_a_live_advisory(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet, missions = container.fleet.fleet, container.fleet.missions
    fleet.register(actor=admin, spec=drone_spec(None))
    start = utcnow()
    fleet.accept("drone-1", Sample(at=start, lat=43.2054, lon=76.9000))
    assert fleet.flush() == []  # no zone yet: nothing about it
    missions.add_fence(actor=admin, name="Airport approach", kind="no_fly", polygon=ZONE)
    fleet.accept("drone-1", Sample(at=start + timedelta(seconds=1), lat=43.2054, lon=76.9000))
    fleet.accept("drone-1", Sample(at=start + timedelta(seconds=2), lat=43.2055, lon=76.9000))
    fleet.accept("drone-1", Sample(at=start + timedelta(seconds=3), lat=43.2030, lon=76.9000))
    events = [(e.advisory, e.cleared, e.detail) for e in fleet.flush()]
    assert events == [
        ("geofence_breach", False, "inside the no-fly zone Airport approach"),
        ("geofence_breach", True, "inside the no-fly zone Airport approach"),
    ]


def test_a_mission_is_uploaded_to_a_drone_over_mavlink_and_flown(
    database_url: str, tmp_path: Path
) -> None:
    container, loop, thread, port = mavlink_server(database_url, tmp_path)
    try:
        admin = add_user(container, "admin", "admin")[0]
        container.fleet.fleet.register(actor=admin, spec=drone_spec())
        waypoints = [[43.2030, 76.8950, 60, 30], [43.2080, 76.8950, 60]]  # hover 30 s at one
        mission = container.fleet.missions.plan(actor=admin, callsign="drone-1", name="survey",
                                                waypoints=waypoints)  # fmt: skip
        # The autopilot: waits for a mission (sending heartbeats), then flies it.
        sim = DroneSim(sysid=7, route=[HOME, (43.21, 76.91)], target=f"127.0.0.1:{port}",
                       speed_mps=60, rate_hz=4, speedup=20)  # fmt: skip
        got: list[bool] = []
        vehicle = threading.Thread(target=lambda: got.append(sim.wait_for_mission(20)))
        vehicle.start()
        listener = container.fleet.mavlink
        assert listener is not None
        assert eventually(lambda: listener.packets > 0)  # its heartbeats tell kupol where it is
        uploaded = asyncio.run_coroutine_threadsafe(
            container.fleet.upload(actor=admin, mission_id=mission.id), loop
        ).result(30)
        vehicle.join(10)
        assert got == [True] and uploaded.status == "uploaded"
        assert [(i.seq, i.command) for i in sim.mission] == [(0, 16), (1, 22), (2, 16),
                                                             (3, 16), (4, 20)]  # fmt: skip
        assert sim.route == [HOME, (43.2030, 76.8950), (43.2080, 76.8950)]
        assert sim.alt == 60 and sim.holds == {1: 30.0}
        sim.run()
        # The drone reported its progress: under way, then done at its last waypoint.
        flown = eventually(lambda: (m := container.fleet.missions.mission(
            actor=admin, mission_id=mission.id)).status == "done" and m)  # fmt: skip
        assert flown and flown.status == "done" and flown.reached_seq == 3  # the last waypoint
        track = container.fleet.fleet.track(actor=admin, callsign="drone-1", limit=10_000)
        assert max(p["lat"] for p in track) == pytest.approx(43.2080, abs=1e-5)
        assert min(p["lon"] for p in track) == pytest.approx(76.8950, abs=1e-5)
        assert track[3]["alt_m"] == pytest.approx(60, abs=0.01)
        hovering = [p for p in track if p["speed_mps"] == 0 and p["lat"] == pytest.approx(
            43.2030, abs=1e-6) and p["lon"] == pytest.approx(76.8950, abs=1e-6)]  # fmt: skip
        assert len(hovering) == 120  # 30 s at 4 Hz
    finally:
        _stop(container, loop, thread)


def test_missions_and_geofences_over_the_api(api: Any, container: Container) -> None:
    operator = login_as(api, container, "duty", "operator")
    analyst = login_as(api, container, "an", "analyst")
    unit = {"callsign": "drone-1", "kind": "drone", "endurance_min": 30, "max_speed_kmh": 72,
            "home_lat": HOME[0], "home_lon": HOME[1], "mavlink_sysid": 7}  # fmt: skip
    assert api.post("/api/fleet/units", json=unit, headers=operator).status_code == 201
    zone = {"name": "Airport approach", "kind": "no_fly", "polygon": ZONE}
    assert api.post("/api/fleet/geofences", json=zone, headers=operator).status_code == 201
    assert api.post("/api/fleet/geofences", json=zone, headers=operator).status_code == 409
    assert api.post("/api/fleet/geofences", json=zone, headers=analyst).status_code == 403
    refused = api.post("/api/fleet/missions", headers=operator, json={
        "callsign": "drone-1", "name": "north", "waypoints": [[43.2080, 76.9000, 80]]})  # fmt: skip
    assert refused.status_code == 422 and "no-fly zone" in refused.text
    made = api.post("/api/fleet/missions", headers=operator, json={
        "callsign": "drone-1", "name": "west", "waypoints": [[43.2030, 76.8950, 80]]})  # fmt: skip
    assert made.status_code == 201, made.text
    mission_id = made.json()["id"]
    plan = api.get(f"/api/fleet/missions/{mission_id}/plan", headers=analyst)
    assert plan.status_code == 200 and plan.json()["fileType"] == "Plan"
    assert "mission-" in plan.headers["content-disposition"]
    assert plan.json()["geoFence"]["polygons"][0]["inclusion"] is False
    # The MAVLink listener is off in this server: the upload says so.
    upload = api.post(f"/api/fleet/missions/{mission_id}/upload", headers=operator)
    assert upload.status_code == 503 and "MAVLink listener is off" in upload.text
    done = api.put(f"/api/fleet/missions/{mission_id}/status", json={"status": "aborted"},
                   headers=operator)  # fmt: skip
    assert done.json()["status"] == "aborted"
    again = api.put(f"/api/fleet/missions/{mission_id}/status", json={"status": "active"},
                    headers=operator)  # fmt: skip
    assert again.status_code == 409
    assert [m["name"] for m in api.get("/api/fleet/missions", headers=analyst).json()] == ["west"]


def test_a_unit_leaving_its_active_mission_s_patrol_area_raises_a_live_advisory(
    container: Container,
) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet, missions = container.fleet.fleet, container.fleet.missions
    fleet.register(actor=admin, spec=UnitSpec(
        callsign="dog-1", kind="robot_dog", endurance_min=90, max_speed_kmh=11,
        home_lat=PARK[0][0], home_lon=PARK[0][1]))  # fmt: skip
    missions.add_fence(actor=admin, name="Central park", kind="patrol_area", polygon=PARK)
    inside = [43.2390, 76.9455]
    corner = [43.2384, 76.9444]  # the waypoint, 120 m from where the dog is seen inside
    mission = missions.plan(actor=admin, callsign="dog-1", name="park", waypoints=[corner],
                            patrol_area="Central park")  # fmt: skip
    start = utcnow()
    fleet.accept("dog-1", Sample(at=start, lat=43.2410, lon=76.9455))  # outside: not active yet
    assert fleet.flush() == []
    missions.set_status(mission_id=mission.id, status="active", actor=admin)
    fleet.accept("dog-1", Sample(at=start + timedelta(seconds=1), lat=inside[0], lon=inside[1]))
    fleet.accept("dog-1", Sample(at=start + timedelta(seconds=2), lat=43.2410, lon=76.9455))
    assert [(e.advisory, e.cleared) for e in fleet.flush()] == [("left_area", False)]
    missions.set_status(mission_id=mission.id, status="done", actor=admin)
    assert [(e.advisory, e.cleared) for e in fleet.flush()] == [("left_area", True)]
    fleet.accept("dog-1", Sample(at=start + timedelta(seconds=3), lat=43.2420, lon=76.9455))
    assert fleet.flush() == []  # the mission is over: the area no longer holds it
