"""The fleet service: the unit registry (audited), and the telemetry every listener hands in.

Telemetry arrives fast (a drone at 4 Hz, a thousand units at 1 Hz) from listener threads and
the event loop. :meth:`Fleet.accept` checks a sample and keeps it in memory; every
``flush_every_s`` :meth:`Fleet.flush` writes what came in one transaction — the track points,
each unit's last state, and the advisories raised or cleared — and returns the advisories
for the bus. :meth:`Fleet.watch` marks links stale or lost when a unit falls silent.

Advisories: ``battery_low`` (return home), ``battery_critical`` (land or stop now),
``link_stale``, ``link_lost``, ``geofence_breach`` (a drone inside an active no-fly zone),
``left_area`` (a unit outside its active mission's patrol area); each stays open until its
condition clears, and is raised once.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.core.messages import Event, utcnow
from kupol.fleet.geofence import Fence
from kupol.fleet.model import Advisory, Geofence, Mission, TrackPoint, Unit
from kupol.settings import FleetSettings

log = logging.getLogger(__name__)

KINDS = ("drone", "robot_dog", "patrol_car", "foot_patrol")
CAPABILITIES = ("camera", "thermal", "speaker", "spotlight", "night_vision", "plate_reader")
STATUSES = ("idle", "on_mission", "returning", "charging", "fault")
CALLSIGN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
GEOTAG_WITHIN_S = 10.0
"""A camera's event is placed on its unit's track when a sample lies this near in time."""
MAX_TRACK = 10_000


@dataclass(frozen=True, kw_only=True)
class UnitSpec:
    """A unit as registered."""

    callsign: str
    kind: str
    capabilities: tuple[str, ...] = ()
    endurance_min: int
    max_speed_kmh: float
    home_lat: float
    home_lon: float
    crew: str | None = None
    mavlink_sysid: int | None = None
    camera_id: str | None = None
    """The unit's camera in the camera registry (events it sees are placed on the track)."""


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One telemetry sample, from MAVLink or MQTT."""

    at: datetime
    lat: float
    lon: float
    alt_m: float | None = None
    heading_deg: float | None = None
    speed_mps: float | None = None
    battery_pct: float | None = None
    status: str | None = None
    """What the unit says it is doing (a drone returning to launch: ``returning``)."""
    source: str = "mqtt"


@dataclass(frozen=True, kw_only=True)
class UnitView:
    id: int
    callsign: str
    kind: str
    capabilities: list[str]
    endurance_min: int
    max_speed_kmh: float
    home: tuple[float, float]
    crew: str | None
    mavlink_sysid: int | None
    camera_id: str | None
    status: str
    link: str
    last_seen: datetime | None
    position: tuple[float, float] | None
    alt_m: float | None
    heading_deg: float | None
    speed_mps: float | None
    battery_pct: float | None
    advisories: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class AdvisoryView:
    id: int
    callsign: str
    kind: str
    detail: str
    raised_at: datetime
    cleared_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class UnitAdvisory(Event):
    """A unit's telemetry (or silence) calls for attention: raised or cleared."""

    callsign: str
    advisory: str
    """battery_low, battery_critical, link_stale, link_lost."""
    detail: str
    cleared: bool = False


@dataclass
class _Live:
    """A unit's state in memory: its last sample and open advisories."""

    id: int
    callsign: str
    status: str
    kind: str = "drone"
    last: Sample | None = None
    last_seen: datetime | None = None
    link: str = "none"
    open: set[str] = field(default_factory=set)
    dirty: bool = False


def _check_position(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError("latitude must be within ±90 and longitude within ±180")


def check_sample(sample: Sample) -> None:
    """Raises InvalidInputError naming what is wrong with a sample."""
    if sample.at.tzinfo is None:
        raise InvalidInputError("the sample's time needs its UTC offset")
    _check_position(sample.lat, sample.lon)
    for name, value, low, high in (
        ("alt_m", sample.alt_m, -500, 20_000),
        ("heading_deg", sample.heading_deg, 0, 360),
        ("speed_mps", sample.speed_mps, 0, 150),
        ("battery_pct", sample.battery_pct, 0, 100),
    ):
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise InvalidInputError(f"{name} must be between {low} and {high}")
    if sample.status is not None and sample.status not in STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}")


