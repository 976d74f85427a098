"""Plate sightings: ingest rate, and search/route latency over millions of sightings.

Builds a synthetic month of plate reads — ``--rows`` sightings (10 million by default) from
2,000 cameras in Kazakhstan's 20 regional centres, of ``0.3 × rows`` distinct vehicles with
Kazakh plates (``123ABC02``, ``123AB02``, a few 1993-format and scooter plates): 3 % of them
regulars who hold 40 % of the sightings (routes of dozens of points), the rest seen once or
twice, mostly in their home region. The bulk load is the database's fast path (``executemany``
in big transactions on SQLite, ``COPY`` on PostgreSQL, indexes built afterwards, then
``VACUUM ANALYZE`` on PostgreSQL as autovacuum would; SQLite is not analysed, as kupol never
runs ``ANALYZE``). The application's own ingest rate is then measured through
``PlateStore.record`` (batches of 500, the bus consumer's batch size; each read's hotlist check
and cloned-plate check included) on the full table.

Search latency is measured through ``PlateQueries`` as the API calls it, one query at a time,
**including the audit-log entry each search and route writes** (one committed transaction per
query, fsync'd on SQLite); the audit append alone is printed beside for scale. Each query kind
runs ``--queries`` times (plates that exist, 20 % that do not).
Target (plates issue 5): p95 ≤ 50 ms for every query kind at 10,000,000 sightings.

On PostgreSQL the table is partitioned by month (migration 0036, kupol.core.partitions): the
month's partitions are made before the load as ``kupol db history`` makes them in service.
``--copies 10`` (PostgreSQL only) copies the month nine times back in time inside the server:
ten months of the same density, 100 million rows, the same vehicles driving every month
(scale-out issue 13: search latency flat from 10 million to 100 million rows). ``--days``
spreads ``--rows`` over more days instead.

    .venv/bin/python bench/plate_sightings.py [--rows 10000000] [--days 30] [--queries 300]
        [--copies 1] [--only sqlite|postgresql] [--keep]    # --keep: reuse/keep the built databases
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from sqlalchemy import create_engine, insert, text

from kupol.bootstrap import Container, build_container
from kupol.cameras.model import Camera
from kupol.core.audit import Justification
from kupol.core.auth import Principal
from kupol.core.db import upgrade
from kupol.core.partitions import PARTITIONED, Interval, ensure, is_partitioned, partitions
from kupol.plates.formats import AREAS_1993
from kupol.plates.messages import PlateObserved
from kupol.plates.queries import Match, PlateFilter
from kupol.settings import load_settings

PG_ADMIN = os.environ.get(
    "KUPOL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "kupol_bench_plates_{rows}_{days}"
ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 50.0
CAMERAS = 2000
DAYS = 30
END = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 200_000
STORE_BATCH = 500
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
AREAS = "".join(AREAS_1993)
ALPHABET = LETTERS + "0123456789"
KNOWN_PLATES = (
    "INSERT INTO known_plates (plate, first_seen_at, last_seen_at)"
    " SELECT plate, min(seen_at), max(seen_at) FROM plate_sightings GROUP BY plate"
)
"""The directory of plates seen, as the store would have kept it for the rows loaded in bulk."""
WHY = Justification(purpose="benchmark of plate search", case_number="BENCH-5")

# Region code: (centre latitude, longitude, share of cameras and vehicles).
REGIONS: dict[str, tuple[float, float, float]] = {
    "01": (51.128, 71.430, 0.12), "02": (43.238, 76.946, 0.18), "03": (53.283, 69.397, 0.03),
    "04": (50.283, 57.167, 0.04), "05": (43.867, 77.067, 0.07), "06": (47.117, 51.883, 0.04),
    "07": (51.233, 51.367, 0.03), "08": (42.900, 71.367, 0.04), "09": (49.806, 73.085, 0.07),
    "10": (53.214, 63.624, 0.03), "11": (44.853, 65.509, 0.03), "12": (43.650, 51.150, 0.04),
    "13": (43.297, 68.251, 0.05), "14": (52.287, 76.967, 0.04), "15": (54.875, 69.150, 0.02),
    "16": (49.948, 82.628, 0.04), "17": (42.317, 69.597, 0.09), "18": (50.411, 80.227, 0.02),
    "19": (45.017, 78.383, 0.01), "20": (47.783, 67.767, 0.01),
}  # fmt: skip
CODES = list(REGIONS)
SHARES = np.array([v[2] for v in REGIONS.values()]) / sum(v[2] for v in REGIONS.values())
COLUMNS = (
    "id, message_id, camera_id, plate, kind, region, seen_at, confidence, direction, "
    "vehicle_class, vehicle_colour, track, crop_uri, crop_sha256"
)


@dataclass(frozen=True, kw_only=True)
class Figures:
    """One query kind's latency on one backend."""

    backend: str
    query: str
    count: int
    p50_ms: float
    p95_ms: float
    rows_avg: float


