"""The analyses over the registry: hotspots, before/after evaluation of a measure at sites,
and advice on where the next measure would avert the most.

Accidents "at a site" are those within ``radius_m`` of it; the before and after periods are
whole years on either side of the installation, leaving out ``gap_months`` around it (works
and getting used to the change).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import h3
from sqlalchemy import func, select

from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.core.geo import haversine_m
from kupol.roads.evaluation import Estimate, SiteCounts, evaluate
from kupol.roads.hotspots import HotspotResult, Incident, find_hotspots
from kupol.roads.linear import GENERIC, RoadHotspots, RoadIncident, road_hotspots
from kupol.roads.model import Accident
from kupol.roads.stats import Filter
from kupol.roads.vocabulary import KINDS, SEVERITY_WEIGHTS

MEASURES_FILE = Path(__file__).parent / "reference" / "measures.toml"


@dataclass(frozen=True, kw_only=True)
class Site:
    """A treated or comparison site."""

    latitude: float
    longitude: float
    name: str = ""
    predicted_before: float | None = None
    """A safety performance function's accidents for the before period (treated sites)."""
    predicted_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class SiteResult:
    name: str
    latitude: float
    longitude: float
    before: int
    after: int


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """A measure's before/after evaluation."""

    installed_on: date
    before: tuple[date, date]
    after: tuple[date, date]
    radius_m: float
    kinds: list[str]
    treated: list[SiteResult]
    comparison: list[SiteResult]
    estimates: list[Estimate]
    statement: str


@dataclass(frozen=True, kw_only=True)
class MeasureAssumption:
    kind: str
    title: str
    kinds: list[str]
    reduction: float


@dataclass(frozen=True, kw_only=True)
class Advice:
    """One place where the measure is advised."""

    rank: int
    cell: str
    centre: tuple[float, float]
    boundary: list[tuple[float, float]]
    accidents: int
    killed: int
    weight_per_year: float
    """Severity-weighted accidents a year there (of the kinds the measure acts on),
    Empirical-Bayes smoothed towards the area's mean so one bad year does not decide."""
    averted_per_year: float


@dataclass(frozen=True, kw_only=True)
class AdviceList:
    measure: MeasureAssumption
    resolution: int
    years: float
    places: list[Advice]
    statement: str