class Fleet:
    """Units and their telemetry (see the module)."""

    def __init__(self, *, db: Database, audit: AuditLog, settings: FleetSettings) -> None:
        self._db = db
        self._audit = audit
        self.settings = settings
        self._lock = threading.Lock()
        self._live: dict[int, _Live] = {}
        self._by_callsign: dict[str, int] = {}
        self._by_sysid: dict[int, int] = {}
        self._by_camera: dict[str, int] = {}
        self._points: list[dict[str, object]] = []
        self._changes: list[tuple[int, str, str | None]] = []
        self._outgoing: deque[UnitAdvisory] = deque(maxlen=10_000)
        """Advisories raised (with their detail) and cleared (None), in order."""
        self._loaded = False
        self._no_fly: list[Fence] = []
        self._areas: dict[int, Fence] = {}
        """Units on an active mission with a patrol area: the area they must stay in."""
        self.sample_hooks: list[Callable[[int, Sample], None]] = []
        """Called with each accepted sample (unit id, sample), outside the fleet's lock."""
        self.fences: Callable[[], list[Fence]] = list
        """Where the active geofences come from (set by the domain: the missions' store)."""
        self.accepted = 0
        self.rejected = 0
        self.lags: deque[float] = deque(maxlen=200_000)
        """Seconds from each sample's time to the commit that stored it (the latest 200,000):
        the telemetry's end-to-end lag, for operations and the benchmark."""

    # The registry ---------------------------------------------------------------------

    def register(self, *, actor: Principal, spec: UnitSpec) -> UnitView:
        """Add a unit (audited).

        Raises:
            InvalidInputError: a malformed callsign, unknown kind or capability, an impossible
                home, endurance or speed, a MAVLink id outside 1–255.
            ConflictError: the callsign or MAVLink id is taken.
        """
        actor.require(Permission.FLEET_MANAGE)
        if not CALLSIGN.match(spec.callsign):
            raise InvalidInputError(
                "callsign must be 2–32 lower-case letters, digits, - or _ (it names the "
                "unit's MQTT topic)"
            )
        if spec.kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        unknown = sorted(set(spec.capabilities) - set(CAPABILITIES))
        if unknown:
            raise InvalidInputError(
                f"unknown capabilities {', '.join(unknown)} (known: {', '.join(CAPABILITIES)})"
            )
        _check_position(spec.home_lat, spec.home_lon)
        if not 1 <= spec.endurance_min <= 7 * 24 * 60:
            raise InvalidInputError("endurance_min must be between 1 and 10,080 minutes")
        if not (math.isfinite(spec.max_speed_kmh) and 0 < spec.max_speed_kmh <= 400):
            raise InvalidInputError("max_speed_kmh must be above 0 and at most 400")
        if spec.mavlink_sysid is not None and not 1 <= spec.mavlink_sysid <= 255:
            raise InvalidInputError("mavlink_sysid must be between 1 and 255")
        if spec.mavlink_sysid is not None and spec.kind != "drone":
            raise InvalidInputError("only drones speak MAVLink (mavlink_sysid)")
        if spec.camera_id is not None and not CAMERA_ID.match(spec.camera_id):
            raise InvalidInputError("camera_id must be a camera's id (letters, digits, . _ -)")
        try:
            with self._db.unit_of_work() as session:
                row = Unit(
                    callsign=spec.callsign, kind=spec.kind,
                    capabilities=sorted(set(spec.capabilities)),
                    endurance_min=spec.endurance_min, max_speed_kmh=spec.max_speed_kmh,
                    home_lat=spec.home_lat, home_lon=spec.home_lon,
                    crew=(spec.crew or "").strip()[:200] or None,
                    mavlink_sysid=spec.mavlink_sysid, camera_id=spec.camera_id, status="idle",
                    link="none",
                )  # fmt: skip
                session.add(row)
                session.flush()
                self._audit.append(
                    AuditRecord(
                        actor=actor.username, roles=actor.roles, action="register",
                        resource_type="fleet_unit", resource_id=spec.callsign,
                        details={"kind": spec.kind, "mavlink_sysid": spec.mavlink_sysid},
                    ),
                    session=session,
                )  # fmt: skip
                view = self._view(row, ())
        except IntegrityError as exc:
            raise ConflictError(
                f"callsign {spec.callsign!r}, MAVLink id {spec.mavlink_sysid} or camera "
                f"{spec.camera_id!r} is taken"
            ) from exc
        with self._lock:
            if self._loaded:
                self._remember(
                    view.id,
                    view.callsign,
                    view.mavlink_sysid,
                    view.status,
                    view.camera_id,
                    view.kind,
                )
        return view

    def set_status(self, *, actor: Principal, callsign: str, status: str) -> UnitView:
        """Set a unit's status by hand (a crew back at base: charging); audited."""
        actor.require(Permission.FLEET_MANAGE)
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}")
        self.flush()
        with self._db.unit_of_work() as session:
            row = self._get(session, callsign)
            before, row.status = row.status, status
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="status",
                    resource_type="fleet_unit", resource_id=callsign,
                    details={"from": before, "to": status},
                ),
                session=session,
            )  # fmt: skip
        with self._lock:
            self._ensure_loaded()
            live = self._live.get(row.id)
            if live is not None:
                live.status = status
        return self.unit(actor=actor, callsign=callsign)

    def units(self, *, actor: Principal) -> list[UnitView]:
        """Every unit with its last state and open advisories."""
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            rows = list(session.scalars(select(Unit).order_by(Unit.callsign)))
            open_ = self._open_advisories(session)
            return [self._view(r, open_.get(r.id, ())) for r in rows]

    def unit(self, *, actor: Principal, callsign: str) -> UnitView:
        """One unit.

        Raises:
            NotFoundError: no such unit.
        """
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            row = self._get(session, callsign)
            return self._view(row, self._open_advisories(session).get(row.id, ()))

    def track(
        self, *, actor: Principal, callsign: str, since: datetime | None = None,
        until: datetime | None = None, limit: int = 2_000,
    ) -> list[dict[str, object]]:  # fmt: skip
        """A unit's track, oldest first (at most ``limit`` points from ``since``)."""
        actor.require(Permission.FLEET_READ)
        if not 1 <= limit <= MAX_TRACK:
            raise InvalidInputError(f"limit must be between 1 and {MAX_TRACK}")
        for value in (since, until):
            if value is not None and value.tzinfo is None:
                raise InvalidInputError("times need their UTC offset")
        self.flush()
        with self._db.reader() as session:
            unit = self._get(session, callsign)
            query = select(TrackPoint).where(TrackPoint.unit_id == unit.id)
            if since is not None:
                query = query.where(TrackPoint.at >= since)
            if until is not None:
                query = query.where(TrackPoint.at <= until)
            rows = session.scalars(query.order_by(TrackPoint.at, TrackPoint.id).limit(limit))
            return [
                {
                    "at": p.at.isoformat(), "lat": p.lat, "lon": p.lon, "alt_m": p.alt_m,
                    "heading_deg": p.heading_deg, "speed_mps": p.speed_mps,
                    "battery_pct": p.battery_pct, "source": p.source,
                }
                for p in rows
            ]  # fmt: skip

    def advisories(self, *, actor: Principal, open_only: bool = True) -> list[AdvisoryView]:
        """Advisories, newest first (open ones only by default)."""
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            query = select(Advisory, Unit.callsign).join(Unit, Unit.id == Advisory.unit_id)
            if open_only:
                query = query.where(Advisory.cleared_at.is_(None))
            rows = session.execute(query.order_by(Advisory.raised_at.desc()).limit(500))
            return [
                AdvisoryView(
                    id=a.id,
                    callsign=callsign,
                    kind=a.kind,
                    detail=a.detail,
                    raised_at=a.raised_at,
                    cleared_at=a.cleared_at,
                )
                for a, callsign in rows
            ]

    # Telemetry --------------------------------------------------------------------------

    def callsign_of_sysid(self, sysid: int) -> str | None:
        """The unit a MAVLink system id belongs to, if any."""
        with self._lock:
            self._ensure_loaded()
            unit_id = self._by_sysid.get(sysid)
            return self._live[unit_id].callsign if unit_id is not None else None

    def accept(self, callsign: str, sample: Sample) -> None:
        """Take a sample of ``callsign``'s telemetry (written at the next flush).

        Raises:
            NotFoundError: no unit has that callsign.
            InvalidInputError: the sample is impossible (see :func:`check_sample`), or older
                than the unit's last one.
        """
        try:
            check_sample(sample)
            with self._lock:
                self._ensure_loaded()
                unit_id = self._by_callsign.get(callsign)
                if unit_id is None:
                    raise NotFoundError(f"no unit {callsign!r}")
                live = self._live[unit_id]
                if live.last is not None and sample.at < live.last.at:
                    raise InvalidInputError("the sample is older than the unit's last one")
                live.last, live.last_seen, live.dirty = sample, sample.at, True
                if sample.status is not None:
                    live.status = sample.status
                self._points.append(
                    {
                        "unit_id": unit_id, "at": sample.at, "lat": sample.lat,
                        "lon": sample.lon, "alt_m": sample.alt_m,
                        "heading_deg": sample.heading_deg, "speed_mps": sample.speed_mps,
                        "battery_pct": sample.battery_pct, "source": sample.source,
                    }
                )  # fmt: skip
                if live.link != "ok":
                    self._clear(live, "link_stale")
                    self._clear(live, "link_lost")
                    live.link = "ok"
                self._battery(live, sample.battery_pct)
                self._geofences(live, sample)
        except (NotFoundError, InvalidInputError):
            self.rejected += 1
            raise
        self.accepted += 1
        for hook in self.sample_hooks:
            hook(unit_id, sample)

    def watch(self, now: datetime | None = None) -> None:
        """Mark the links of units silent for ``link_stale_s`` stale, for ``link_lost_s`` lost."""
        now = now or utcnow()
        stale = timedelta(seconds=self.settings.link_stale_s)
        lost = timedelta(seconds=self.settings.link_lost_s)
        with self._lock:
            self._ensure_loaded()
            for live in self._live.values():
                if live.last_seen is None or live.link == "lost":
                    continue
                silent = now - live.last_seen
                if silent >= lost:
                    self._clear(live, "link_stale")
                    self._raise(
                        live, "link_lost", f"no telemetry for {silent.total_seconds():.0f} s"
                    )
                    live.link, live.dirty = "lost", True
                elif silent >= stale and live.link == "ok":
                    self._raise(
                        live, "link_stale", f"no telemetry for {silent.total_seconds():.0f} s"
                    )
                    live.link, live.dirty = "stale", True

    def flush(self) -> list[UnitAdvisory]:
        """Write the samples, states and advisories gathered since the last flush, in one
        transaction; returns the advisories raised and cleared — and keeps them for the bus
        (:meth:`take_messages`) whoever called the flush (a track read flushes too)."""
        with self._lock:
            points, self._points = self._points, []
            changes, self._changes = self._changes, []
            dirty = [live for live in self._live.values() if live.dirty]
            states = [
                (live.id, live.status, live.link, live.last_seen, live.last) for live in dirty
            ]
            for live in dirty:
                live.dirty = False
            names = {live.id: live.callsign for live in self._live.values()}
        if not (points or changes or states):
            return []
        now = utcnow()
        messages: list[UnitAdvisory] = []
        with self._db.unit_of_work() as session:
            if points:
                session.execute(insert(TrackPoint), points)
            updates = []
            for unit_id, status, link, last_seen, last in states:
                row: dict[str, object] = {
                    "id": unit_id,
                    "status": status,
                    "link": link,
                    "last_seen": last_seen,
                }
                if last is not None:
                    row.update(lat=last.lat, lon=last.lon, alt_m=last.alt_m,
                               heading_deg=last.heading_deg, speed_mps=last.speed_mps)  # fmt: skip
                    if last.battery_pct is not None:
                        row["battery_pct"] = last.battery_pct
                updates.append(row)
            # One UPDATE per set of columns, each run for every unit that has them.
            for keys in {tuple(sorted(u)) for u in updates}:
                session.execute(update(Unit), [u for u in updates if tuple(sorted(u)) == keys])
            for unit_id, kind, detail in changes:
                name = names[unit_id]
                if detail is not None:
                    session.add(Advisory(unit_id=unit_id, kind=kind, detail=detail, raised_at=now))
                    messages.append(UnitAdvisory(callsign=name, advisory=kind, detail=detail))
                    continue
                for adv in session.scalars(
                    select(Advisory).where(
                        Advisory.unit_id == unit_id,
                        Advisory.kind == kind,
                        Advisory.cleared_at.is_(None),
                    )
                ):
                    adv.cleared_at = now
                    messages.append(
                        UnitAdvisory(callsign=name, advisory=kind, detail=adv.detail, cleared=True)
                    )
        committed = utcnow()
        self.lags.extend((committed - p["at"]).total_seconds() for p in points)  # type: ignore[operator]
        with self._lock:
            self._outgoing.extend(messages)
        return messages

    def take_messages(self) -> list[UnitAdvisory]:
        """The advisories written since the last call, to publish on the bus."""
        with self._lock:
            taken, self._outgoing = list(self._outgoing), deque(maxlen=10_000)
        return taken

    # Where a unit's camera was ------------------------------------------------------------

    def position_at(self, camera_id: str, at: datetime) -> dict[str, object] | None:
        """Where the unit carrying ``camera_id`` was at ``at``: its track interpolated between
        the samples around that moment (or the nearest one, within ``GEOTAG_WITHIN_S``).
        None when no unit carries that camera; ``{"unit", "error"}`` when its track has no
        sample near enough."""
        with self._lock:
            self._ensure_loaded()
            unit_id = self._by_camera.get(camera_id)
            callsign = self._live[unit_id].callsign if unit_id is not None else None
        if unit_id is None or callsign is None:
            return None
        self.flush()  # the last samples may still be in memory
        window = timedelta(seconds=GEOTAG_WITHIN_S)
        with self._db.reader() as session:
            before = session.scalar(
                select(TrackPoint)
                .where(TrackPoint.unit_id == unit_id, TrackPoint.at <= at,
                       TrackPoint.at >= at - window)
                .order_by(TrackPoint.at.desc()).limit(1)
            )  # fmt: skip
            after = session.scalar(
                select(TrackPoint)
                .where(TrackPoint.unit_id == unit_id, TrackPoint.at >= at,
                       TrackPoint.at <= at + window)
                .order_by(TrackPoint.at).limit(1)
            )  # fmt: skip
            return _interpolate(callsign, at, before, after)

    # Internals --------------------------------------------------------------------------

    def _battery(self, live: _Live, battery: float | None) -> None:
        if battery is None:
            return
        if battery <= self.settings.battery_critical_pct:
            self._raise(live, "battery_critical", f"battery {battery:.0f} %: land or stop now")
        elif battery <= self.settings.battery_low_pct:
            self._clear(live, "battery_critical")
            self._raise(live, "battery_low", f"battery {battery:.0f} %: return home")
        else:
            self._clear(live, "battery_critical")
            self._clear(live, "battery_low")

    def set_area(self, unit_id: int, area: Fence | None) -> None:
        """The patrol area a unit's active mission keeps it in (None: none now)."""
        with self._lock:
            if area is None:
                self._areas.pop(unit_id, None)
                live = self._live.get(unit_id)
                if live is not None:
                    self._clear(live, "left_area")
            else:
                self._areas[unit_id] = area

    def _geofences(self, live: _Live, sample: Sample) -> None:
        area = self._areas.get(live.id)
        if area is not None:
            if area.contains((sample.lat, sample.lon)):
                self._clear(live, "left_area")
            else:
                self._raise(live, "left_area", f"outside its patrol area {area.name}")
        if live.kind != "drone":
            return  # no-fly zones are airspace: ground units pass under them
        inside = [f.name for f in self._no_fly if f.contains((sample.lat, sample.lon))]
        if inside:
            self._raise(live, "geofence_breach", f"inside the no-fly zone {', '.join(inside)}")
        else:
            self._clear(live, "geofence_breach")

    def note_status(self, unit_id: int, status: str) -> None:
        """A status another part of kupol stored (a dispatch: ``on_mission``): kept in memory
        too, so the next flush does not write the old one back."""
        with self._lock:
            if self._loaded and unit_id in self._live:
                self._live[unit_id].status = status

    def reload_fences(self) -> None:
        """Take the active no-fly zones afresh (after one was added or switched)."""
        fences = [f for f in self.fences() if f.kind == "no_fly"]
        with self._lock:
            self._no_fly = fences

    def _raise(self, live: _Live, kind: str, detail: str) -> None:
        if kind not in live.open:
            live.open.add(kind)
            self._changes.append((live.id, kind, detail))

    def _clear(self, live: _Live, kind: str) -> None:
        if kind in live.open:
            live.open.discard(kind)
            self._changes.append((live.id, kind, None))

    def _remember(
        self, unit_id: int, callsign: str, sysid: int | None, status: str,
        camera_id: str | None = None, kind: str = "drone",
    ) -> None:  # fmt: skip
        self._live[unit_id] = _Live(id=unit_id, callsign=callsign, status=status, kind=kind)
        self._by_callsign[callsign] = unit_id
        if sysid is not None:
            self._by_sysid[sysid] = unit_id
        if camera_id is not None:
            self._by_camera[camera_id] = unit_id

    def _ensure_loaded(self) -> None:
        """Load the units and their open advisories once (under the lock)."""
        if self._loaded:
            return
        with self._db.reader() as session:
            rows = list(session.scalars(select(Unit)))
            open_ = self._open_advisories(session)
        for row in rows:
            self._remember(
                row.id, row.callsign, row.mavlink_sysid, row.status, row.camera_id, row.kind
            )
            live = self._live[row.id]
            live.link, live.last_seen = row.link, row.last_seen
            live.open = set(open_.get(row.id, ()))
        self._no_fly = [f for f in self.fences() if f.kind == "no_fly"]
        with self._db.reader() as session:
            for unit_id, name, kind, polygon in session.execute(
                select(Mission.unit_id, Geofence.name, Geofence.kind, Geofence.polygon)
                .join(Geofence, Geofence.id == Mission.patrol_area_id)
                .where(Mission.status == "active")
            ):
                self._areas[unit_id] = Fence(name, kind, tuple((p[0], p[1]) for p in polygon))
        self._loaded = True

    @staticmethod
    def _open_advisories(session: Session) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for unit_id, kind in session.execute(
            select(Advisory.unit_id, Advisory.kind).where(Advisory.cleared_at.is_(None))
        ):
            out.setdefault(unit_id, []).append(kind)
        return out

    @staticmethod
    def _get(session: Session, callsign: str) -> Unit:
        row = session.scalar(select(Unit).where(Unit.callsign == callsign))
        if row is None:
            raise NotFoundError(f"no unit {callsign!r}")
        return row

    @staticmethod
    def _view(row: Unit, advisories: list[str] | tuple[str, ...]) -> UnitView:
        return UnitView(
            id=row.id, callsign=row.callsign, kind=row.kind, capabilities=list(row.capabilities),
            endurance_min=row.endurance_min, max_speed_kmh=row.max_speed_kmh,
            home=(row.home_lat, row.home_lon), crew=row.crew, mavlink_sysid=row.mavlink_sysid,
            camera_id=row.camera_id,
            status=row.status, link=row.link, last_seen=row.last_seen,
            position=(row.lat, row.lon) if row.lat is not None and row.lon is not None else None,
            alt_m=row.alt_m, heading_deg=row.heading_deg, speed_mps=row.speed_mps,
            battery_pct=row.battery_pct, advisories=sorted(advisories),
        )  # fmt: skip


