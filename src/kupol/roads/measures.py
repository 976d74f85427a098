"""Measures kept with their sites — smart crosswalks, cameras, speed bumps — so that their
before/after evaluation (:mod:`kupol.roads.evaluation`) can be run again as the after period
fills, instead of typing the sites each time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import InvalidInputError
from kupol.roads.analyses import AccidentAnalyses, Evaluation, Site
from kupol.roads.model import RoadMeasure


@dataclass(frozen=True, kw_only=True)
class MeasureRecord:
    """A measure kept with its sites."""

    id: int
    kind: str
    name: str
    installed_on: date
    radius_m: float
    sites: list[Site]
    comparison: list[Site]
    source: str | None
    created_by: str


def _measure(row: RoadMeasure) -> MeasureRecord:
    return MeasureRecord(
        id=row.id, kind=row.kind, name=row.name, installed_on=date.fromisoformat(row.installed_on),
        radius_m=row.radius_m, sites=[Site(**s) for s in row.sites],
        comparison=[Site(**s) for s in row.comparison or []], source=row.source,
        created_by=row.created_by,
    )  # fmt: skip


class Measures:
    """Measures kept, listed and evaluated."""

    def __init__(self, *, db: Database, audit: AuditLog, analyses: AccidentAnalyses) -> None:
        self._db = db
        self._audit = audit
        self._analyses = analyses

    def save_measure(
        self,
        *,
        actor: Principal,
        kind: str,
        name: str,
        installed_on: date,
        sites: Sequence[Site],
        comparison: Sequence[Site] = (),
        radius_m: float = 100.0,
        source: str | None = None,
    ) -> MeasureRecord:
        """Keep a measure and its sites (audited), to evaluate it again later.

        Raises:
            InvalidInputError: no site, an empty name, a bad radius.
        """
        actor.require(Permission.ROADS_IMPORT)
        if not sites or not name.strip() or not 10 <= radius_m <= 2000:
            raise InvalidInputError("a measure needs a name, one or more sites and a radius")
        with self._db.unit_of_work() as session:
            row = RoadMeasure(
                kind=kind, name=name.strip()[:200], installed_on=installed_on.isoformat(),
                radius_m=radius_m, sites=[asdict(s) for s in sites],
                comparison=[asdict(s) for s in comparison], source=source,
                created_by=actor.username,
            )  # fmt: skip
            session.add(row)
            session.flush()
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="create",
                    resource_type="road_measure", resource_id=str(row.id),
                    details={"kind": kind, "name": row.name, "sites": len(sites)},
                ),
                session=session,
            )  # fmt: skip
            return _measure(row)

    def measures_saved(self, *, actor: Principal) -> list[MeasureRecord]:
        """The measures kept, newest first."""
        actor.require(Permission.ROADS_READ)
        with self._db.reader() as session:
            rows = session.scalars(select(RoadMeasure).order_by(RoadMeasure.id.desc()))
            return [_measure(r) for r in rows]

    def evaluate_saved(
        self, *, actor: Principal, measure_id: int, years: int = 3, gap_months: int = 3
    ) -> Evaluation:
        """Evaluate a kept measure on the records as they are now."""
        actor.require(Permission.ROADS_READ)
        with self._db.reader() as session:
            record = _measure(fetch(session, RoadMeasure, measure_id, what="measure"))
        return self._analyses.evaluate(
            actor=actor, treated=record.sites, comparison=record.comparison,
            installed_on=record.installed_on, radius_m=record.radius_m, years=years,
            gap_months=gap_months, source=record.source,
        )  # fmt: skip