class Fleet:
    """Cameras, vehicles and a month of their sightings; the same seed gives the same month."""

    def __init__(self, rows: int, seed: int = 5, days: int = DAYS, copies: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.rows = rows
        self.days = days
        self.copies = copies
        self.span_days = days * copies
        """The history the table holds: ``copies`` periods of ``days`` (PostgreSQL)."""
        cities = rng.choice(len(CODES), CAMERAS, p=SHARES)
        cities.sort()
        self.camera_ids = [f"cam-{CODES[c]}-{i:04d}" for i, c in enumerate(cities)]
        centres = np.array([REGIONS[CODES[c]][:2] for c in cities])
        self.positions = centres + rng.normal(0, 0.05, (CAMERAS, 2))  # ≈ 5 km around
        self.city_start = np.searchsorted(cities, np.arange(len(CODES)))
        self.city_count = np.bincount(cities, minlength=len(CODES))
        self.plates, self.kinds, self.homes = self._vehicles(max(100, int(rows * 0.3)))
        self.plate_set = set(self.plates)
        vehicles = len(self.plates)
        regulars = max(1, vehicles * 3 // 100)
        weights = np.full(vehicles, 0.6 / (vehicles - regulars))
        weights[:regulars] = 0.4 / regulars
        self.weights = weights / weights.sum()
        self.regulars = regulars
        self.vehicle = rng.choice(vehicles, rows, p=self.weights).astype(np.int32)
        self.camera = self._cameras(self.vehicle)
        offsets = rng.integers(0, days * 86_400 * 10**6, rows, dtype=np.int64)
        offsets.sort()  # reads arrive in time order: ids follow time, as in service
        self.offset_us = offsets
        self.seen_count = np.bincount(self.vehicle, minlength=vehicles)

    def _vehicles(self, count: int) -> tuple[list[str], list[str], NDArray[np.int64]]:
        rng = self.rng
        draw = int(count * 1.05) + 10
        shape = rng.choice(4, draw, p=[0.86, 0.11, 0.02, 0.01])
        region = rng.choice(len(CODES), draw, p=SHARES)
        digits = rng.integers(0, 1000, draw)
        letters = rng.integers(0, 26, (draw, 3))
        found: dict[str, tuple[str, int]] = {}
        for i in range(draw):
            abc = "".join(LETTERS[x] for x in letters[i])
            if shape[i] == 0:
                plate, kind = f"{digits[i]:03d}{abc}{CODES[region[i]]}", "kz_individual"
            elif shape[i] == 1:
                plate, kind = f"{digits[i]:03d}{abc[:2]}{CODES[region[i]]}", "kz_organisation"
            elif shape[i] == 2:
                area = AREAS[letters[i][0] % len(AREAS)]  # a 1993 area letter
                plate, kind = f"{area}{digits[i]:03d}{abc[1:]}", "kz_1993"
            else:
                plate, kind = f"{abc[0]}{digits[i] * 10 + letters[i][1] % 10:04d}", "kz_scooter"
            found.setdefault(plate, (kind, int(region[i])))
            if len(found) == count:
                break
        homes = np.array([home for _, home in found.values()])
        # One vehicle in seven lives away from the region its plate was issued in.
        moved = rng.random(len(homes)) < 1 / 7
        homes[moved] = rng.choice(len(CODES), int(moved.sum()), p=SHARES)
        return list(found), [kind for kind, _ in found.values()], homes

    def _cameras(self, vehicles: NDArray[np.int32]) -> NDArray[np.int64]:
        """A camera of the vehicle's home region, or (one read in twelve) anywhere."""
        homes = self.homes[vehicles]
        local = self.city_start[homes] + (
            self.rng.random(len(vehicles)) * self.city_count[homes]
        ).astype(np.int64)
        away = self.rng.random(len(vehicles)) < 1 / 12
        local[away] = self.rng.integers(0, CAMERAS, int(away.sum()))
        return local

    def region(self, plate: str, kind: str) -> str | None:
        return plate[-2:] if kind in ("kz_individual", "kz_organisation") else None

    def chunks(self, postgres: bool) -> Iterator[list[tuple[Any, ...]]]:
        """The sightings as rows of COLUMNS, CHUNK at a time, oldest first."""
        start = (END - timedelta(days=self.days)).replace(tzinfo=None)
        suffix = "+00" if postgres else ""
        directions = ("in", "out", None)
        classes = ("car", "car", "car", "suv", "van", "truck", "bus")
        colours = ("white", "black", "silver", "grey", "red", "blue", None)
        rng = random.Random(7)
        for first in range(0, self.rows, CHUNK):
            rows = []
            for i in range(first, min(first + CHUNK, self.rows)):
                v, cam = int(self.vehicle[i]), self.camera_ids[self.camera[i]]
                message_id = str(uuid.UUID(int=(5 << 96) | i))
                seen = start + timedelta(microseconds=int(self.offset_us[i]))
                rows.append(
                    (
                        i + 1,
                        message_id,
                        cam,
                        self.plates[v],
                        self.kinds[v],
                        self.region(self.plates[v], self.kinds[v]),
                        seen.isoformat(sep=" ", timespec="microseconds") + suffix,
                        round(0.55 + 0.45 * rng.random(), 3),
                        directions[i % 3],
                        classes[v % 7],
                        colours[v % 7],
                        f"{cam}:{i}",
                        f"evidence/plates/{cam}/{message_id}.jpg",
                        hashlib.sha256(message_id.encode()).hexdigest(),
                    )
                )
            yield rows

    def new_reads(self, count: int) -> list[PlateObserved]:
        """Reads that arrive after the month: what the store is measured on."""
        vehicles = self.rng.choice(len(self.plates), count, p=self.weights).astype(np.int32)
        cameras = self._cameras(vehicles)
        return [
            PlateObserved(
                camera_id=self.camera_ids[c],
                plate=self.plates[v],
                seen_at=END + timedelta(seconds=i * 0.05),
                confidence=0.9,
                direction="in",
                vehicle_class="car",
                track=f"t{i}",
                crop_uri=f"evidence/plates/new/{i}.jpg",
                crop_sha256="0" * 64,
            )
            for i, (v, c) in enumerate(zip(vehicles.tolist(), cameras.tolist(), strict=True))
        ]

    def unknown_plate(self) -> str:
        while True:
            d, letters = self.rng.integers(0, 1000), self.rng.integers(0, 26, 3)
            code = CODES[int(self.rng.integers(0, len(CODES)))]
            plate = f"{d:03d}{''.join(LETTERS[x] for x in letters)}{code}"
            if plate not in self.plate_set:
                return plate

    def known_plate(self, *, regular: bool = False) -> str:
        """A plate that was seen (a regular's, or any sighting's)."""
        if regular:
            return self.plates[int(self.rng.integers(0, self.regulars))]
        return self.plates[int(self.vehicle[int(self.rng.integers(0, self.rows))])]


def sqlite_url(rows: int, days: int) -> str:
    return f"sqlite:///{ROOT / 'var' / 'bench' / f'plates-{rows}-{days}d.sqlite'}"


def pg_url(rows: int, days: int) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DATABASE.format(rows=rows, days=days)


def add_cameras(url: str, fleet: Fleet) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(Camera),
            [
                {
                    "id": cid,
                    "name": f"Camera {cid}",
                    "kind": "fixed",
                    "latitude": float(lat),
                    "longitude": float(lon),
                    "region_code": cid[4:6],
                    "zones": [],
                    "analytics": {},
                    "enabled": True,
                    "created_at": END - timedelta(days=365),
                    "updated_at": END - timedelta(days=365),
                }
                for cid, (lat, lon) in zip(fleet.camera_ids, fleet.positions, strict=True)
            ],
        )
    engine.dispose()


def load_sqlite(url: str, fleet: Fleet) -> None:
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='plate_sightings'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    insert = f"INSERT INTO plate_sightings ({COLUMNS}) VALUES ({', '.join('?' * 14)})"
    for rows in fleet.chunks(postgres=False):
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute(KNOWN_PLATES)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def partition(url: str, fleet: Fleet) -> int:
    """Monthly partitions (the product's default) covering the fleet's days; how many hold
    them. Made here, as `kupol db history` makes them ahead of the clock in service."""
    engine = create_engine(url)
    with engine.begin() as conn:
        spec = next(p for p in PARTITIONED if p.table == "plate_sightings")
        if not is_partitioned(conn, spec.table):
            return 0
        ensure(conn, spec, END - timedelta(days=fleet.span_days), END + timedelta(days=1),
               Interval.MONTH)  # fmt: skip
        count = sum(
            1
            for part in partitions(conn, spec.table)
            if part.since is not None
            and part.until is not None
            and part.until > END - timedelta(days=fleet.span_days)
            and part.since < END
        )
    engine.dispose()
    return count


def load_postgres(url: str, fleet: Fleet, *, loaded: bool = False) -> None:
    """COPY the period (unless ``loaded``: made from a kept database of it), then its copies
    back in time, then the indexes."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    held = partition(url, fleet)
    print(f"  {held} monthly partitions hold the {fleet.span_days} days", flush=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'plate_sightings'"
            " AND indexname LIKE 'ix_%'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        keys = []
        if fleet.copies > 1:  # built once at the end, not row by row
            keys = conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'plate_sightings'::regclass AND contype IN ('p', 'u')"
            ).fetchall()
            for name, _ in keys:
                conn.execute(f'ALTER TABLE plate_sightings DROP CONSTRAINT "{name}"')
        if not loaded:
            with conn.transaction():
                # Rows are made consistent; the FK trigger per row would only slow the load.
                conn.execute("SET LOCAL session_replication_role = replica")
                copy_in = f"COPY plate_sightings ({COLUMNS}) FROM STDIN"
                with conn.cursor() as cursor, cursor.copy(copy_in) as copy:
                    for rows in fleet.chunks(postgres=True):
                        for row in rows:
                            copy.write_row(row)
        # Past every id, the reads a kept database's earlier run stored included.
        top = conn.execute("SELECT max(id) FROM plate_sightings").fetchone()[0]  # type: ignore[index]
        for k in range(1, fleet.copies):
            # The same vehicles and cameras k periods earlier, copied in the server: a long
            # history without generating every row in Python.
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(
                    f"INSERT INTO plate_sightings ({COLUMNS}) SELECT id + {k * top},"
                    f" lpad(to_hex({k}), 8, '0') || substr(message_id, 9), camera_id, plate, kind,"
                    f" region, seen_at - interval '{k * fleet.days} days', confidence, direction,"
                    " vehicle_class, vehicle_colour, track, crop_uri, crop_sha256"
                    f" FROM plate_sightings WHERE id <= {fleet.rows}"
                )
            print(f"  copied {k}/{fleet.copies - 1} periods back", flush=True)
        for name, definition in keys:
            conn.execute(f'ALTER TABLE plate_sightings ADD CONSTRAINT "{name}" {definition}')
        for _, sql in indexes:
            # On a partitioned table pg_indexes says "ON ONLY": the parent's index alone, left
            # invalid, no partition indexed. Built on every partition instead.
            conn.execute(sql.replace(" ON ONLY ", " ON "))
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('plate_sightings', 'id'), "
            "(SELECT max(id) FROM plate_sightings))"
        )
        conn.execute("DELETE FROM known_plates")
        conn.execute(KNOWN_PLATES)
        conn.execute("VACUUM ANALYZE plate_sightings")
        conn.execute("VACUUM ANALYZE known_plates")


def prepare(backend: str, fleet: Fleet, keep: bool) -> tuple[str, float | None]:
    """A migrated database holding the fleet's month; the bulk load's rows/s (None: reused)."""
    if backend == "sqlite":
        url = sqlite_url(fleet.rows, fleet.days)
        path = Path(url.removeprefix("sqlite:///"))
        if keep and path.exists():
            upgrade(url)
            return url, None
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    else:
        url = pg_url(fleet.rows * fleet.copies, fleet.span_days)
        name = url.rsplit("/", 1)[1]
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if keep and exists:
                admin.dispose()
                upgrade(url)
                return url, None
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            base = PG_DATABASE.format(rows=fleet.rows, days=fleet.days)
            kept = (
                fleet.copies > 1
                and conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": base}
                ).first()
            )
            if kept:  # the period was built and kept (--keep) before: start from a copy of it
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base}"'))
                print(f"  made from {base}, kept by an earlier run", flush=True)
            else:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        started = time.perf_counter()
        upgrade(url)
        if not kept:
            add_cameras(url, fleet)
        load_postgres(url, fleet, loaded=bool(kept))
        return url, fleet.rows * fleet.copies / (time.perf_counter() - started)
    upgrade(url)
    add_cameras(url, fleet)
    started = time.perf_counter()
    load_sqlite(url, fleet)
    return url, fleet.rows / (time.perf_counter() - started)


def drop(backend: str, url: str) -> None:
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def store_rate(container: Container, fleet: Fleet, count: int) -> float:
    """Sightings/s through PlateStore.record, the application's one writer."""
    reads = fleet.new_reads(count)
    started = time.perf_counter()
    for i in range(0, len(reads), STORE_BATCH):
        stats = container.plate_store.record(reads[i : i + STORE_BATCH])
        assert stats.stored == len(reads[i : i + STORE_BATCH]), stats
    return count / (time.perf_counter() - started)


def one_off(plate: str, rng: random.Random) -> str:
    """The plate with one character replaced, dropped or added."""
    i = rng.randrange(len(plate))
    edit = rng.choice(("replace", "drop", "add"))
    if edit == "replace":
        return plate[:i] + rng.choice(ALPHABET.replace(plate[i], "")) + plate[i + 1 :]
    if edit == "drop":
        return plate[:i] + plate[i + 1 :]
    return plate[:i] + rng.choice(ALPHABET) + plate[i:]


def masked(plate: str, rng: random.Random) -> str:
    """Two characters a witness did not catch: ``12?AB?02``."""
    first, second = rng.sample(range(len(plate)), 2)
    chars = list(plate)
    chars[first] = chars[second] = "?"
    return "".join(chars)


Call = Callable[[Container, Principal], int]


def workload(fleet: Fleet, count: int) -> dict[str, list[Call]]:
    """Each query kind's calls: plates that exist, and one call in five for one that does not."""
    rng = random.Random(11)
    day = timedelta(days=1)
    month_start = END - fleet.span_days * day

    def plate(i: int, *, regular: bool = False) -> str:
        return fleet.unknown_plate() if i % 5 == 4 else fleet.known_plate(regular=regular)

    def search(**filters: Any) -> Call:
        return lambda c, actor: len(
            c.plates.search(filters=PlateFilter(**filters), actor=actor, why=WHY)
        )

    def route(
        wanted: str, since: datetime, until: datetime
    ) -> Callable[[Container, Principal], int]:
        return lambda c, actor: len(
            c.plates.route(plate=wanted, since=since, until=until, actor=actor, why=WHY).sightings
        )

    def window(span: timedelta) -> tuple[datetime, datetime]:
        since = month_start + timedelta(
            seconds=rng.uniform(0, (fleet.span_days * day - span).total_seconds())
        )
        return since, since + span

    kinds: dict[str, list[Call]] = {
        "exact plate": [search(plate=plate(i)) for i in range(count)],
        "wildcard 12?AB?02": [
            search(plate=masked(plate(i), rng), match=Match.WILDCARD) for i in range(count)
        ],
        "wildcard 123AB*": [
            search(plate=plate(i)[:5] + "*", match=Match.WILDCARD) for i in range(count)
        ],
        "wildcard *ABC02": [
            search(plate="*" + plate(i)[-5:], match=Match.WILDCARD) for i in range(count)
        ],
        "fuzzy (one character off)": [
            search(plate=one_off(plate(i), rng), match=Match.FUZZY) for i in range(count)
        ],
        "camera + time window": [],
        "route, 7 or 30 days": [],
    }
    for i in range(count):
        since, until = window(rng.choice((timedelta(hours=1), day)))
        camera = fleet.camera_ids[rng.randrange(CAMERAS)]
        kinds["camera + time window"].append(search(camera_id=camera, since=since, until=until))
        since, until = window(30 * day) if i % 2 else window(7 * day)
        kinds["route, 7 or 30 days"].append(route(plate(i, regular=i % 5 < 3), since, until))
    return kinds


def timed(calls: list[Callable[[], int]]) -> tuple[float, float, float]:
    times, rows = [], 0
    for call in calls[:10]:  # warm the connection pool and statement caches
        call()
    for call in calls:
        started = time.perf_counter()
        rows += call()
        times.append(time.perf_counter() - started)
    p50, p95 = np.percentile(np.asarray(times) * 1e3, [50, 95])
    return float(p50), float(p95), rows / len(calls)


def measure(backend: str, url: str, fleet: Fleet, args: argparse.Namespace) -> list[Figures]:
    overrides: dict[str, Any] = {"database": {"url": url}, "data_dir": ROOT / "var" / "bench"}
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    try:
        name = f"bench-{uuid.uuid4().hex[:6]}"
        actor, _ = container.auth.create_user(username=name, password=None, roles=["investigator"])
        rate = store_rate(container, fleet, args.store_rows)
        print(f"  PlateStore.record: {rate:,.0f} sightings/s ({args.store_rows:,} reads)")
        results = []
        for query, calls in workload(fleet, args.queries).items():
            p50, p95, rows = timed([partial(call, container, actor) for call in calls])
            results.append(
                Figures(backend=backend, query=query, count=len(calls), p50_ms=p50, p95_ms=p95,
                        rows_avg=rows)
            )  # fmt: skip
            met = "met" if p95 <= TARGET_P95_MS else "NOT met"
            print(
                f"  {query:<28} {len(calls):>5} {p50:>8.1f} {p95:>8.1f}"
                f"   ≤ {TARGET_P95_MS:g} {met:<8} {rows:>8.1f}",
                flush=True,
            )

        def audit_only() -> int:
            container.audit.access(actor=actor, why=WHY, action="search", resource_type="bench")
            return 0

        p50, p95, _ = timed([audit_only] * args.queries)
        print(f"  {'(the audit entry alone)':<28} {args.queries:>5} {p50:>8.1f} {p95:>8.1f}")
        stored = Figures(backend=backend, query="store sightings/s", count=args.store_rows,
                         p50_ms=0.0, p95_ms=0.0, rows_avg=rate)  # fmt: skip
        results.append(stored)
        return results
    finally:
        container.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="sightings in the month")
    parser.add_argument("--queries", type=int, default=300, help="calls per query kind")
    parser.add_argument(
        "--days", type=int, default=DAYS, help="days the sightings span (history grows in time)"
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="PostgreSQL: copy the period this many times back in time (100M rows: --copies 10)",
    )
    parser.add_argument("--store-rows", type=int, default=20_000, help="reads through PlateStore")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--keep", action="store_true", help="reuse and keep the databases")
    args = parser.parse_args()
    print(
        f"plate sightings benchmark: {args.rows * args.copies:,} sightings over"
        f" {args.days * args.copies} days, {CAMERAS:,}"
        f" cameras, {os.cpu_count()} cores; {args.queries} calls per query kind;"
        f" load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    started = time.perf_counter()
    fleet = Fleet(args.rows, days=args.days, copies=args.copies)
    print(
        f"fleet: {len(fleet.plates):,} vehicles ({int((fleet.seen_count > 0).sum()):,} seen),"
        f" {fleet.regulars:,} regulars seen {fleet.seen_count[: fleet.regulars].mean():.0f}"
        f" times on average; made in {time.perf_counter() - started:.0f} s"
    )
    results = []
    for backend in ("sqlite", "postgresql"):
        if args.only and args.only != backend:
            continue
        if backend == "sqlite" and args.copies > 1:
            print("sqlite: skipped (--copies copies inside PostgreSQL only)")
            continue
        started = time.perf_counter()
        url, load_rate = prepare(backend, fleet, args.keep)
        loaded = (
            f"bulk load {load_rate:,.0f} sightings/s, built in"
            f" {time.perf_counter() - started:.0f} s"
            if load_rate
            else "reused the database built before (--keep)"
        )
        print(f"\n{backend}: {loaded}")
        print(f"  {'query':<28} {'calls':>5} {'p50 ms':>8} {'p95 ms':>8}   target   {'rows':>8}")
        try:
            results += measure(backend, url, fleet, args)
        finally:
            if not args.keep:
                drop(backend, url)
    print(
        "\np50/p95 ms: one call at a time through PlateQueries, its audit-log entry included;"
        " rows: sightings returned per call (searches return the newest 100); load average now"
        f" {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(json.dumps({"bench": "plate_sightings", "rows": args.rows * args.copies,
                      "results": [asdict(r) for r in results]}))  # fmt: skip


if __name__ == "__main__":
    main()