def _interpolate(
    callsign: str, at: datetime, before: TrackPoint | None, after: TrackPoint | None
) -> dict[str, object]:
    """The unit's position at ``at`` from the samples around it."""
    if before is None and after is None:
        return {"unit": callsign, "error": f"no telemetry within {GEOTAG_WITHIN_S:.0f} s"}
    if before is None or after is None or before.at == after.at:
        point = before or after
        assert point is not None
        share, a, b = 0.0, point, point
    else:
        a, b = before, after
        share = (at - a.at) / (b.at - a.at)

    def mix(x: float | None, y: float | None) -> float | None:
        if x is None or y is None:
            return x if y is None else y
        return x + (y - x) * share

    heading = None
    if a.heading_deg is not None and b.heading_deg is not None:
        turn = (b.heading_deg - a.heading_deg + 540) % 360 - 180  # the short way round
        heading = round((a.heading_deg + turn * share) % 360, 1)
    gap = min(abs((at - p.at).total_seconds()) for p in (a, b))
    # How fast the unit (and so its camera) moved then: the faster of what it reported and
    # what its displacement between the two samples says, so a camera is not taken as still
    # on the word of one sample.
    speeds = [s for s in (a.speed_mps, b.speed_mps) if s is not None]
    span = (b.at - a.at).total_seconds()
    if span > 0:
        speeds.append(haversine_m((a.lat, a.lon), (b.lat, b.lon)) / span)
    return {
        "unit": callsign, "lat": round(a.lat + (b.lat - a.lat) * share, 7),
        "lon": round(a.lon + (b.lon - a.lon) * share, 7), "alt_m": mix(a.alt_m, b.alt_m),
        "heading_deg": heading, "speed_mps": round(max(speeds), 2) if speeds else None,
        "from": "track", "nearest_sample_s": round(gap, 2),
    }  # fmt: skip
