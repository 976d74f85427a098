"""Hotspots: Gi* as PySAL computes it, a planted cluster found and stable, nothing found in
noise more often than the false-discovery rate allows."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.roads.hotspots import Incident, find_hotspots, getis_ord_gi_star


def lattice() -> tuple[list[str], np.ndarray, list[list[int]]]:
    """127 resolution-8 cells around Astana, Poisson(1) weights and a planted cluster."""
    rng = np.random.default_rng(4)
    centre = h3.latlng_to_cell(51.128, 71.430, 8)
    cells = sorted(h3.grid_disk(centre, 6))
    index = {c: k for k, c in enumerate(cells)}
    weights = rng.poisson(1.0, len(cells)).astype(float)
    for cell in h3.grid_disk(h3.grid_disk(centre, 3)[5], 1):
        weights[index[cell]] += 6
    neighbours = [[index[n] for n in h3.grid_disk(c, 1) if n in index] for c in cells]
    return cells, weights, neighbours


def test_gi_star_matches_pysal() -> None:
    # Reference values: esda 2.9.0 (libpysal 4.14.1), G_Local(y, W(neighbours without the
    # cell itself), transform="B", star=True, permutations=0).Zs on this lattice.
    _, weights, neighbours = lattice()
    z, p = getis_ord_gi_star(weights, neighbours)
    expected_first = [0.21107995, -0.247161993, 0.669321894, 0.440200922, -0.247161993,
                      -0.705403937, -0.247161993, -0.514448755]  # fmt: skip
    assert z[:8] == pytest.approx(expected_first, abs=1e-8)
    assert int(np.argmax(z)) == 58 and z[58] == pytest.approx(9.146797852204626, abs=1e-9)
    assert p[58] == pytest.approx(2 * 2.932305976939104e-20, rel=1e-6)  # esda's is one-sided
    with pytest.raises(InvalidInputError):
        getis_ord_gi_star([1.0, 1.0, 1.0], [[0, 1], [0, 1, 2], [1, 2]])


def accidents_around(rng: np.random.Generator, n: int, cluster: int) -> list[Incident]:
    """``n`` accidents spread over a town, ``cluster`` more at one junction."""
    points = np.array([51.128, 71.430]) + rng.normal(0, 0.03, (n, 2))
    spot = np.array([51.150, 71.460]) + rng.normal(0, 0.0006, (cluster, 2))
    found = []
    for k, (lat, lon) in enumerate(np.vstack([points, spot])):
        severity = "serious" if rng.random() < 0.2 else "slight"
        found.append(Incident(id=k, cell=h3.latlng_to_cell(lat, lon, 12), severity=severity))
    return found


def test_a_black_spot_is_found_stable_and_lists_its_accidents() -> None:
    rng = np.random.default_rng(1)
    incidents = accidents_around(rng, 3000, 60)
    result = find_hotspots(incidents)
    top = result.hotspots[0]
    junction = h3.latlng_to_cell(51.150, 71.460, 9)
    assert junction in top.cells or any(junction in h3.grid_disk(c, 1) for c in top.cells)
    assert top.stability is not None and top.stability >= 0.9
    assert set(range(3000, 3060)) & set(top.accident_ids)  # the cluster's accidents are listed
    assert top.accidents == len(top.accident_ids)
    assert "Getis-Ord Gi*" in result.statement and "resolution 9" in result.statement


def test_pure_noise_yields_few_or_no_hotspots() -> None:
    # Accidents spread uniformly: any "hot" area is a false discovery.
    rng = np.random.default_rng(2)
    cells = []
    for k in range(4000):
        lat, lon = 51.0 + rng.random() * 0.2, 71.3 + rng.random() * 0.3
        cells.append(Incident(id=k, cell=h3.latlng_to_cell(lat, lon, 12), severity="slight"))
    result = find_hotspots(cells, stability_runs=0)
    hot_cells = sum(len(h.cells) for h in result.hotspots)
    assert hot_cells <= 0.05 * result.cells  # at most the false-discovery rate's share
