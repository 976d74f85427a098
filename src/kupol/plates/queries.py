"""Plate search and routes, each audited with its purpose.

Search by plate — exact, wildcard (``12?AB?02``, ``*ABC02``) or fuzzy within one character —
by camera and by time. A route is one plate's sightings in a time window, oldest first, with
the cameras' positions, the distance and time between consecutive cameras, and any pair no
vehicle could have driven between (a possible cloned plate).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, or_, select

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.plates.cloned import CloneSuspicion, Sighting, distance_km, implausible
from kupol.plates.formats import normalise, wildcard, within_one
from kupol.plates.model import PlateSighting

MAX_LIMIT = 1000


class Match(StrEnum):
    EXACT = "exact"
    WILDCARD = "wildcard"
    FUZZY = "fuzzy"


@dataclass(frozen=True, kw_only=True)
class PlateFilter:
    """What plate sightings are searched by."""

    plate: str | None = None
    match: Match = Match.EXACT
    camera_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


@dataclass(frozen=True, kw_only=True)
class SightingView:
    """A sighting with its camera's place."""

    id: int
    plate: str
    camera_id: str
    camera_name: str
    latitude: float
    longitude: float
    seen_at: datetime
    confidence: float
    direction: str | None


@dataclass(frozen=True, kw_only=True)
class Leg:
    """From one sighting to the next on a route."""

    from_camera: str
    to_camera: str
    distance_km: float
    minutes: float


@dataclass(frozen=True, kw_only=True)
class Route:
    """One plate's sightings in order, the legs between them, and what looks impossible."""

    plate: str
    sightings: list[SightingView]
    legs: list[Leg] = field(default_factory=list)
    suspicions: list[CloneSuspicion] = field(default_factory=list)


class PlateQueries:
    """Audited plate search and routes."""

    def __init__(self, *, db: Database, audit: AuditLog, max_speed_kmh: float = 200.0) -> None:
        self._db = db
        self._audit = audit
        self._max_speed = max_speed_kmh

    def search(
        self, *, filters: PlateFilter, actor: Principal, why: Justification
    ) -> list[SightingView]:
        """Sightings matching ``filters``, newest first."""
        actor.require(Permission.PLATES_SEARCH)
        if not 1 <= filters.limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}")
        query = _joined().order_by(PlateSighting.seen_at.desc())
        wanted = normalise(filters.plate or "")
        check: Callable[[str], object] | None = None
        if filters.plate is not None:
            if not wanted.replace("?", "").replace("*", ""):
                raise InvalidInputError("give at least one character of the plate")
            if filters.match == Match.EXACT:
                query = query.where(PlateSighting.plate == wanted)
            elif filters.match == Match.WILDCARD:
                like = wanted.replace("%", "").replace("_", "").replace("?", "_").replace("*", "%")
                query = query.where(PlateSighting.plate.like(like))
                pattern = wildcard(filters.plate)
                check = pattern.match
            else:
                query = query.where(or_(*(PlateSighting.plate.like(p) for p in _one_off(wanted))))
                check = lambda plate: within_one(plate, wanted)  # noqa: E731

        if filters.camera_id:
            query = query.where(PlateSighting.camera_id == filters.camera_id)
        if filters.since:
            query = query.where(PlateSighting.seen_at >= filters.since)
        if filters.until:
            query = query.where(PlateSighting.seen_at < filters.until)
        with self._db.reader() as session:
            rows = [_view(s, c) for s, c in session.execute(query.limit(filters.limit))]
        if check is not None:
            rows = [r for r in rows if check(r.plate)]
        self._audit.access(
            actor=actor,
            why=why,
            action="search",
            resource_type="plate_sighting",
            details={
                "plate": filters.plate,
                "match": filters.match.value,
                "camera_id": filters.camera_id,
                "since": filters.since.isoformat() if filters.since else None,
                "until": filters.until.isoformat() if filters.until else None,
                "returned": [r.id for r in rows],
            },
        )
        return rows

    def route(
        self,
        *,
        plate: str,
        since: datetime,
        until: datetime,
        actor: Principal,
        why: Justification,
    ) -> Route:
        """Where one vehicle went between ``since`` and ``until``."""
        actor.require(Permission.PLATES_SEARCH)
        wanted = normalise(plate)
        if not wanted:
            raise InvalidInputError("give the plate")
        if until <= since:
            raise InvalidInputError("until must be after since")
        query = (
            _joined()
            .where(
                PlateSighting.plate == wanted,
                PlateSighting.seen_at >= since,
                PlateSighting.seen_at < until,
            )
            .order_by(PlateSighting.seen_at, PlateSighting.id)
            .limit(MAX_LIMIT)
        )
        with self._db.reader() as session:
            sightings = [_view(s, c) for s, c in session.execute(query)]
        legs, suspicions = [], []
        for a, b in itertools.pairwise(sightings):
            first, second = _sighting(a), _sighting(b)
            legs.append(
                Leg(
                    from_camera=a.camera_id,
                    to_camera=b.camera_id,
                    distance_km=round(distance_km(first, second), 3),
                    minutes=round((b.seen_at - a.seen_at).total_seconds() / 60, 2),
                )
            )
            suspicion = implausible(first, second, max_speed_kmh=self._max_speed)
            if suspicion is not None:
                suspicions.append(suspicion)
        self._audit.access(
            actor=actor,
            why=why,
            action="route",
            resource_type="plate_sighting",
            resource_id=wanted,
            details={
                "since": since.isoformat(),
                "until": until.isoformat(),
                "returned": [s.id for s in sightings],
            },
        )
        return Route(plate=wanted, sightings=sightings, legs=legs, suspicions=suspicions)


def _joined() -> Select[PlateSighting, Camera]:
    return select(PlateSighting, Camera).join(Camera, Camera.id == PlateSighting.camera_id)


def _view(row: PlateSighting, camera: Camera) -> SightingView:
    return SightingView(
        id=row.id,
        plate=row.plate,
        camera_id=row.camera_id,
        camera_name=camera.name,
        latitude=camera.latitude,
        longitude=camera.longitude,
        seen_at=row.seen_at,
        confidence=row.confidence,
        direction=row.direction,
    )


def _sighting(view: SightingView) -> Sighting:
    return Sighting(
        plate=view.plate,
        camera_id=view.camera_id,
        latitude=view.latitude,
        longitude=view.longitude,
        at=view.seen_at,
    )


def _one_off(plate: str) -> Sequence[str]:
    """LIKE patterns that cover every plate within one character of ``plate``: one
    character replaced (``_``), dropped, or added (``_`` inserted) — the index narrows by the
    literal prefix, and the exact check runs on the few rows that come back.

    Example:
        >>> _one_off("AB")
        ['A', 'AB', 'AB_', 'A_', 'A_B', 'B', '_AB', '_B']
    """
    patterns = {plate}
    for i in range(len(plate)):
        patterns.add(plate[:i] + "_" + plate[i + 1 :])
        patterns.add(plate[:i] + plate[i + 1 :])
    for i in range(len(plate) + 1):
        patterns.add(plate[:i] + "_" + plate[i:])
    return sorted(p for p in patterns if p)
