"""Ground units' mission progress from their telemetry.

A drone reports its own progress over MAVLink (:meth:`kupol.fleet.missions.Missions.progress`);
a robot dog, patrol car or foot patrol reports only where it is. So for a ground unit with an
``active`` mission, each sample is checked against the next waypoint: within ``reach_m`` of it,
the waypoint is reached (``reached_seq``, numbered as a drone's: 2 for the first waypoint), and
the last one reached makes the mission ``done`` — audited as the system's, as a drone's is.
Waypoints are reached in order: passing the third before the second counts for nothing until
the second is reached.

It runs on every sample, so the active rounds are kept in memory (read once, again after any
mission changes status) and the database is touched only when a waypoint is reached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from kupol.core.db import Database
from kupol.core.geo import haversine_m
from kupol.fleet.missions import Missions
from kupol.fleet.model import Mission, Unit
from kupol.fleet.service import Sample

REACH_M = 25.0
"""How near a ground unit must come to a waypoint to have reached it (a GPS fix's error plus
a street's width)."""


@dataclass
class _Round:
    mission_id: int
    waypoints: list[tuple[float, float]]
    reached: int
    """Waypoints reached so far."""


class GroundRounds:
    """Follows ground units' active missions on their samples (a fleet sample hook)."""

    def __init__(self, *, db: Database, missions: Missions, reach_m: float = REACH_M) -> None:
        self._db = db
        self._missions = missions
        self._reach_m = reach_m
        self._lock = threading.Lock()
        self._rounds: dict[int, _Round] | None = None

    def invalidate(self, *_: object) -> None:
        """Read the active rounds again at the next sample (a mission changed status)."""
        with self._lock:
            self._rounds = None

    def on_sample(self, unit_id: int, sample: Sample) -> None:
        """Record a waypoint reached by ``sample``, and the mission done at its last one."""
        with self._lock:
            rounds = self._load()
            round_ = rounds.get(unit_id)
            if round_ is None or round_.reached >= len(round_.waypoints):
                return
            target = round_.waypoints[round_.reached]
            if haversine_m((sample.lat, sample.lon), target) > self._reach_m:
                return
            round_.reached += 1
            mission_id, reached, last = (
                round_.mission_id, round_.reached, round_.reached == len(round_.waypoints),
            )  # fmt: skip
        with self._db.unit_of_work() as session:
            stored = session.get(Mission, mission_id)
            if stored is not None:
                stored.reached_seq = reached + 1  # as a drone numbers them: 2 the first
        if last:
            from kupol.core.auth.service import SYSTEM

            self._missions.set_status(mission_id=mission_id, status="done", actor=SYSTEM)

    def _load(self) -> dict[int, _Round]:
        if self._rounds is None:
            with self._db.reader() as session:
                rows = session.execute(
                    select(Mission.unit_id, Mission.id, Mission.waypoints, Mission.reached_seq)
                    .join(Unit, Unit.id == Mission.unit_id)
                    .where(Mission.status == "active", Unit.kind != "drone")
                    .order_by(Mission.id)
                ).all()
            self._rounds = {
                unit_id: _Round(
                    mission_id=mission_id,
                    waypoints=[(float(w[0]), float(w[1])) for w in waypoints],
                    reached=max(0, (reached or 1) - 1),
                )
                for unit_id, mission_id, waypoints, reached in rows
            }
        return self._rounds
