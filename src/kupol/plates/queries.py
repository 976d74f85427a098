"""Plate search and routes, each audited with its purpose.

Search by plate — exact, wildcard (``12?AB?02``, ``*ABC02``) or fuzzy within one character —
by camera and by time. A route is one plate's sightings in a time window, oldest first, with
the cameras' positions, the distance and time between consecutive cameras, and any pair no
vehicle could have driven between (a possible cloned plate).

Every plate search is answered from an index, not by reading the sightings: a fuzzy search
looks up the few hundred plates one character off, a wildcard its possible plates, a range of
plates or plates' last characters (:func:`_wildcard_clause`) — first in the directory of plates
seen (:class:`~kupol.plates.model.KnownPlate`, :func:`_known`), then, for the plates that exist,
in the sightings between their first and last time. Figures at 10 and 100 million sightings:
docs/plates-performance.md, docs/scale-out.md.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.partitions import Interval, floor
from kupol.faces.files import FaceFiles
from kupol.plates.cloned import ClonePolicy, CloneSuspicion, Sighting, distance_km
from kupol.plates.formats import PlateKind, normalise, parse_plate, wildcard, within_one
from kupol.plates.model import TAIL, KnownPlate, PlateSighting, one_of, plate_tail

MAX_LIMIT = 1000
PLATE_CHARACTERS = string.ascii_uppercase + string.digits
"""The characters of a stored plate (normalised, checked by kupol.plates.formats)."""
MAX_EXPANSION = 36**2
"""At most this many exact plates stand for a pattern (two unknown characters)."""
MAX_KNOWN = 1000
"""At most this many plates seen are looked up one by one in the sightings; a pattern that
matches more (``123*`` in a big city) reads the sightings as if there were no directory."""
MIN_PREFIX = 3
"""Fixed first characters from which a plate-index range beats reading the newest rows."""
SPREAD = 3
"""An unknown character among a plate's first this many scatters the plates it can be over a
plate index of millions: of the bench's 2.6 million plates, those sharing their first two
characters fill about a hundred pages, those sharing three about ten."""


class Match(StrEnum):
    EXACT = "exact"
    WILDCARD = "wildcard"
    FUZZY = "fuzzy"


VehicleClass = Literal["car", "truck", "bus", "motorcycle"]
"""The vehicle classes plates are read on (the detector's names)."""
VehicleColour = Literal[
    "white", "silver", "grey", "black", "red", "orange", "yellow", "green", "blue", "purple"
]
"""The colours :func:`kupol.plates.live.dominant_colour` names."""


@dataclass(frozen=True, kw_only=True)
class PlateFilter:
    """What plate sightings are searched by."""

    plate: str | None = None
    match: Match = Match.EXACT
    camera_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    vehicle_class: str | None = None
    """car, truck, bus, motorcycle: as the camera's detector named the vehicle."""
    vehicle_colour: str | None = None
    """white, silver, grey, black or a hue (red, orange, yellow, green, blue, purple)."""


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
    has_crop: bool = False
    vehicle_class: str | None = None
    vehicle_colour: str | None = None
    kind: str = PlateKind.OTHER.value
    """The plate's format (:class:`kupol.plates.formats.PlateKind`): ``kz_individual``,
    ``kz_organisation``, ``kz_foreign`` (yellow, foreign-owned), ``kz_scooter``, ``kz_1993``
    or ``other`` (another country's plate, or a Kazakh one of a format not encoded: police,
    diplomatic, military)."""
    region: str | None = None
    """The region code (01–20) the plate was registered in, where its format says."""


@dataclass(frozen=True, kw_only=True)
class Leg:
    """From one sighting to the next on a route."""

    from_camera: str
    to_camera: str
    distance_km: float
    minutes: float
    needed_speed_kmh: float | None = None
    """Set where no vehicle could have driven the leg in its time (a possible cloned plate)."""


@dataclass(frozen=True, kw_only=True)
class Route:
    """One plate's sightings in order, the legs between them, and what looks impossible."""

    plate: str
    sightings: list[SightingView]
    legs: list[Leg] = field(default_factory=list)
    suspicions: list[CloneSuspicion] = field(default_factory=list)


class PlateQueries:
    """Audited plate search and routes."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        clones: ClonePolicy | None = None,
        files: FaceFiles | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clones = clones or ClonePolicy()
        self._files = files

    def crop(self, *, sighting_id: int, actor: Principal, why: Justification) -> bytes:
        """The evidence crop (JPEG) of one sighting: for field roles, with a purpose; audited."""
        actor.require(Permission.PLATES_SEARCH)
        scope = CameraScope.of(actor)
        with self._db.reader() as session:
            uri = session.scalar(
                select(PlateSighting.crop_uri).where(
                    PlateSighting.id == sighting_id, scope.clause(PlateSighting.camera_id)
                )
            )
        if uri is None or self._files is None:
            raise NotFoundError(f"no crop stored for plate sighting {sighting_id}")
        data = self._files.read(uri)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="plate_sighting",
            resource_id=str(sighting_id),
        )
        return data

    def search(
        self, *, filters: PlateFilter, actor: Principal, why: Justification
    ) -> list[SightingView]:
        """Sightings matching ``filters``, newest first."""
        actor.require(Permission.PLATES_SEARCH)
        if not 1 <= filters.limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}")
        wanted = normalise(filters.plate or "")
        check: Callable[[str], object] | None = None
        plate: ColumnElement[bool] | None = None
        few = False  # the plate condition is a handful of index lookups (see _newest)
        # The same plate condition on the directory of plates seen (KnownPlate), looked up
        # first: see _known.
        known: ColumnElement[bool] | None = None
        dialect = self._db.dialect
        if filters.plate is not None:
            if not wanted.replace("?", "").replace("*", ""):
                raise InvalidInputError("give at least one character of the plate")
            if filters.match == Match.EXACT:
                plate = PlateSighting.plate == wanted
                known = KnownPlate.plate == wanted
            elif filters.match == Match.WILDCARD:
                plate, few = _wildcard_clause(wanted, PlateSighting.plate, dialect=dialect)
                if few:
                    known = _wildcard_clause(wanted, KnownPlate.plate, dialect=dialect)[0]
                check = wildcard(filters.plate).match
            else:
                plates = _one_off(wanted)
                plate = one_of(PlateSighting.plate, plates, dialect)
                known = one_of(KnownPlate.plate, plates, dialect)
                few = True
                check = lambda plate: within_one(plate, wanted)  # noqa: E731
        conditions: list[ColumnElement[bool]] = []
        if filters.camera_id:
            conditions.append(PlateSighting.camera_id == filters.camera_id)
        if filters.vehicle_class:
            conditions.append(PlateSighting.vehicle_class == filters.vehicle_class)
        if filters.vehicle_colour:
            conditions.append(PlateSighting.vehicle_colour == filters.vehicle_colour)
        scope = CameraScope.of(actor)
        if not scope.everywhere:
            conditions.append(scope.clause(PlateSighting.camera_id))
        if filters.since:
            conditions.append(PlateSighting.seen_at >= filters.since)
        if filters.until:
            conditions.append(PlateSighting.seen_at < filters.until)
        rows: list[SightingView] = []
        with self._db.reader() as session:
            if dialect == "postgresql":  # the directory and the sightings as of one moment
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            seen = None if known is None else _known(session, known, filters)
            if seen is not None:
                # The plates that exist, within the times they were seen, instead of the
                # pattern's hundreds of candidates in every partition's plate index.
                plate = (
                    PlateSighting.plate == seen.plates[0]
                    if len(seen.plates) == 1
                    else one_of(PlateSighting.plate, seen.plates, dialect)
                )
                conditions += [PlateSighting.seen_at >= seen.first,
                               PlateSighting.seen_at <= seen.last]  # fmt: skip
                few = len(seen.plates) > 1
            if few and dialect == "postgresql":
                # Estimating hundreds of plates at thousands of rows, PostgreSQL would
                # JIT-compile this plan: ~13 ms, where running it takes ~2 ms.
                session.execute(text("SET LOCAL jit = off"))
            # Plates and times only: what the plate index holds.
            alone = (
                not (filters.camera_id or filters.vehicle_class or filters.vehicle_colour)
                and scope.everywhere
            )
            if seen is not None and seen.plates and plate is not None and alone:
                conditions += _newer_than_the_last_wanted(
                    session,
                    [plate, *conditions],
                    filters.limit,
                    newest=min(seen.last, filters.until or seen.last),
                    oldest=max(seen.first, filters.since or seen.first),
                )
            if seen is None or seen.plates:  # no plate seen matches: no sighting can
                where = conditions if plate is None else [plate, *conditions]
                query = _newest(where, few=few).limit(filters.limit)
                rows = [_view(s, c) for s, c in session.execute(query)]
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
                "vehicle_class": filters.vehicle_class,
                "vehicle_colour": filters.vehicle_colour,
                "since": filters.since.isoformat() if filters.since else None,
                "until": filters.until.isoformat() if filters.until else None,
                "returned": [r.id for r in rows],
                **scope.for_audit(),
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
        # A scoped user's route is the vehicle's way through their cameras only.
        scope = CameraScope.of(actor)
        query = (
            _joined()
            .where(
                PlateSighting.plate == wanted,
                PlateSighting.seen_at >= since,
                PlateSighting.seen_at < until,
                scope.clause(PlateSighting.camera_id),
            )
            .order_by(PlateSighting.seen_at, PlateSighting.id)
            .limit(MAX_LIMIT)
        )
        with self._db.reader() as session:
            sightings = [_view(s, c) for s, c in session.execute(query)]
        legs, suspicions = [], []
        for a, b in itertools.pairwise(sightings):
            first, second = _sighting(a), _sighting(b)
            suspicion = self._clones.judge(first, second)
            legs.append(
                Leg(
                    from_camera=a.camera_id,
                    to_camera=b.camera_id,
                    distance_km=round(distance_km(first, second), 3),
                    minutes=round((b.seen_at - a.seen_at).total_seconds() / 60, 2),
                    needed_speed_kmh=(
                        None if suspicion is None else round(suspicion.needed_speed_kmh, 1)
                    ),
                )
            )
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
                **scope.for_audit(),
            },
        )
        return Route(plate=wanted, sightings=sightings, legs=legs, suspicions=suspicions)


_NEVER = datetime.min.replace(tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Seen:
    """The plates of the directory that a search's plate condition matches, and the span of
    time their sightings lie in."""

    plates: list[str]
    first: datetime
    last: datetime


def _known(session: Session, condition: ColumnElement[bool], filters: PlateFilter) -> _Seen | None:
    """The plates seen that meet ``condition`` (and were seen within the filters' times);
    None when more than :data:`MAX_KNOWN` do — the sightings are then searched as before."""
    query = select(KnownPlate.plate, KnownPlate.first_seen_at, KnownPlate.last_seen_at).where(
        condition
    )
    if filters.since:
        query = query.where(KnownPlate.last_seen_at >= filters.since)
    if filters.until:
        query = query.where(KnownPlate.first_seen_at < filters.until)
    rows = session.execute(query.limit(MAX_KNOWN + 1)).all()
    if len(rows) > MAX_KNOWN:
        return None
    return _Seen(
        plates=[plate for plate, _, _ in rows],
        first=min((first for _, first, _ in rows), default=_NEVER),
        last=max((last for _, _, last in rows), default=_NEVER),
    )


def _newer_than_the_last_wanted(
    session: Session,
    conditions: list[ColumnElement[bool]],
    limit: int,
    *,
    newest: datetime,
    oldest: datetime,
) -> list[ColumnElement[bool]]:
    """A bound on time that leaves the newest ``limit`` sightings meeting ``conditions`` (on
    plates and times only, all between ``oldest`` and ``newest``), found in the (plate, time)
    indexes alone; none if there are fewer.

    A vehicle seen every day for years has thousands of sightings, and a search wants its
    newest hundred. Asked for them directly, PostgreSQL — estimating about twenty rows a plate
    — reads every one of them from the table and sorts them (483 rows, 555 pages read, 71 ms
    from disk for one such plate at 100 million sightings); their times alone are a few index
    pages per partition, and with the bound the search reads only the rows it returns, from
    only the partitions they are in.

    The times are read back from ``newest`` a window of whole calendar months at a time until
    ``limit`` are found: plates seen every month have their newest hundred sightings in the
    last few months, and each month is a partition whose plate index would otherwise be read
    too (from disk, a descent of ten partitions' indexes a plate at ten months of history).
    The first window is ``newest``'s month; each next one reaches back as far again as the
    rate found so far says the rest lie (half as far again to spare), at least doubling the
    span read — all the rest when nothing was found — so a few windows answer any history.
    """
    found: list[datetime] = []
    start, until = floor(newest, Interval.MONTH), None
    while True:
        window = list(conditions)
        if start > oldest:
            window.append(PlateSighting.seen_at >= start)
        if until is not None:
            window.append(PlateSighting.seen_at < until)
        # The times first, then ordered (as _newest does for many plates): asked for the
        # newest of many plates directly, PostgreSQL may walk the whole time index backwards.
        times = (
            select(PlateSighting.seen_at)
            .where(*window)
            .cte("times")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        found += session.scalars(
            select(times.c.seen_at).order_by(times.c.seen_at.desc()).limit(limit - len(found))
        )
        if len(found) >= limit:
            return [PlateSighting.seen_at >= found[limit - 1]]
        if start <= oldest:
            return []
        read = newest - start
        back = read * (limit - len(found)) / len(found) * 1.5 if found else newest - oldest
        step = max(back, read, DAY)
        until = start
        # Past the oldest: the last window, unbounded below (and no date before year 1).
        start = floor(start - step, Interval.MONTH) if step < start - oldest else oldest


def _joined() -> Select[PlateSighting, Camera]:
    return select(PlateSighting, Camera).join(Camera, Camera.id == PlateSighting.camera_id)


def _newest(conditions: list[ColumnElement[bool]], *, few: bool) -> Select[PlateSighting, Camera]:
    """The sightings that meet ``conditions``, newest first (of one time, the newest id first:
    a search cut at its limit among them returns the same ones each time).

    With ``few``, the matches are found first (by the plate indexes) and only then ordered:
    asked for the newest of hundreds of candidate plates, PostgreSQL's estimate of how many
    rows they hold is far too high, and it would read the whole table backwards by time
    hoping to meet enough of them soon.
    """
    if not few:
        return (
            _joined()
            .where(*conditions)
            .order_by(PlateSighting.seen_at.desc(), PlateSighting.id.desc())
        )
    # Whole rows, not ids to join back by: over a partitioned 100-million-row table the
    # planner, expecting as many matches as it estimates, would hash-join the whole table.
    matches = (
        select(PlateSighting)
        .where(*conditions)
        .cte("matches")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    found = aliased(PlateSighting, matches)
    return (
        select(found, Camera)
        .join(Camera, Camera.id == found.camera_id)
        .order_by(found.seen_at.desc(), found.id.desc())
    )


def _view(row: PlateSighting, camera: Camera) -> SightingView:
    reading = parse_plate(row.plate)
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
        has_crop=row.crop_uri is not None,
        vehicle_class=row.vehicle_class,
        vehicle_colour=row.vehicle_colour,
        # From the plate, not the row's stored kind and region: those are as the rules stood
        # when it was stored (foreign-owned plates were "other" before 2026-12-08).
        kind=reading.kind.value,
        region=reading.region.code if reading.region else None,
    )


def _sighting(view: SightingView) -> Sighting:
    return Sighting(
        plate=view.plate,
        camera_id=view.camera_id,
        latitude=view.latitude,
        longitude=view.longitude,
        at=view.seen_at,
    )


def _one_off(plate: str) -> list[str]:
    """Every plate within one character of ``plate``: one character replaced, dropped or
    added. Stored plates are Latin letters and digits only (kupol.plates.formats), so these
    few hundred exact values are the whole neighbourhood — looked up in the plate index
    rather than matched against every row.

    Example:
        >>> len(_one_off("123ABC02")), "123ABD02" in _one_off("123ABC02")
        (605, True)
        >>> sorted(p for p in _one_off("AB") if "1" in p)
        ['1AB', '1B', 'A1', 'A1B', 'AB1']
    """
    plates = {plate}
    for i in range(len(plate)):
        plates.add(plate[:i] + plate[i + 1 :])
        plates.update(plate[:i] + c + plate[i + 1 :] for c in PLATE_CHARACTERS)
    for i in range(len(plate) + 1):
        plates.update(plate[:i] + c + plate[i:] for c in PLATE_CHARACTERS)
    return sorted(p for p in plates if p)


def _wildcard_clause(
    pattern: str, column: InstrumentedAttribute[str], *, dialect: str
) -> tuple[ColumnElement[bool], bool]:
    """Where a normalised wildcard pattern (``?`` one character, ``*`` any run) can match,
    in a form the indexes answer without reading every sighting, and whether it is that form:

    * only ``?`` and few of them (``12?AB?02``): the plates it can be, as exact values — but
      when one of the first :data:`SPREAD` characters is unknown and the last :data:`TAIL` are
      known (``??3ABC02``), the index of plates' last characters: the possible plates would
      lie all over the plate index (36 or 1,296 places, each a page read from disk), where
      the few plates ending so lie together;
    * fixed first characters (``123AB*``): a range of the plate index;
    * five or more fixed last characters (``*ABC02``): the index of plates' last characters;
    * otherwise (``*02``, ``1*``: patterns that match many plates) the newest sightings are
      read until enough match.

    The LIKE stays on every form but the first; the exact check runs on the rows returned.
    The range relies on plates being ordered by code point, as SQLite and PostgreSQL's C
    collations order them.
    """
    like = pattern.replace("%", "").replace("_", "").replace("?", "_").replace("*", "%")
    match = column.like(like)
    if "*" not in pattern and len(PLATE_CHARACTERS) ** pattern.count("?") <= MAX_EXPANSION:
        last = pattern[-TAIL:]
        if 0 <= pattern.find("?") < SPREAD and "?" not in last and len(pattern) > TAIL:
            return and_(plate_tail(column) == last, match), True
        return one_of(column, _expand(pattern), dialect), True
    prefix = re.split(r"[?*]", pattern, maxsplit=1)[0]
    if len(prefix) >= MIN_PREFIX:
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return and_(column >= prefix, column < after, match), True
    tail = pattern.rsplit("*", 1)[-1]
    last = tail[-TAIL:]
    if len(tail) >= TAIL and len(PLATE_CHARACTERS) ** last.count("?") <= MAX_EXPANSION:
        tails = one_of(plate_tail(column), _expand(last), dialect)
        return and_(tails, match), True
    return match, False


def _expand(pattern: str) -> list[str]:
    """The plates a pattern of fixed characters and ``?`` can be.

    Example:
        >>> _expand("1?A")[:3], len(_expand("1?A?"))
        (['10A', '11A', '12A'], 1296)
    """
    choices = [sorted(PLATE_CHARACTERS) if c == "?" else [c] for c in pattern]
    return ["".join(p) for p in itertools.product(*choices)]
