"""The demo's fleet: a city's streets (a synthetic grid), units, a no-fly zone, a park to
patrol, the drone's highway mission, an incident with the nearest unit sent to it — and, while
kupol runs, the simulated drone and robot dog talking MAVLink and MQTT to it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from kupol.core.auth import Principal
from kupol.core.errors import ConflictError
from kupol.core.messages import utcnow
from kupol.fleet.roads import grid_city
from kupol.fleet.service import UnitSpec
from kupol.fleet.sim import DogSim, DroneSim

if TYPE_CHECKING:
    from kupol.bootstrap import Container

log = logging.getLogger(__name__)

ORIGIN = (51.1150, 71.4000)
"""The south-west corner of the demo's street grid (Astana)."""
GRID = {"rows": 14, "cols": 16, "spacing_m": 300.0, "arterial_every": 4}
HIGHWAY = [
    (51.0890, 71.4160), (51.0890, 71.4290), (51.0890, 71.4700), (51.1000, 71.5300),
    (51.1125, 71.5317),
]  # fmt: skip
"""The drone's mission: along the highway south of the city to the ring road camera."""
HOVER = {1: 90.0}
"""Where the drone hovers on its way (route index → seconds): over the highway 900 m from
home, its camera timing the traffic (speeds are taken only while it is still)."""
PARK = [(51.1250, 71.4300), (51.1250, 71.4360), (51.1285, 71.4360), (51.1285, 71.4300)]
"""The Central park patrol area."""
PARK_PATHS = [(51.1252, 71.4303), (51.1252, 71.4357), (51.1283, 71.4357), (51.1283, 71.4303)]
"""The park's footpath loop, just inside it: the robot dog's patrol."""
NO_FLY = [[51.1300, 71.4500], [51.1300, 71.4600], [51.1360, 71.4600], [51.1360, 71.4500]]
UNITS = [
    UnitSpec(callsign="drone-1", kind="drone", capabilities=("camera", "thermal", "plate_reader"),
             endurance_min=240, max_speed_kmh=72, home_lat=HIGHWAY[0][0],
             home_lon=HIGHWAY[0][1], crew="Capt. Abenov (pilot)", mavlink_sysid=1,
             camera_id="ast-drone-01"),
    UnitSpec(callsign="dog-1", kind="robot_dog", capabilities=("camera", "speaker"),
             endurance_min=120, max_speed_kmh=11, home_lat=PARK_PATHS[0][0],
             home_lon=PARK_PATHS[0][1],
             crew="Sgt. Nurlanova (handler)"),
    UnitSpec(callsign="car-12", kind="patrol_car", capabilities=("camera", "plate_reader"),
             endurance_min=720, max_speed_kmh=110, home_lat=51.1160, home_lon=71.4020,
             crew="patrol 12"),
    UnitSpec(callsign="car-7", kind="patrol_car", capabilities=("camera",),
             endurance_min=720, max_speed_kmh=110, home_lat=51.1500, home_lon=71.4600,
             crew="patrol 7"),
    UnitSpec(callsign="foot-3", kind="foot_patrol", capabilities=("speaker",),
             endurance_min=480, max_speed_kmh=6, home_lat=51.1200, home_lon=71.4250,
             crew="Sgt. Omarov"),
]  # fmt: skip


def write_roads(path: Path) -> Path:
    """The demo's street grid and the park's footpaths as GeoJSON (what a city would export
    from its GIS)."""
    graph = grid_city(ORIGIN, **GRID)  # type: ignore[arg-type]
    # Each corner of the park's loop is joined by a path to the nearest street corner; the
    # loop and a diagonal across the park are paths no vehicle takes.
    joins = [(corner, graph.nearest(corner)) for corner in PARK_PATHS]
    for corner, street in joins:
        if street is not None:
            graph.add_road([corner, street], speed_kmh=5, vehicle=False)
    graph.add_road([*PARK_PATHS, PARK_PATHS[0]], speed_kmh=5, vehicle=False)
    graph.add_road([PARK_PATHS[0], PARK_PATHS[2]], speed_kmh=5, vehicle=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(graph.to_geojson()))
    return path