def load_measures(path: Path = MEASURES_FILE) -> dict[str, MeasureAssumption]:
    """The measures' planning assumptions (see the file's header)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    found = {}
    for kind, entry in raw.items():
        kinds = [str(k) for k in entry.get("kinds", [])]
        reduction = float(entry.get("reduction", 0))
        if not kinds or any(k not in KINDS for k in kinds) or not 0 < reduction < 1:
            raise InvalidInputError(f"measure {kind} in {path} is not valid")
        found[kind] = MeasureAssumption(
            kind=kind, title=str(entry.get("title", kind)), kinds=kinds, reduction=reduction
        )
    return found


class AccidentAnalyses:
    """Hotspots, evaluations and advice over the registry."""

    def __init__(self, *, db: Database) -> None:
        self._db = db
        self.measures = load_measures()

    def _incidents(self, where: Filter, kinds: Sequence[str] = ()) -> list[Incident]:
        query = select(
            Accident.id, Accident.h3_cell, Accident.severity, Accident.killed, Accident.injured
        ).where(Accident.h3_cell.is_not(None))
        query = where.apply(query)
        if kinds:
            query = query.where(Accident.kind.in_(list(kinds)))
        # In id order: the hotspots' stability drops incidents by a seeded draw over them.
        query = query.order_by(Accident.id)
        with self._db.reader() as session:
            return [
                Incident(id=r[0], cell=r[1] or "", severity=r[2], killed=r[3], injured=r[4])
                for r in session.execute(query)
            ]

    def hotspots(
        self,
        *,
        actor: Principal,
        where: Filter | None = None,
        resolution: int = 9,
        ring: int = 1,
        alpha: float = 0.05,
        stability_runs: int = 20,
    ) -> HotspotResult:
        """Hot areas of the filtered accidents (see :mod:`kupol.roads.hotspots`)."""
        actor.require(Permission.ROADS_READ)
        incidents = self._incidents(where or Filter())
        if len(incidents) < 10:
            raise InvalidInputError("hotspots need 10 or more accidents with a place")
        return find_hotspots(
            incidents, resolution=resolution, ring=ring, alpha=alpha,
            stability_runs=stability_runs,
        )  # fmt: skip

    def road_hotspots(
        self,
        *,
        actor: Principal,
        where: Filter | None = None,
        segment_m: float = 500.0,
        alpha: float = 0.05,
    ) -> RoadHotspots:
        """Hot stretches along named roads (see :mod:`kupol.roads.linear`)."""
        actor.require(Permission.ROADS_READ)
        query = (where or Filter()).apply(
            select(
                Accident.id, Accident.road_class, Accident.road, Accident.latitude,
                Accident.longitude, Accident.severity, Accident.killed,
            ).where(Accident.latitude.is_not(None), Accident.road.is_not(None))
        )  # fmt: skip
        with self._db.reader() as session:
            incidents = [
                RoadIncident(
                    id=r[0],
                    road=f"{r[1]} {r[2]}",
                    latitude=r[3],
                    longitude=r[4],
                    severity=r[5],
                    killed=r[6],
                )
                for r in session.execute(query)
                if r[2]
                and r[2].strip().lower() not in GENERIC
                and r[3] is not None
                and r[4] is not None
            ]
        return road_hotspots(incidents, segment_m=segment_m, alpha=alpha)

    def evaluate(
        self,
        *,
        actor: Principal,
        treated: Sequence[Site],
        comparison: Sequence[Site],
        installed_on: date,
        radius_m: float = 100.0,
        years: int = 3,
        gap_months: int = 3,
        kinds: Sequence[str] = (),
        source: str | None = None,
        overdispersion: float | None = None,
    ) -> Evaluation:
        """Accidents within ``radius_m`` of each site ``years`` before and after the
        installation (less ``gap_months`` each side), and the three estimates.

        Raises:
            InvalidInputError: no treated site, a bad radius or period, an unknown kind.
        """
        actor.require(Permission.ROADS_READ)
        if not treated:
            raise InvalidInputError("give at least one treated site")
        if not 10 <= radius_m <= 2000 or not 1 <= years <= 10 or not 0 <= gap_months <= 12:
            raise InvalidInputError("radius 10–2000 m, 1–10 years, a gap of 0–12 months")
        if not date(1900, 1, 1) <= installed_on <= date(2100, 1, 1):  # years around it exist
            raise InvalidInputError("installed_on must be between 1900 and 2100")
        wrong = [k for k in kinds if k not in KINDS]
        if wrong:
            raise InvalidInputError(f"kinds must be among {', '.join(KINDS)}")
        gap = timedelta(days=round(gap_months * 30.44))
        before = (_years_back(installed_on - gap, years), installed_on - gap)
        after = (installed_on + gap, _years_ahead(installed_on + gap, years))
        extent = self._extent(source)
        if extent is None or before[0] < extent[0] or after[1] > extent[1]:
            held = "none" if extent is None else f"{extent[0]} to {extent[1]}"
            raise InvalidInputError(
                f"the records cover {held}: the periods {before[0]} to {after[1]} must lie "
                "inside them (fewer years, or another installation date) — a period the "
                "records do not cover would count as one without accidents"
            )
        sites = [*treated, *comparison]
        counts = self._counts_at(sites, radius_m, before, after, kinds, source)
        results = [
            SiteResult(name=s.name or f"site {i + 1}", latitude=s.latitude, longitude=s.longitude,
                       before=b, after=a)
            for i, (s, (b, a)) in enumerate(zip(sites, counts, strict=True))
        ]  # fmt: skip
        as_counts = [
            SiteCounts(
                before=r.before, after=r.after, years_before=years, years_after=years,
                predicted_before=s.predicted_before, predicted_after=s.predicted_after,
            )
            for r, s in zip(results, sites, strict=True)
        ]  # fmt: skip
        what = "accidents" if not kinds else "accidents (" + ", ".join(kinds) + ")"
        estimates = evaluate(
            as_counts[: len(treated)], as_counts[len(treated) :], what=what,
            overdispersion=overdispersion,
        )  # fmt: skip
        return Evaluation(
            installed_on=installed_on,
            before=before,
            after=after,
            radius_m=radius_m,
            kinds=list(kinds),
            treated=results[: len(treated)],
            comparison=results[len(treated) :],
            estimates=estimates,
            statement=(
                f"{what} within {radius_m:g} m of {len(treated)} treated and "
                f"{len(comparison)} comparison sites, {before[0]} to {before[1]} against "
                f"{after[0]} to {after[1]} (installed {installed_on}, {gap_months} months "
                "left out on each side)"
            ),
        )

    def _counts_at(
        self,
        sites: Sequence[Site],
        radius_m: float,
        before: tuple[date, date],
        after: tuple[date, date],
        kinds: Sequence[str],
        source: str | None,
    ) -> list[tuple[int, int]]:
        degrees = radius_m / 111_000 * 1.5
        found = []
        with self._db.reader() as session:
            for site in sites:
                span = degrees / max(math.cos(math.radians(site.latitude)), 0.05)
                query = select(Accident.latitude, Accident.longitude, Accident.local_time).where(
                    Accident.latitude.between(site.latitude - degrees, site.latitude + degrees),
                    Accident.longitude.between(site.longitude - span, site.longitude + span),
                    Accident.local_time >= before[0].isoformat(),
                    Accident.local_time < after[1].isoformat(),
                )
                if kinds:
                    query = query.where(Accident.kind.in_(list(kinds)))
                if source:
                    query = query.where(Accident.source == source)
                b = a = 0
                for lat, lon, local in session.execute(query):
                    if lat is None or lon is None:
                        continue
                    if haversine_m((site.latitude, site.longitude), (lat, lon)) > radius_m:
                        continue
                    day = date.fromisoformat(local[:10])
                    if before[0] <= day < before[1]:
                        b += 1
                    elif after[0] <= day < after[1]:
                        a += 1
                found.append((b, a))
        return found

    def advice(
        self,
        *,
        actor: Principal,
        measure: str,
        where: Filter | None = None,
        resolution: int = 9,
        places: int = 20,
    ) -> AdviceList:
        """Where ``measure`` would avert the most severity-weighted accidents a year.

        Each cell's yearly severity-weighted count of the accidents the measure acts on is
        smoothed towards the mean of the cells that had any (Empirical Bayes, method of
        moments), then multiplied by the measure's assumed reduction.
        """
        actor.require(Permission.ROADS_READ)
        chosen = self.measures.get(measure)
        if chosen is None:
            raise InvalidInputError(f"measure must be one of {', '.join(self.measures)}")
        where = where or Filter()
        incidents = self._incidents(where, chosen.kinds)
        if not incidents:
            raise InvalidInputError("no accidents of the kinds this measure acts on")
        years = self._years(where)
        cells: dict[str, list[Incident]] = {}
        for incident in incidents:
            cells.setdefault(h3.cell_to_parent(incident.cell, resolution), []).append(incident)
        weights = {
            c: sum(SEVERITY_WEIGHTS.get(i.severity, 1.0) for i in members)
            for c, members in cells.items()
        }
        values = list(weights.values())
        mean = sum(values) / len(values)
        variance = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
        k = max((variance - mean) / mean**2, 0.0) if mean > 0 else 0.0
        w = 1 / (1 + k * mean)
        smoothed = {c: w * mean + (1 - w) * v for c, v in weights.items()}
        ranked = sorted(smoothed, key=lambda c: (-smoothed[c], c))[:places]
        found = [
            Advice(
                rank=n,
                cell=c,
                centre=h3.cell_to_latlng(c),
                boundary=[(round(a, 6), round(b, 6)) for a, b in h3.cell_to_boundary(c)],
                accidents=len(cells[c]),
                killed=sum(i.killed for i in cells[c]),
                weight_per_year=smoothed[c] / years,
                averted_per_year=smoothed[c] / years * chosen.reduction,
            )
            for n, c in enumerate(ranked, start=1)
        ]
        return AdviceList(
            measure=chosen,
            resolution=resolution,
            years=years,
            places=found,
            statement=(
                f"Places for a {chosen.title}, ranked by severity-weighted accidents a year "
                f"({', '.join(chosen.kinds)}; weights "
                + ", ".join(f"{s} {v:g}" for s, v in SEVERITY_WEIGHTS.items())
                + f") over {years:.1f} years, smoothed towards the mean of H3 cells of "
                f"resolution {resolution}, times an assumed {chosen.reduction:.0%} reduction "
                "(a planning assumption until kupol's own evaluation of the measure replaces it)"
            ),
        )

    def _extent(self, source: str | None) -> tuple[date, date] | None:
        """The first day of the records' first month and the first of the month after their
        last (of one source)."""
        query = select(func.min(Accident.local_time), func.max(Accident.local_time))
        if source:
            query = query.where(Accident.source == source)
        with self._db.reader() as session:
            first, last = session.execute(query).one()
        if not first or not last:
            return None
        # Whole months: a month with records is a month the records cover (its first
        # accident may fall on the 2nd).
        start = date.fromisoformat(first[:8] + "01")
        end = date.fromisoformat(last[:8] + "01")
        return start, date(end.year + end.month // 12, end.month % 12 + 1, 1)

    def _years(self, where: Filter) -> float:
        """The years the filter's window covers within the records."""
        extent = self._extent(where.source)
        if extent is None:
            return 1.0
        start = max(where.since or extent[0], extent[0])
        end = min(where.until or extent[1], extent[1])
        return max((end - start).days / 365.25, 1 / 12)


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
