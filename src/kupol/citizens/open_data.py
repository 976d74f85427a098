"""Open data on citizens' reports: counts by region and kind, with nothing on any person.

For a period, each region (by plate code; ``None`` for reports with no known region) and the
whole country get, per kind of report and in total, the reports **received**, **confirmed**
(confirmed or found a duplicate: valid either way), **rejected** and **waiting** (submitted or
under appeal), the **rewards paid** in tenge, and the **confirmed share** of those decided.

Figures that could single someone out are withheld (a :class:`Cell` with ``value=None`` and
``suppressed=True``):

* *Small counts.* A count from 1 to ``min_count - 1`` (5 by default) is withheld; 0 is not.
* *Rewards.* A sum of rewards is published only when at least ``min_count`` rewards were paid
  into it (none paid: 0 is published).
* *Complementary suppression.* The table holds sums a reader can subtract: a region's kinds
  add up to its total, the regions add up to the country, and in every cell
  received = confirmed + rejected + waiting. Whenever exactly one figure of such a sum (its
  parts and its total) is withheld, the smallest published non-zero part is withheld too (the
  total when no part is left, then a zero part), and this repeats until no sum has exactly one
  figure withheld, so no single subtraction gives a withheld figure back.
* *The share* is published only when both confirmed and rejected are.

This stops subtraction within one sum, not bounds from solving all sums at once (what
statistical offices check with linear programming); with ``min_count`` 5 those stay wide.

Example:
    >>> fact = ReportFact(region="02", kind="fraud_call", status="confirmed",
    ...                   submitted_on=date(2026, 3, 2), reward_tenge=None)
    >>> start, end = period_bounds("2026-Q1")
    >>> stats = open_statistics([fact] * 7, start=start, end=end)
    >>> stats.country.total.confirmed, stats.country.total.rejected.value
    (Cell(value=7, suppressed=False), 0)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from kupol.core.errors import InvalidInputError
from kupol.plates.formats import REGIONS

KINDS = ("traffic_violation", "public_order", "lost_person", "suspicious_object", "fraud_call")
"""The kinds of report (as :data:`kupol.citizens.reports.KINDS`, kept here without the I/O)."""
MEASURES = ("received", "confirmed", "rejected", "waiting")
_MEASURE_OF_STATUS = {"submitted": 3, "appealed": 3, "confirmed": 1, "duplicate": 1, "rejected": 2}
STATUSES = tuple(_MEASURE_OF_STATUS)
_CELLS = (*MEASURES, "rewards_paid_tenge")
CSV_COLUMNS = ("start", "end", "region", "kind", *MEASURES, "confirmed_share",
               "rewards_paid_tenge", "suppressed")  # fmt: skip
ALL = "all"  # the CSV's name for a total: the country as a region, every kind as a kind
UNKNOWN = "unknown"  # the CSV's name for the region of reports with no known region

_PERIOD = re.compile(r"(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])|[Hh]([12])))?")
Sum = tuple[tuple[int, ...], list[tuple[int, ...]]]  # a total's index, its parts' indices


@dataclass(frozen=True, kw_only=True)
class ReportFact:
    """What open data may know of one report: no person, no place finer than the region."""

    region: str | None
    """The region's plate code (``"02"`` Almaty city), or ``None`` when not known."""
    kind: str
    status: str
    submitted_on: date
    reward_tenge: int | None = None
    """The reward paid for it, if any."""

    def __post_init__(self) -> None:
        if self.region is not None and self.region not in REGIONS:
            raise InvalidInputError(f"no region has the plate code {self.region!r}")
        if self.kind not in KINDS or self.status not in STATUSES:
            raise InvalidInputError(f"unknown report kind {self.kind!r} or status {self.status!r}")
        if self.reward_tenge is not None and self.reward_tenge < 0:
            raise InvalidInputError("a reward cannot be negative")


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One published figure, or ``value=None`` with ``suppressed=True`` where withheld."""

    value: int | None
    suppressed: bool = False


@dataclass(frozen=True, kw_only=True)
class Figures:
    """The figures of one kind of report (or of all kinds) in one region (or the country)."""

    received: Cell
    confirmed: Cell
    rejected: Cell
    waiting: Cell
    rewards_paid_tenge: Cell

    @property
    def confirmed_share(self) -> float | None:
        """Confirmed out of confirmed and rejected; ``None`` if none was decided, or withheld."""
        confirmed, rejected = self.confirmed.value, self.rejected.value
        if confirmed is None or rejected is None or confirmed + rejected == 0:
            return None
        return confirmed / (confirmed + rejected)


@dataclass(frozen=True, kw_only=True)
class Breakdown:
    """Figures by kind of report and for all kinds together."""

    kinds: dict[str, Figures]
    total: Figures


@dataclass(frozen=True, kw_only=True)
class RegionRow(Breakdown):
    """One region's figures."""

    region: str | None
    """The plate code; ``None`` for reports with no known region."""


