"""Accident statistics: counts and rates by region, time and circumstance, with confidence
intervals; yearly trends; a region ranking that states its measure.

Counts of accidents are treated as Poisson: a count's 95 % interval is the exact (Garwood)
one; a rate per 100,000 people per year divides the count and its interval by the population
(the figure in force at the period's start) and the period's length in years. A trend is a
Poisson regression of yearly counts on the year (log link), its change per year given with a
95 % interval widened by the data's over-dispersion (quasi-Poisson) when there is any.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import numpy as np
from scipy import stats as sps  # type: ignore[import-untyped]
from sqlalchemy import Select, func, select

from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.roads.model import Accident
from kupol.roads.regions import RegionTable
from kupol.roads.vocabulary import SEVERITIES

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")
Dimension = Literal[
    "region", "year", "month", "weekday", "hour", "road_class", "kind", "severity", "light",
    "weather", "surface",
]  # fmt: skip
DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
Measure = Literal["accidents", "killed", "fatal_accidents", "casualties"]
MEASURES: tuple[str, ...] = Measure.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True)
class Filter:
    """Which accidents: a source, a region, a time window (``until`` excluded), severities."""

    source: str | None = None
    region_code: str | None = None
    since: date | None = None
    until: date | None = None
    severities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        wrong = [s for s in self.severities if s not in SEVERITIES]
        if wrong:
            raise InvalidInputError(f"severity must be among {', '.join(SEVERITIES)}")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInputError("since must be before until")

    def apply(self, query: Q) -> Q:
        """``query`` over accidents narrowed to these (times are local: a day is the place's)."""
        if self.source:
            query = query.where(Accident.source == self.source)
        if self.region_code:
            query = query.where(Accident.region_code == self.region_code)
        if self.since:
            query = query.where(Accident.local_time >= self.since.isoformat())
        if self.until:
            query = query.where(Accident.local_time < self.until.isoformat())
        if self.severities:
            query = query.where(Accident.severity.in_(self.severities))
        return query


@dataclass(frozen=True, kw_only=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, kw_only=True)
class BreakdownRow:
    """One value of the dimension."""

    key: str
    accidents: int
    fatal_accidents: int
    killed: int
    injured: int
    value: float
    """The measure's count."""
    interval: Interval
    """95 % interval of the measure's count (exact Poisson)."""
    share: float
    population: int | None = None
    per_100k_year: float | None = None
    per_100k_interval: Interval | None = None
    vehicles: int | None = None
    """Registered vehicles (when the region table has them)."""
    per_10k_vehicles_year: float | None = None
    per_10k_vehicles_interval: Interval | None = None


@dataclass(frozen=True, kw_only=True)
class Breakdown:
    """Counts by one dimension, and what they measure."""

    dimension: str
    measure: str
    total: float
    years: float
    """The period's length in years (rates are per year)."""
    period: tuple[date, date] | None
    rows: list[BreakdownRow]
    statement: str


@dataclass(frozen=True, kw_only=True)
class Trend:
    """Yearly counts and the change per year."""

    measure: str
    years: list[int]
    counts: list[float]
    intervals: list[Interval]
    change_per_year: float | None
    """exp(slope) − 1 of a Poisson regression on the year; None with fewer than 3 years."""
    change_interval: Interval | None
    dispersion: float | None
    statement: str


@dataclass(frozen=True, kw_only=True)
class _Row:
    local: datetime
    region: str | None
    road_class: str
    kind: str
    severity: str
    light: str
    weather: str
    surface: str
    killed: int
    injured: int


def poisson_interval(count: float, level: float = 0.95) -> Interval:
    """The exact (Garwood) interval of a Poisson count.

    Example:
        >>> i = poisson_interval(10)
        >>> round(i.low, 2), round(i.high, 2)
        (4.8, 18.39)
    """
    alpha = 1 - level
    low = 0.0 if count <= 0 else float(sps.chi2.ppf(alpha / 2, 2 * count) / 2)
    high = float(sps.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2)
    return Interval(low=low, high=high)


def poisson_trend(years: Sequence[int], counts: Sequence[float]) -> tuple[float, float, float]:
    """Slope of log(mean count) on the year by Poisson regression (IRLS), its standard error
    (quasi-Poisson: multiplied by √dispersion when the Pearson dispersion exceeds 1) and the
    dispersion.

    Raises:
        InvalidInputError: fewer than 3 years or no accidents.
    """
    x = np.asarray(years, float)
    y = np.asarray(counts, float)
    if len(x) < 3 or y.sum() <= 0:
        raise InvalidInputError("a trend needs 3 or more years with accidents")
    design = np.column_stack([np.ones_like(x), x - x.mean()])
    beta = np.array([math.log(max(y.mean(), 1e-9)), 0.0])
    converged = False
    try:
        for _ in range(100):
            mu = np.exp(design @ beta)
            z = design @ beta + (y - mu) / mu
            xtw = design.T * mu
            new = np.linalg.solve(xtw @ design, xtw @ z)
            if not np.all(np.isfinite(new)):
                break
            if np.max(np.abs(new - beta)) < 1e-10:
                beta, converged = new, True
                break
            beta = new
        mu = np.exp(design @ beta)
        covariance = np.linalg.inv((design.T * mu) @ design)
    except (np.linalg.LinAlgError, FloatingPointError, OverflowError):
        converged = False
    if not converged or abs(beta[1]) > 5 or not np.all(np.isfinite(covariance)):
        # Counts such as 0, 0, 5 have their maximum at an infinite slope.
        raise InvalidInputError("no trend can be estimated from these counts")
    dispersion = float(np.sum((y - mu) ** 2 / mu) / (len(x) - 2))
    se = math.sqrt(covariance[1, 1]) * math.sqrt(max(1.0, dispersion))
    return float(beta[1]), se, dispersion


class AccidentStatistics:
    """Counts, rates, trends and rankings over the registry."""

    def __init__(self, *, db: Database, regions: RegionTable) -> None:
        self._db = db
        self._regions = regions

    def _rows(self, where: Filter) -> list[_Row]:
        query = select(
            Accident.local_time,
            Accident.region_code,
            Accident.road_class,
            Accident.kind,
            Accident.severity,
            Accident.light,
            Accident.weather,
            Accident.surface,
            Accident.killed,
            Accident.injured,
        )
        query = where.apply(query)
        with self._db.reader() as session:
            return [
                _Row(
                    local=datetime.fromisoformat(r[0]),
                    region=r[1],
                    road_class=r[2],
                    kind=r[3],
                    severity=r[4],
                    light=r[5],
                    weather=r[6],
                    surface=r[7],
                    killed=r[8],
                    injured=r[9],
                )
                for r in session.execute(query)
            ]

    def _covered(self, where: Filter) -> list[date]:
        """The months (their first days) the records of the filter's source, region and window
        cover, whatever their severity (a month without a fatal accident is still a month the
        records cover), asked of the database as distinct ``YYYY-MM`` prefixes."""
        unfiltered = Filter(
            source=where.source, region_code=where.region_code, since=where.since,
            until=where.until,
        )  # fmt: skip
        month = func.substr(Accident.local_time, 1, 7)
        query = unfiltered.apply(select(month).distinct())
        with self._db.reader() as session:
            return sorted(date.fromisoformat(m + "-01") for m in session.scalars(query))

    def breakdown(
        self,
        *,
        actor: Principal,
        by: str,
        measure: str = "accidents",
        where: Filter | None = None,
    ) -> Breakdown:
        """Counts of ``measure`` by ``by``, with 95 % intervals; by region also the rate per
        100,000 people per year.

        Raises:
            InvalidInputError: an unknown dimension or measure.
        """
        actor.require(Permission.ROADS_READ)
        if by not in DIMENSIONS:
            raise InvalidInputError(f"by must be one of {', '.join(DIMENSIONS)}")
        if measure not in MEASURES:
            raise InvalidInputError(f"measure must be one of {', '.join(MEASURES)}")
        where = where or Filter()
        rows = self._rows(where)
        period = _period(self._covered(where), where)
        years = (period[1] - period[0]).days / 365.25 if period else 0.0
        groups: dict[str, list[_Row]] = defaultdict(list)
        for row in rows:
            groups[_key(row, by)].append(row)
        total = sum(_measure(r, measure) for r in rows)
        out = []
        for key in sorted(groups, key=lambda k: _order(k, by)):
            members = groups[key]
            value = float(sum(_measure(r, measure) for r in members))
            interval = poisson_interval(value)
            population = rate = rate_interval = None
            vehicles = vehicle_rate = vehicle_interval = None
            if by == "region" and period and years > 0:
                figure = self._regions.population_of(key, period[0])
                if figure is not None:
                    population = figure[0]
                    rate, rate_interval = _rate(value, interval, population * years, 1e5)
                fleet = self._regions.vehicles_of(key, period[0])
                if fleet is not None:
                    vehicles = fleet[0]
                    vehicle_rate, vehicle_interval = _rate(value, interval, vehicles * years, 1e4)
            out.append(
                BreakdownRow(
                    key=key,
                    accidents=len(members),
                    fatal_accidents=sum(1 for r in members if r.severity == "fatal"),
                    killed=sum(r.killed for r in members),
                    injured=sum(r.injured for r in members),
                    value=value,
                    interval=interval,
                    share=value / total if total else 0.0,
                    population=population,
                    per_100k_year=rate,
                    per_100k_interval=rate_interval,
                    vehicles=vehicles,
                    per_10k_vehicles_year=vehicle_rate,
                    per_10k_vehicles_interval=vehicle_interval,
                )
            )
        statement = f"{_measure_words(measure)} by {by}"
        if period:
            statement += f", {period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d} ({years:.2f} years)"
        return Breakdown(
            dimension=by,
            measure=measure,
            total=float(total),
            years=years,
            period=period,
            rows=out,
            statement=statement + "; 95 % intervals are exact Poisson intervals",
        )

    def ranking(
        self,
        *,
        actor: Principal,
        measure: str = "killed",
        where: Filter | None = None,
        per: str = "people",
    ) -> Breakdown:
        """Regions ranked by ``measure`` per 100,000 people (``per="people"``) or per 10,000
        registered vehicles (``per="vehicles"``) per year, highest first; regions without the
        figure are left out (and said so).

        Raises:
            InvalidInputError: ``per`` is neither.
        """
        if per not in ("people", "vehicles"):
            raise InvalidInputError("per must be people or vehicles")
        table = self.breakdown(actor=actor, by="region", measure=measure, where=where)

        def rate(r: BreakdownRow) -> float | None:
            return r.per_100k_year if per == "people" else r.per_10k_vehicles_year

        ranked = sorted(
            (r for r in table.rows if rate(r) is not None), key=lambda r: -(rate(r) or 0.0)
        )
        left_out = [r.key for r in table.rows if rate(r) is None]
        basis = (
            "per 100,000 residents per year (population in force at the period's start)"
            if per == "people"
            else "per 10,000 registered vehicles per year (vehicles in force at the period's start)"
        )
        statement = f"Regions ranked by {_measure_words(measure)} {basis}"
        if left_out:
            what = "population" if per == "people" else "vehicle"
            statement += f"; without a {what} figure, not ranked: {', '.join(left_out)}"
        statement += ". Regions whose 95 % intervals overlap cannot be told apart by these data."
        return Breakdown(
            dimension="region",
            measure=measure,
            total=table.total,
            years=table.years,
            period=table.period,
            rows=ranked,
            statement=statement,
        )

    def trend(
        self, *, actor: Principal, measure: str = "accidents", where: Filter | None = None
    ) -> Trend:
        """Counts by year and their change per year (whole years only: a year the data only
        partly covers is left out, and said so)."""
        actor.require(Permission.ROADS_READ)
        if measure not in MEASURES:
            raise InvalidInputError(f"measure must be one of {', '.join(MEASURES)}")
        where = where or Filter()
        rows = self._rows(where)
        by_year: Counter[int] = Counter()
        months: dict[int, set[int]] = defaultdict(set)
        for month in self._covered(where):
            months[month.year].add(month.month)
        for row in rows:
            by_year[row.local.year] += _measure(row, measure)
        covered = sorted(months)
        whole = [y for y in covered if len(months[y]) == 12]
        partial = [y for y in covered if y not in whole]
        counts = [float(by_year[y]) for y in whole]
        change = change_interval = dispersion = None
        words = _measure_words(measure)
        fit = None
        if len(whole) >= 3 and sum(counts) > 0:
            try:
                fit = poisson_trend(whole, counts)
            except InvalidInputError:
                fit = None
        if fit is not None:
            slope, se, dispersion = fit
            # Quasi-Poisson: with the dispersion estimated from n − 2 residuals, Student's t.
            quantile = float(sps.t.ppf(0.975, len(whole) - 2)) if dispersion > 1 else 1.96
            change = math.exp(slope) - 1
            change_interval = Interval(
                low=math.exp(slope - quantile * se) - 1, high=math.exp(slope + quantile * se) - 1
            )
            if change_interval.low > 0:
                verdict = f"{words} rose by {change:+.1%} a year"
            elif change_interval.high < 0:
                verdict = f"{words} fell by {change:+.1%} a year"
            else:
                verdict = f"no change in {words} can be told from these years ({change:+.1%})"
            statement = (
                f"{verdict} (95 % interval {change_interval.low:+.1%} to "
                f"{change_interval.high:+.1%}, Poisson regression on {len(whole)} whole years)"
            )
        elif len(whole) >= 3 and sum(counts) > 0:
            statement = (
                f"no trend in {words} can be estimated from these years (too few, or all in "
                "one year)"
            )
        else:
            statement = f"a trend needs 3 or more whole years; the data have {len(whole)}"
        if partial:
            statement += f"; partly covered years left out: {', '.join(map(str, partial))}"
        return Trend(
            measure=measure,
            years=whole,
            counts=counts,
            intervals=[poisson_interval(c) for c in counts],
            change_per_year=change,
            change_interval=change_interval,
            dispersion=dispersion,
            statement=statement,
        )


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _rate(value: float, interval: Interval, exposure: float, per: float) -> tuple[float, Interval]:
    """A count and its interval per ``per`` units of ``exposure`` (people- or vehicle-years)."""
    scale = per / exposure
    return value * scale, Interval(low=interval.low * scale, high=interval.high * scale)


def _key(row: _Row, by: str) -> str:
    if by == "year":
        return str(row.local.year)
    if by == "month":
        return f"{row.local.month:02d}"
    if by == "weekday":
        return WEEKDAYS[row.local.weekday()]
    if by == "hour":
        return f"{row.local.hour:02d}"
    if by == "region":
        return row.region or "unknown"
    return str(getattr(row, by))


def _order(key: str, by: str) -> tuple[int, str]:
    if by == "weekday":
        return WEEKDAYS.index(key), key
    if by == "severity" and key in SEVERITIES:
        return SEVERITIES.index(key), key
    return 0, key


def _measure(row: _Row, measure: str) -> int:
    if measure == "killed":
        return row.killed
    if measure == "fatal_accidents":
        return 1 if row.severity == "fatal" else 0
    if measure == "casualties":
        return row.killed + row.injured
    return 1


def _measure_words(measure: str) -> str:
    return {
        "accidents": "accidents",
        "killed": "people killed",
        "fatal_accidents": "fatal accidents",
        "casualties": "people killed or injured",
    }[measure]


def _period(months: Sequence[date], where: Filter) -> tuple[date, date] | None:
    """The window the rates are per: the filter's, or the whole months the records cover."""
    if where.since and where.until:
        return where.since, where.until
    if not months:
        return None
    first, last = min(months), max(months)
    start = where.since or date(first.year, first.month, 1)
    end = where.until or (
        date(last.year + 1, 1, 1) if last.month == 12 else date(last.year, last.month + 1, 1)
    )
    return start, end
