"""The demo's fleet: units, geofences, the drone's highway mission and an incident with the
nearest patrol car sent over the demo city's streets — seeded once; and, while kupol runs,
the simulated drone (MAVLink) and robot dog (MQTT) live on it."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

from kupol.fleet.demo import PARK, PARK_PATHS, seed_fleet, write_roads
from kupol.fleet.geofence import Fence
from kupol.fleet.roads import Route
from tests.conftest import add_user, make_settings
from tests.integration.test_fleet import _running, _stop, free_udp_port


def test_the_demo_fleet_is_seeded_once_and_its_drone_and_dog_report(
    sqlite_url: str, tmp_path: Path
) -> None:
    roads = write_roads(tmp_path / "roads.geojson")
    settings = make_settings(
        database_url=sqlite_url, data_dir=tmp_path / "data",
        fleet={"roads": str(roads), "mavlink": True, "mavlink_port": free_udp_port(),
               "mqtt": True, "simulate": True, "flush_every_s": 0.2},
    )  # fmt: skip
    container, loop, thread = _running(settings)
    try:
        admin = add_user(container, "admin", "admin")[0]
        seed_fleet(container, admin)
        seed_fleet(container, admin)  # a second start adds nothing
        fleet, domain = container.fleet.fleet, container.fleet
        assert [u.callsign for u in fleet.units(actor=admin)] == [
            "car-12", "car-7", "dog-1", "drone-1", "foot-3"]  # fmt: skip
        missions = {m.name: m for m in domain.missions.missions(actor=admin)}
        assert set(missions) == {"Highway patrol (south)", "Park patrol"}
        highway = missions["Highway patrol (south)"]
        assert [w[3] if len(w) > 3 else 0 for w in highway.waypoints] == [90, 0, 0, 0]
        # The robot dog's round follows the park's footpaths (all inside the park), where no
        # car may go: a car between the same corners takes the streets round it.
        park = Fence("Central park", "patrol_area", tuple(PARK))
        dog_path = missions["Park patrol"].path
        assert dog_path is not None and len(dog_path) >= 5
        assert all(park.contains((p[0], p[1])) for p in dog_path)
        roads = domain.dispatcher.roads
        assert roads is not None
        walk = roads.route(PARK_PATHS[0], PARK_PATHS[2], pace_mps=1.4, car=False)
        drive = roads.route(PARK_PATHS[0], PARK_PATHS[2], pace_mps=15, car=True)
        assert walk is not None and drive is not None
        assert walk.metres < 520 and drive.metres > 700  # the diagonal path vs the streets

        def footpaths(route: Route) -> int:
            inner = route.path[1:-1]  # the ends are the way to and from the graph
            return sum(not roads.graph.edges[u, v]["vehicle"] for u, v in pairwise(inner))

        assert footpaths(walk) >= 1 and footpaths(drive) == 0
        assert {f.name for f in domain.missions.fence_views(actor=admin)} == {
            "Akorda no-fly zone", "Central park"}  # fmt: skip
        dispatches = domain.dispatcher.dispatches(actor=admin)
        assert len(dispatches) == 1 and dispatches[0].how == "roads"
        assert dispatches[0].callsign == "car-12"  # the nearer car, over the streets
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            drone = fleet.track(actor=admin, callsign="drone-1")
            dog = fleet.track(actor=admin, callsign="dog-1")
            if len(drone) >= 3 and len(dog) >= 2:
                break
            time.sleep(0.3)
        assert len(drone) >= 3 and {p["source"] for p in drone} == {"mavlink"}
        assert len(dog) >= 2 and {p["source"] for p in dog} == {"mqtt"}
        assert fleet.unit(actor=admin, callsign="drone-1").status == "on_mission"
    finally:
        _stop(container, loop, thread)