@dataclass(frozen=True, kw_only=True)
class OpenStatistics:
    """The published figures of a period, from ``start`` to ``end`` (exclusive)."""

    start: date
    end: date
    min_count: int
    regions: tuple[RegionRow, ...]
    """Regions with reports in the period, by plate code, the unknown region last."""
    country: Breakdown


def period_bounds(period: str) -> tuple[date, date]:
    """The first day of ``period`` and the first day after it.

    ``period`` is a year (``2026``), a month (``2026-03``), a quarter (``2026-Q1``) or a half
    year (``2026-H1``).

    Raises:
        InvalidInputError: ``period`` is none of these.

    Example:
        >>> period_bounds("2026-Q4")
        (datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))
    """
    found = _PERIOD.fullmatch(period.strip())
    if found is None:
        raise InvalidInputError(f"{period!r} is not a year, month, quarter or half year")
    year, month, quarter, half = found.groups()
    first, months = 1, 12
    if month is not None:
        first, months = int(month), 1
    elif quarter is not None:
        first, months = 3 * int(quarter) - 2, 3
    elif half is not None:
        first, months = 6 * int(half) - 5, 6
    following = first + months - 1  # months since January of ``year``, 0-based
    try:
        return date(int(year), first, 1), date(int(year) + following // 12, following % 12 + 1, 1)
    except ValueError as exc:
        raise InvalidInputError(f"{period!r} is not a year, month, quarter or half year") from exc


def open_statistics(
    facts: Iterable[ReportFact], *, start: date, end: date, min_count: int = 5
) -> OpenStatistics:
    """The open figures of the reports submitted from ``start`` to ``end`` (exclusive),
    with small counts withheld as the module describes.

    Raises:
        InvalidInputError: The period is empty or ``min_count`` is below 1.
    """
    if end <= start:
        raise InvalidInputError("a period must end after it starts")
    if min_count < 1:
        raise InvalidInputError("the smallest published count must be at least 1")
    chosen = [f for f in facts if start <= f.submitted_on < end]
    regions = sorted({f.region for f in chosen}, key=lambda r: (r is None, r or ""))
    row = {region: i for i, region in enumerate(regions)}
    n, k = len(regions), len(KINDS)
    counts = np.zeros((len(MEASURES), n + 1, k + 1), dtype=np.int64)
    paid, tenge = np.zeros((2, n + 1, k + 1), dtype=np.int64)  # rewards: how many, how much
    for fact in chosen:
        r, c = row[fact.region], KINDS.index(fact.kind)
        counts[0, r, c] += 1
        counts[_MEASURE_OF_STATUS[fact.status], r, c] += 1
        if fact.reward_tenge:
            paid[r, c] += 1
            tenge[r, c] += fact.reward_tenge
    for table in (counts, paid, tenge):
        table[..., :n, k] = table[..., :n, :k].sum(axis=-1)
        table[..., n, :] = table[..., :n, :].sum(axis=-2)
    counts_hidden = (counts >= 1) & (counts < min_count)
    _protect(counts, counts_hidden, [*_margins(counts.shape), *_measure_sums(n, k)])
    tenge_hidden = (paid >= 1) & (paid < min_count)
    _protect(tenge, tenge_hidden, _margins(tenge.shape))
    published = _Published(counts=counts, counts_hidden=counts_hidden, tenge=tenge,
                           tenge_hidden=tenge_hidden)  # fmt: skip
    return OpenStatistics(
        start=start,
        end=end,
        min_count=min_count,
        regions=tuple(
            RegionRow(region=region, kinds=published.kinds(r), total=published.figures(r, k))
            for r, region in enumerate(regions)
        ),
        country=Breakdown(kinds=published.kinds(n), total=published.figures(n, k)),
    )


def to_csv(stats: OpenStatistics) -> str:
    """The figures as CSV for download: a header, then a row per region and kind (``all`` for
    the totals, ``unknown`` for no known region); withheld figures are empty and named in the
    ``suppressed`` column (separated by ``;``).

    Example:
        >>> start, end = period_bounds("2026")
        >>> to_csv(open_statistics([], start=start, end=end)).splitlines()[1]
        '2026-01-01,2027-01-01,all,traffic_violation,0,0,0,0,,0,'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    labelled = [(UNKNOWN if r.region is None else r.region, r) for r in stats.regions]
    for region, breakdown in [*labelled, (ALL, stats.country)]:
        for kind, figures in [*breakdown.kinds.items(), (ALL, breakdown.total)]:
            cells: dict[str, Cell] = {m: getattr(figures, m) for m in _CELLS}
            shown = {m: "" if cell.value is None else str(cell.value) for m, cell in cells.items()}
            share = "" if figures.confirmed_share is None else f"{figures.confirmed_share:.4f}"
            withheld = ";".join(m for m, cell in cells.items() if cell.suppressed)
            row = [*(shown[m] for m in MEASURES), share, shown["rewards_paid_tenge"], withheld]
            writer.writerow([stats.start.isoformat(), stats.end.isoformat(), region, kind, *row])
    return out.getvalue()


@dataclass(frozen=True, kw_only=True, eq=False)
class _Published:
    """The figures (measure × region × kind; rewards region × kind) and which are withheld."""

    counts: npt.NDArray[np.int64]
    counts_hidden: npt.NDArray[np.bool_]
    tenge: npt.NDArray[np.int64]
    tenge_hidden: npt.NDArray[np.bool_]

    def figures(self, r: int, c: int) -> Figures:
        hidden, counts = self.counts_hidden, self.counts
        received, confirmed, rejected, waiting = (
            _cell(int(counts[m, r, c]), bool(hidden[m, r, c])) for m in range(len(MEASURES))
        )
        rewards = _cell(int(self.tenge[r, c]), bool(self.tenge_hidden[r, c]))
        return Figures(received=received, confirmed=confirmed, rejected=rejected, waiting=waiting,
                       rewards_paid_tenge=rewards)  # fmt: skip

    def kinds(self, r: int) -> dict[str, Figures]:
        return {kind: self.figures(r, c) for c, kind in enumerate(KINDS)}


def _cell(value: int, hidden: bool) -> Cell:
    return Cell(value=None, suppressed=True) if hidden else Cell(value=value)


def _margins(shape: tuple[int, ...]) -> list[Sum]:
    """Every sum along the last two axes (kinds into the total, regions into the country)."""
    *outer, rows, columns = shape
    sums: list[Sum] = []
    for lead in np.ndindex(*outer):
        for r in range(rows):
            sums.append(((*lead, r, columns - 1), [(*lead, r, c) for c in range(columns - 1)]))
        for c in range(columns):
            sums.append(((*lead, rows - 1, c), [(*lead, r, c) for r in range(rows - 1)]))
    return sums


def _measure_sums(n: int, k: int) -> list[Sum]:
    """received = confirmed + rejected + waiting, in every region (and the country) and kind."""
    return [((0, r, c), [(m, r, c) for m in (1, 2, 3)]) for r in range(n + 1) for c in range(k + 1)]


def _protect(values: npt.NDArray[np.int64], hidden: npt.NDArray[np.bool_], sums: list[Sum]) -> None:
    """Withholds more figures (in ``hidden``) until no sum has exactly one withheld."""
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            if sum(bool(hidden[i]) for i in (total, *parts)) != 1:
                continue
            shown = [i for i in parts if not hidden[i]]
            nonzero = sorted((i for i in shown if values[i] > 0), key=lambda i: int(values[i]))
            zero = [i for i in shown if values[i] == 0]
            choice = [*nonzero, *([] if hidden[total] else [total]), *zero][0]
            hidden[choice] = True
            changed = True
