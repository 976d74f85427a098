"""The accident registry: imports through a mapping, and the records for the analyses.

An import accounts for every row of the file: stored, already in the registry (the source's
reference was imported before — a file imported twice adds nothing), or rejected with its line
and reason. What was accepted stays accepted even when other rows are bad.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping as MappingType
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import InvalidInputError
from kupol.core.messages import utcnow
from kupol.roads.importer import AccidentRow, parse
from kupol.roads.mapping import Mapping
from kupol.roads.model import Accident, AccidentImport

CHUNK = 1000


@dataclass(frozen=True, kw_only=True)
class AccidentView:
    """An accident as the console lists it (no names: the registry holds none)."""

    id: int
    source: str
    source_ref: str
    local_time: str
    latitude: float | None
    longitude: float | None
    region_code: str | None
    district: str | None
    road: str | None
    road_class: str
    kind: str
    severity: str
    killed: int
    injured: int
    vehicles: int | None
    light: str
    weather: str
    surface: str
    speed_limit_kmh: float | None
    links: list[dict[str, Any]]


MAX_LIST = 500


@dataclass(frozen=True, kw_only=True)
class ImportSummary:
    """What one import did; ``rows == imported + duplicates + rejected``."""

    id: int
    source: str
    mapping: str
    file_name: str
    file_sha256: str
    rows: int
    imported: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]]
    imported_by: str
    imported_at: datetime


class AccidentRegistry:
    """Imports and reads accident records."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def import_file(
        self,
        *,
        data: bytes,
        file_name: str,
        mapping: Mapping,
        actor: Principal,
        related: MappingType[str, bytes] | None = None,
    ) -> ImportSummary:
        """Import one CSV file through ``mapping``.

        Raises:
            InvalidInputError: the file as a whole cannot be read (nothing is stored).
        """
        actor.require(Permission.ROADS_IMPORT)
        parsed = parse(data, mapping, related=related)
        imported = duplicates = 0
        with self._db.unit_of_work() as session:
            batch = AccidentImport(
                source=mapping.source,
                mapping=mapping.name,
                file_name=file_name[:255],
                file_sha256=hashlib.sha256(data).hexdigest(),
                rows=parsed.total,
                imported=0,
                duplicates=0,
                rejected=len(parsed.rejects),
                rejects=[asdict(r) for r in parsed.rejects],
                imported_by=actor.username,
            )
            session.add(batch)
            session.flush()
            # Which references the registry holds already, asked before anything is added:
            # asked while the table grows inside this transaction, PostgreSQL (its statistics
            # still those of the table before) scanned the growing table for every chunk.
            known: set[str] = set()
            for start in range(0, len(parsed.rows), CHUNK):
                refs = [r.source_ref for r in parsed.rows[start : start + CHUNK]]
                known.update(
                    session.scalars(
                        select(Accident.source_ref).where(
                            Accident.source == mapping.source, Accident.source_ref.in_(refs)
                        )
                    )
                )
            fresh = [r for r in parsed.rows if r.source_ref not in known]
            duplicates = len(parsed.rows) - len(fresh)
            for start in range(0, len(fresh), CHUNK):
                # A bulk INSERT, not one ORM object per row.
                session.execute(
                    insert(Accident),
                    [_values(r, mapping.source, batch.id) for r in fresh[start : start + CHUNK]],
                )
            imported = len(fresh)
            batch.imported, batch.duplicates = imported, duplicates
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="import",
                    resource_type="accident_import",
                    resource_id=str(batch.id),
                    details={
                        "file": file_name[:255],
                        "mapping": mapping.name,
                        "rows": parsed.total,
                        "imported": imported,
                        "duplicates": duplicates,
                        "rejected": len(parsed.rejects),
                    },
                ),
                session=session,
            )
            session.flush()
            return _summary(batch)

    def imports(self, *, actor: Principal, limit: int = 100) -> list[ImportSummary]:
        """The latest imports, newest first."""
        actor.require(Permission.ROADS_READ)
        with self._db.reader() as session:
            rows = session.scalars(
                select(AccidentImport).order_by(AccidentImport.id.desc()).limit(limit)
            )
            return [_summary(r) for r in rows]

    def get_import(self, *, import_id: int, actor: Principal) -> ImportSummary:
        """One import with its rejects."""
        actor.require(Permission.ROADS_READ)
        with self._db.reader() as session:
            return _summary(fetch(session, AccidentImport, import_id, what="accident import"))

    def accidents(
        self,
        *,
        actor: Principal,
        ids: list[int] | None = None,
        source: str | None = None,
        limit: int = 100,
    ) -> list[AccidentView]:
        """Accidents by id (a hotspot's list) or the latest of a source, newest first.

        Raises:
            InvalidInputError: more than 500 asked for.
        """
        actor.require(Permission.ROADS_READ)
        if len(ids or []) > MAX_LIST or not 1 <= limit <= MAX_LIST:
            raise InvalidInputError(f"at most {MAX_LIST} accidents at a time")
        query = select(Accident)
        if ids is not None:
            query = query.where(Accident.id.in_(ids))
        if source is not None:
            query = query.where(Accident.source == source)
        query = query.order_by(Accident.local_time.desc(), Accident.id.desc()).limit(limit)
        with self._db.reader() as session:
            return [_view(r) for r in session.scalars(query)]

    def count(self, *, actor: Principal, source: str | None = None) -> int:
        """How many accidents the registry holds (of one source)."""
        actor.require(Permission.ROADS_READ)
        from sqlalchemy import func

        query = select(func.count()).select_from(Accident)
        if source is not None:
            query = query.where(Accident.source == source)
        with self._db.reader() as session:
            return int(session.scalar(query) or 0)


def _view(row: Accident) -> AccidentView:
    return AccidentView(
        id=row.id, source=row.source, source_ref=row.source_ref, local_time=row.local_time,
        latitude=row.latitude, longitude=row.longitude, region_code=row.region_code,
        district=row.district, road=row.road, road_class=row.road_class, kind=row.kind,
        severity=row.severity, killed=row.killed, injured=row.injured, vehicles=row.vehicles,
        light=row.light, weather=row.weather, surface=row.surface,
        speed_limit_kmh=row.speed_limit_kmh, links=list(row.links or []),
    )  # fmt: skip


def _values(row: AccidentRow, source: str, import_id: int) -> dict[str, Any]:
    fields = dict(row.__dict__)  # shallow: dataclasses.asdict deep-copies every row
    del fields["line"]
    return {
        **fields,
        "source": source,
        "import_id": import_id,
        "links": [],
        "created_at": utcnow(),
    }


def _summary(batch: AccidentImport) -> ImportSummary:
    return ImportSummary(
        id=batch.id,
        source=batch.source,
        mapping=batch.mapping,
        file_name=batch.file_name,
        file_sha256=batch.file_sha256,
        rows=batch.rows,
        imported=batch.imported,
        duplicates=batch.duplicates,
        rejected=batch.rejected,
        rejects=list(batch.rejects),
        imported_by=batch.imported_by,
        imported_at=batch.imported_at,
    )