def seed_fleet(container: Container, actor: Principal) -> None:
    """Units, geofences, the drone's mission, and an incident with a unit sent to it (once)."""
    from kupol.fleet.model import Dispatch
    from kupol.incidents.model import Incident

    domain = container.fleet
    known = {u.callsign for u in domain.fleet.units(actor=actor)}
    for spec in UNITS:
        if spec.callsign not in known:
            domain.fleet.register(actor=actor, spec=spec)
    fences = {f.name for f in domain.missions.fence_views(actor=actor)}
    if "Akorda no-fly zone" not in fences:
        domain.missions.add_fence(actor=actor, name="Akorda no-fly zone", kind="no_fly",
                                  polygon=NO_FLY)  # fmt: skip
    if "Central park" not in fences:
        domain.missions.add_fence(actor=actor, name="Central park", kind="patrol_area",
                                  polygon=[list(p) for p in PARK])  # fmt: skip
    if not domain.missions.missions(actor=actor, callsign="drone-1"):
        waypoints = [
            [lat, lon, 80.0, *([HOVER[i]] if i in HOVER else [])]
            for i, (lat, lon) in enumerate(HIGHWAY)
            if i > 0
        ]
        domain.missions.plan(actor=actor, callsign="drone-1", name="Highway patrol (south)",
                             waypoints=waypoints)  # fmt: skip
    if not domain.missions.missions(actor=actor, callsign="dog-1"):
        # Round the park's footpaths (with a road graph; straight lines without one).
        round_ = domain.missions.plan(actor=actor, callsign="dog-1", name="Park patrol",
                                      waypoints=[list(p) for p in PARK_PATHS[1:]],
                                      patrol_area="Central park")  # fmt: skip
        # Under way: the simulated dog walks it, and its telemetry marks the corners reached.
        domain.missions.set_status(mission_id=round_.id, status="active", actor=actor)
    db = container.db
    with db.reader() as session:
        dispatched = session.scalar(select(Dispatch.id).limit(1))
    if dispatched is None:
        with db.unit_of_work() as session:
            incident = Incident(
                kind="accident", title="Two cars collided at a crossing (demo)",
                occurred_from=utcnow(), occurred_to=utcnow(), latitude=51.1250, longitude=71.4150,
                radius_m=100, status="open", created_by=actor.username,
            )  # fmt: skip
            session.add(incident)
            session.flush()
            incident_id = incident.id
        ranked = domain.dispatcher.rank(actor=actor, incident_id=incident_id)
        ground = [c for c in ranked if c.kind == "patrol_car"]
        if ground:
            try:
                domain.dispatcher.send(actor=actor, callsign=ground[0].callsign,
                                       incident_id=incident_id)  # fmt: skip
            except ConflictError as exc:
                log.warning("demo dispatch: %s", exc)


class DemoSimulators:
    """The demo's drone flying its highway mission over and over (MAVLink to kupol's port) and
    its robot dog walking the park (MQTT), each in a thread of its own."""

    def __init__(self, *, mavlink_port: int, mqtt: tuple[str, int] | None) -> None:
        self._port = mavlink_port
        self._mqtt = mqtt
        self._stop = threading.Event()
        self._current: list[DroneSim | DogSim] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        port = self._port
        units: list[tuple[str, Callable[[], DroneSim | DogSim]]] = [
            ("demo drone", lambda: DroneSim(
                sysid=1, route=HIGHWAY, target=f"127.0.0.1:{port}", speed_mps=18, alt_m=80,
                rate_hz=2, endurance_min=240, holds=HOVER)),
        ]  # fmt: skip
        if self._mqtt is not None:
            host, mqtt_port = self._mqtt
            units.append(("demo robot dog", lambda: DogSim(
                callsign="dog-1", route=PARK_PATHS, host=host, port=mqtt_port, speed_mps=1.4,
                laps=1_000, endurance_min=120)))  # fmt: skip
        self._threads = [
            threading.Thread(target=self._keep, args=unit, name=unit[0], daemon=True)
            for unit in units
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for sim in list(self._current):
            sim.stop()

    def _keep(self, name: str, make: Callable[[], DroneSim | DogSim]) -> None:
        """Run a simulator over and over until stopped (a failure waits 5 s and retries)."""
        while not self._stop.is_set():
            sim = make()
            self._current.append(sim)
            try:
                sim.run()
            except OSError as exc:
                log.warning("%s: %s", name, exc)
                self._stop.wait(5)
            finally:
                self._current.remove(sim)
