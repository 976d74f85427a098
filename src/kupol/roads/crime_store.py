"""The crime figures by region and period: imported from the official workbooks, read as the
regional context of the road-safety analyses (e.g. traffic offences and fraud per 100,000)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.plates.formats import REGIONS
from kupol.roads.crime import parse_report
from kupol.roads.model import CrimeFigure
from kupol.roads.regions import RegionTable

PERIOD = r"^(19|20)[0-9]{2}(-(0[1-9]|1[0-2]|H[12]|Q[1-4]))?$"
"""A year (2023), month (2023-06), half (2023-H1) or quarter (2023-Q2) of 1900–2099."""


@dataclass(frozen=True, kw_only=True)
class RegionFigure:
    """One region's count for an article or chapter in a period, with its rate."""

    region_code: str
    region: str
    registered: int
    in_proceedings: int
    population: int | None
    per_100k: float | None


class CrimeStatistics:
    """Imports the workbooks and answers per-region questions."""

    def __init__(self, *, db: Database, audit: AuditLog, regions: RegionTable) -> None:
        self._db = db
        self._audit = audit
        self.regions = regions

    def import_report(
        self, *, data: bytes, file_name: str, region: str, period: str, actor: Principal
    ) -> int:
        """Store one region's report for ``period`` (``2023``, ``2023-06``, ``2023-H1``,
        ``2023-Q2``), replacing an earlier import of the same region and period. Returns the
        lines stored.

        Raises:
            InvalidInputError: the period or region is not one, or the workbook cannot be read.
        """
        actor.require(Permission.ROADS_IMPORT)
        if not re.match(PERIOD, period):
            raise InvalidInputError(
                "period is a year (2023), month (2023-06), half (2023-H1) or quarter (2023-Q2)"
            )
        code = self.regions.code_for(region)
        lines = parse_report(data)
        with self._db.unit_of_work() as session:
            session.execute(
                delete(CrimeFigure).where(
                    CrimeFigure.region_code == code, CrimeFigure.period == period
                )
            )
            session.add_all(
                CrimeFigure(
                    region_code=code,
                    period=period,
                    line=line.line,
                    article=line.article,
                    chapter=line.chapter,
                    title=line.title[:2000],
                    in_proceedings=line.in_proceedings,
                    registered=line.registered,
                    source_file=file_name[:255],
                )
                for line in lines
            )
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="import",
                    resource_type="crime_report",
                    resource_id=f"{code}/{period}",
                    details={"file": file_name[:255], "lines": len(lines)},
                ),
                session=session,
            )
        return len(lines)

    def periods(self, *, actor: Principal) -> list[str]:
        """The periods imported."""
        actor.require(Permission.ROADS_READ)
        with self._db.reader() as session:
            return sorted(set(session.scalars(select(CrimeFigure.period).distinct())))

    def by_region(
        self,
        *,
        actor: Principal,
        period: str,
        article: str | None = None,
        chapter: int | None = None,
        line: int | None = None,
    ) -> list[RegionFigure]:
        """One article's, chapter's or report line's figures in every region that reported
        the period, highest rate first (regions without a population last).

        Raises:
            InvalidInputError: not exactly one of article, chapter and line.
        """
        actor.require(Permission.ROADS_READ)
        if not re.match(PERIOD, period):
            raise InvalidInputError("period is a year (2023), month (2023-06), half or quarter")
        if sum(x is not None for x in (article, chapter, line)) != 1:
            raise InvalidInputError("give one of article, chapter or line")
        query = select(CrimeFigure).where(CrimeFigure.period == period)
        if article is not None:
            query = query.where(CrimeFigure.article == article)
        elif chapter is not None:
            query = query.where(CrimeFigure.chapter == chapter)
        else:
            query = query.where(CrimeFigure.line == line)
        on = _start_of(period)
        found: list[RegionFigure] = []
        with self._db.reader() as session:
            seen: dict[str, RegionFigure] = {}
            for row in session.scalars(query.order_by(CrimeFigure.line)):
                if row.region_code in seen:
                    continue  # an article's first line: the others are its parts
                figure = self.regions.population_of(row.region_code, on)
                population = figure[0] if figure else None
                seen[row.region_code] = RegionFigure(
                    region_code=row.region_code,
                    region=REGIONS[row.region_code].name_en,
                    registered=row.registered,
                    in_proceedings=row.in_proceedings,
                    population=population,
                    per_100k=None if not population else row.registered / population * 1e5,
                )
            found = list(seen.values())
        return sorted(found, key=lambda f: (f.per_100k is None, -(f.per_100k or 0.0)))


def _start_of(period: str) -> date:
    year = int(period[:4])
    rest = period[5:]
    if not rest:
        return date(year, 1, 1)
    if rest.startswith("H"):
        return date(year, 1 if rest == "H1" else 7, 1)
    if rest.startswith("Q"):
        return date(year, 3 * (int(rest[1]) - 1) + 1, 1)
    return date(year, int(rest), 1)
