"""A smart crossing's dashboard: pedestrians, vehicles, near misses and warning activations
per local hour and per day, with the activations' latency — what a city needs to show its
crossings work. Counts only: nothing here identifies anyone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.traffic.model import CrossingEvent

MAX_DAYS = 92


@dataclass(kw_only=True)
class Tally:
    """Counts over one hour or one day."""

    pedestrians: int = 0
    vehicles: int = 0
    near_misses: int = 0
    activations: int = 0
    latency_ms: list[float] = field(default_factory=list)

    def add(self, kind: str, value: float | None) -> None:
        """Count one crossing event."""
        if kind == "pedestrian":
            self.pedestrians += 1
        elif kind == "vehicle":
            self.vehicles += 1
        elif kind == "near_miss":
            self.near_misses += 1
        elif kind == "warning_on":
            self.activations += 1
            if value is not None:
                self.latency_ms.append(value)

    def as_dict(self) -> dict[str, float | int | None]:
        """Counts, and the activations' median and 95th-percentile latency in ms."""
        latencies = np.asarray(self.latency_ms, dtype=np.float64)
        return {
            "pedestrians": self.pedestrians,
            "vehicles": self.vehicles,
            "near_misses": self.near_misses,
            "activations": self.activations,
            "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1)
            if latencies.size
            else None,
            "latency_p95_ms": round(float(np.percentile(latencies, 95)), 1)
            if latencies.size
            else None,
        }


class CrossingDashboard:
    """Reads the crossings' counts."""

    def __init__(self, *, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    def crossings(self, *, actor: Principal) -> list[dict[str, object]]:
        """Every crossing of the actor's scope that counted something, with its camera and
        last activity."""
        actor.require(Permission.TRAFFIC_STATS)
        from sqlalchemy import func

        with self._db.reader() as session:
            rows = session.execute(
                select(
                    CrossingEvent.crossing_id, CrossingEvent.camera_id, func.max(CrossingEvent.at)
                )
                .where(CameraScope.of(actor).clause(CrossingEvent.camera_id))
                .group_by(CrossingEvent.crossing_id, CrossingEvent.camera_id)
                .order_by(CrossingEvent.crossing_id)
            )
            return [{"crossing_id": c, "camera_id": cam, "last_at": at} for c, cam, at in rows]

    def report(
        self, *, crossing_id: str, first: date, last: date, actor: Principal
    ) -> dict[str, object]:
        """Per local hour of each day from ``first`` to ``last`` (inclusive), and per day."""
        actor.require(Permission.TRAFFIC_STATS)
        if last < first:
            raise InvalidInputError("the last day is before the first")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInputError(f"at most {MAX_DAYS} days at once")
        start = datetime.combine(first, time(0), self._zone)
        end = datetime.combine(last + timedelta(days=1), time(0), self._zone)
        hours: dict[datetime, Tally] = defaultdict(Tally)
        days: dict[date, Tally] = defaultdict(Tally)
        total = Tally()
        with self._db.reader() as session:
            # Only what the actor's cameras counted: a crossing outside the scope reads like
            # one that counted nothing (as an unknown crossing does).
            rows = session.execute(
                select(CrossingEvent.kind, CrossingEvent.at, CrossingEvent.value).where(
                    CrossingEvent.crossing_id == crossing_id,
                    CrossingEvent.at >= start,
                    CrossingEvent.at < end,
                    CameraScope.of(actor).clause(CrossingEvent.camera_id),
                )
            )
            for kind, at, value in rows:
                local = at.astimezone(self._zone)
                hours[local.replace(minute=0, second=0, microsecond=0)].add(kind, value)
                days[local.date()].add(kind, value)
                total.add(kind, value)
        return {
            "crossing_id": crossing_id,
            "timezone": str(self._zone),
            "total": total.as_dict(),
            "days": [{"day": d.isoformat(), **days[d].as_dict()} for d in sorted(days)],
            "hours": [{"hour": h.isoformat(), **hours[h].as_dict()} for h in sorted(hours)],
        }
