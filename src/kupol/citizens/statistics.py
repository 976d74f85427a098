"""Public statistics of citizens' reports, per region, as open data: what was reported, what
was confirmed or rejected, what rewards were paid — small counts withheld
(:mod:`kupol.citizens.open_data`) — beside the official crime statistics the road-safety
analysts imported for the same period (traffic offences, chapter 14, and fraud, article 190,
per 100,000 people; those are public already, at qamqor.gov.kz).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select

from kupol.citizens.helpers_rules import ALMATY
from kupol.citizens.open_data import OpenStatistics, ReportFact, open_statistics, period_bounds
from kupol.citizens.store import ReportRow
from kupol.core.auth import Principal
from kupol.core.db import Database
from kupol.roads.crime import FRAUD_ARTICLE, TRAFFIC_CHAPTER
from kupol.roads.crime_store import CrimeStatistics, RegionFigure

OPEN_DATA = Principal(user_id=0, username="open-data", full_name="Open data publisher",
                      roles=("analyst",), locale="ru")  # fmt: skip
"""Who reads the (already public) crime figures for the open-data page."""


@dataclass(frozen=True, kw_only=True)
class RegionCrime:
    """One region's official figures for the period (None: not imported)."""

    traffic: RegionFigure | None
    fraud: RegionFigure | None


@dataclass(frozen=True, kw_only=True)
class PublicFigures:
    period: str
    reports: OpenStatistics
    crime: dict[str, RegionCrime] = field(default_factory=dict)
    """By region code; empty when no crime report of the period was imported."""


class PublicStatistics:
    """Open data of citizens' reports (see the module)."""

    def __init__(self, *, db: Database, crime: CrimeStatistics | None, min_count: int = 5) -> None:
        self._db = db
        self._crime = crime
        self.min_count = min_count

    def of(self, period: str) -> PublicFigures:
        """The figures of ``period`` (``2026``, ``2026-03``, ``2026-Q1``, ``2026-H1``).

        Raises:
            InvalidInputError: not such a period.
        """
        start, end = period_bounds(period)
        since = datetime.combine(start, time(0), tzinfo=ALMATY)
        until = datetime.combine(end, time(0), tzinfo=ALMATY)
        with self._db.reader() as session:
            rows = session.execute(
                select(ReportRow.region, ReportRow.kind, ReportRow.status,
                       ReportRow.submitted_at, ReportRow.reward_tenge)
                .where(ReportRow.submitted_at >= since, ReportRow.submitted_at < until,
                       ReportRow.hidden.is_(False))
            ).all()  # fmt: skip
        facts = [
            ReportFact(region=region, kind=kind, status=status,
                       submitted_on=submitted.astimezone(ALMATY).date(), reward_tenge=reward)
            for region, kind, status, submitted, reward in rows
        ]  # fmt: skip
        reports = open_statistics(facts, start=start, end=end, min_count=self.min_count)
        return PublicFigures(period=period, reports=reports, crime=self._crime_of(period))

    def _crime_of(self, period: str) -> dict[str, RegionCrime]:
        if self._crime is None or period not in self._crime.periods(actor=OPEN_DATA):
            return {}
        traffic = {f.region_code: f for f in self._crime.by_region(
            actor=OPEN_DATA, period=period, chapter=TRAFFIC_CHAPTER)}  # fmt: skip
        fraud = {f.region_code: f for f in self._crime.by_region(
            actor=OPEN_DATA, period=period, article=FRAUD_ARTICLE)}  # fmt: skip
        return {code: RegionCrime(traffic=traffic.get(code), fraud=fraud.get(code))
                for code in sorted(traffic.keys() | fraud.keys())}  # fmt: skip
