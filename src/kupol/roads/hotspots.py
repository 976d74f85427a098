"""Accident hotspots on an H3 grid: the Getis-Ord Gi* statistic of severity-weighted counts,
significance corrected for testing every cell (Benjamini-Hochberg), contiguous hot cells
joined into areas, and how stable each area is when a few records change.

The study area is every cell with an accident and its neighbours (``ring``), the empty ones
counting as zero: a cell is hot when it and its neighbours together hold far more weight than
the area's mean would give them. Gi* follows Getis & Ord (1992) / Ord & Getis (1995) with
binary weights that include the cell itself — the form PySAL's ``esda.G_Local(star=True)``
computes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import h3
import numpy as np
from scipy import stats as sps  # type: ignore[import-untyped]

from kupol.core.errors import InvalidInputError
from kupol.roads.vocabulary import SEVERITY_WEIGHTS


@dataclass(frozen=True, kw_only=True)
class Incident:
    """What the analysis needs of one accident."""

    id: int
    cell: str
    """Its finest H3 cell (any resolution at least the analysis's)."""
    severity: str
    killed: int = 0
    injured: int = 0


@dataclass(frozen=True, kw_only=True)
class CellResult:
    """One cell of the study area."""

    cell: str
    weight: float
    accidents: int
    z: float
    p: float
    q: float
    """The p-value adjusted for testing every cell (Benjamini-Hochberg)."""


@dataclass(frozen=True, kw_only=True)
class Hotspot:
    """Contiguous hot cells, with their accidents."""

    rank: int
    cells: list[str]
    centre: tuple[float, float]
    weight: float
    accidents: int
    killed: int
    injured: int
    max_z: float
    min_q: float
    stability: float | None
    """Share of re-runs with a few records dropped in which the area stayed hot."""
    accident_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class HotspotResult:
    """The analysis and how it was made."""

    resolution: int
    ring: int
    alpha: float
    cells: int
    accidents: int
    hotspots: list[Hotspot]
    statement: str


def getis_ord_gi_star(
    weights: Sequence[float], neighbours: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values of ``weights`` over cells whose neighbour lists
    (including the cell itself) are ``neighbours``, binary weights.

    Raises:
        InvalidInputError: fewer than 3 cells, or every cell has the same value.
    """
    width = max(len(nb) for nb in neighbours)
    table = np.full((len(neighbours), width), len(neighbours), dtype=np.int64)
    for k, nb in enumerate(neighbours):
        table[k, : len(nb)] = nb
    return gi_star_on_table(np.asarray(weights, float), table)


def gi_star_on_table(x: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gi* over a neighbour table: row k lists cell k's neighbours (itself included), padded
    with ``len(x)`` (a slot that holds nothing)."""
    n = len(x)
    if n < 3:
        raise InvalidInputError("hotspots need 3 or more cells")
    mean = x.mean()
    s = math.sqrt(max(float((x**2).mean() - mean**2), 0.0))
    if s == 0:
        raise InvalidInputError("every cell has the same weight: no cell stands out")
    padded = np.append(x, 0.0)
    sums = padded[table].sum(axis=1)
    counts = (table < n).sum(axis=1).astype(float)
    denominator = s * np.sqrt((n * counts - counts**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denominator > 0, (sums - mean * counts) / denominator, 0.0)
    p = 2 * sps.norm.sf(np.abs(z))
    return z, p


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """False-discovery-rate adjusted p-values (q-values).

    Example:
        >>> [round(float(q), 3) for q in benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))]
        [0.04, 0.053, 0.053, 0.5]
    """
    n = len(p)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(ranked, 1.0)
    return q


def find_hotspots(
    incidents: Sequence[Incident],
    *,
    resolution: int = 9,
    ring: int = 1,
    alpha: float = 0.05,
    severity_weights: Mapping[str, float] | None = None,
    stability_runs: int = 20,
    drop_share: float = 0.05,
    seed: int = 2026,
) -> HotspotResult:
    """Hot areas of ``incidents`` (see the module's doc), most weight first."""
    if not 5 <= resolution <= 12:
        raise InvalidInputError("resolution is 5 (about 250 km²) to 12 (about 300 m²)")
    if not 1 <= ring <= 3:
        raise InvalidInputError("ring is 1 to 3 cells")
    if not 0 < alpha < 0.5:
        raise InvalidInputError("alpha is between 0 and 0.5")
    table = dict(SEVERITY_WEIGHTS if severity_weights is None else severity_weights)
    located = [i for i in incidents if i.cell]
    cells_of = [h3.cell_to_parent(i.cell, resolution) for i in located]
    weight = np.fromiter((table.get(i.severity, 1.0) for i in located), float, len(located))
    grid = _Grid.build(cells_of, ring)
    hot, results = grid.hot(weight, None, alpha)
    index = {c: k for k, c in enumerate(grid.cells)}
    members: dict[str, list[int]] = defaultdict(list)
    for k, cell in enumerate(cells_of):
        if cell in hot:
            members[cell].append(k)
    areas = _areas(sorted(hot), ring=ring)
    stability = _stability(
        grid, weight, areas, alpha=alpha, runs=stability_runs, drop_share=drop_share,
        seed=seed,
    )  # fmt: skip
    spots = []
    for area, stable in zip(areas, stability, strict=True):
        rows = [k for c in area for k in members.get(c, [])]
        centre = _centre(area)
        spots.append(
            Hotspot(
                rank=0,
                cells=area,
                centre=centre,
                weight=float(sum(weight[k] for k in rows)),
                accidents=len(rows),
                killed=sum(located[k].killed for k in rows),
                injured=sum(located[k].injured for k in rows),
                max_z=max(results[index[c]].z for c in area),
                min_q=min(results[index[c]].q for c in area),
                stability=stable,
                accident_ids=sorted(located[k].id for k in rows),
            )
        )
    spots.sort(key=lambda s: (-s.weight, -s.max_z))
    ranked = [Hotspot(**{**s.__dict__, "rank": r}) for r, s in enumerate(spots, start=1)]
    area_km2 = h3.average_hexagon_area(resolution, "km^2")
    statement = (
        f"Getis-Ord Gi* of severity-weighted accidents (weights {_weights_text(table)}) on H3 "
        f"cells of resolution {resolution} (about {area_km2:.3g} km² each) with their "
        f"{ring}-ring neighbours; a cell is hot at false-discovery rate {alpha:g} "
        f"(Benjamini-Hochberg over {len(results)} cells); neighbouring hot cells form one "
        f"area. Stability: the share of {stability_runs} re-runs, each without a random "
        f"{drop_share:.0%} of the accidents, in which the area kept a hot cell."
    )
    return HotspotResult(
        resolution=resolution,
        ring=ring,
        alpha=alpha,
        cells=len(results),
        accidents=len(located),
        hotspots=ranked,
        statement=statement,
    )


@dataclass(frozen=True)
class _Grid:
    """The study area, built once: its cells, each accident's cell, the neighbour table."""

    cells: list[str]
    of_accident: np.ndarray
    table: np.ndarray

    @classmethod
    def build(cls, cells_of: Sequence[str], ring: int) -> _Grid:
        area = set(cells_of)
        for cell in list(area):
            area.update(h3.grid_disk(cell, ring))
        ordered = sorted(area)
        index = {c: k for k, c in enumerate(ordered)}
        width = 3 * ring * (ring + 1) + 1
        table = np.full((len(ordered), width), len(ordered), dtype=np.int64)
        for k, cell in enumerate(ordered):
            near = [index[c] for c in h3.grid_disk(cell, ring) if c in index]
            table[k, : len(near)] = near
        of_accident = np.fromiter((index[c] for c in cells_of), np.int64, len(cells_of))
        return cls(cells=ordered, of_accident=of_accident, table=table)

    def hot(
        self, weight: np.ndarray, keep: np.ndarray | None, alpha: float
    ) -> tuple[set[str], list[CellResult]]:
        """The hot cells for these accidents' weights (``keep``: the accidents counted)."""
        n = len(self.cells)
        where = self.of_accident if keep is None else self.of_accident[keep]
        weights = weight if keep is None else weight[keep]
        totals = np.bincount(where, weights=weights, minlength=n)
        counts = np.bincount(where, minlength=n)
        z, p = gi_star_on_table(totals, self.table)
        q = benjamini_hochberg(p)
        hot_mask = (z > 0) & (q <= alpha) & (counts > 0)
        hot = {self.cells[k] for k in np.flatnonzero(hot_mask)}
        if keep is not None:
            return hot, []
        results = [
            CellResult(cell=c, weight=float(totals[k]), accidents=int(counts[k]),
                       z=float(z[k]), p=float(p[k]), q=float(q[k]))
            for k, c in enumerate(self.cells)
        ]  # fmt: skip
        return hot, results


def _areas(hot: Sequence[str], *, ring: int) -> list[list[str]]:
    """Hot cells joined when they touch (within one cell of each other)."""
    left, areas = set(hot), []
    for start in hot:
        if start not in left:
            continue
        left.discard(start)
        area, frontier = [start], [start]
        while frontier:
            cell = frontier.pop()
            for n in h3.grid_disk(cell, 1):
                if n in left:
                    left.discard(n)
                    area.append(n)
                    frontier.append(n)
        areas.append(sorted(area))
    return areas


def _stability(
    grid: _Grid,
    weight: np.ndarray,
    areas: Sequence[Sequence[str]],
    *,
    alpha: float,
    runs: int,
    drop_share: float,
    seed: int,
) -> list[float | None]:
    """For each area, the share of re-runs without a random ``drop_share`` of the accidents
    (the same study area) in which it kept a hot cell."""
    if runs <= 0 or not areas:
        return [None] * len(areas)
    rng = np.random.default_rng(seed)
    kept = [0] * len(areas)
    for _ in range(runs):
        keep = rng.random(len(weight)) >= drop_share
        try:
            hot, _ = grid.hot(weight, keep, alpha)
        except InvalidInputError:
            continue
        for a, area in enumerate(areas):
            kept[a] += any(c in hot for c in area)
    return [k / runs for k in kept]


def _centre(cells: Sequence[str]) -> tuple[float, float]:
    points = [h3.cell_to_latlng(c) for c in cells]
    return (
        round(sum(p[0] for p in points) / len(points), 6),
        round(sum(p[1] for p in points) / len(points), 6),
    )


def _weights_text(table: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in table.items())


def cell_boundary(cell: str) -> list[tuple[float, float]]:
    """The cell's corners as (lat, lon), for drawing."""
    return [(round(a, 6), round(b, 6)) for a, b in h3.cell_to_boundary(cell)]
