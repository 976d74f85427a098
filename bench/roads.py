"""Road safety: the hotspot analysis on 1,000,000 synthetic accidents (target ≤ 30 s on this
machine), and accident imports in rows per second (read, check, store) on SQLite and
PostgreSQL.

The accidents are kupol's synthetic Kazakhstan year (kupol.roads.synthetic) — towns, highways
and black spots around the 20 regional centres — generated once, then analysed by
``find_hotspots`` as the API runs it: H3 resolution 9, 1-ring Gi*, Benjamini-Hochberg, and
the 20 stability re-runs (each one a whole Gi* over 95 % of the records).

    .venv/bin/python bench/roads.py [--accidents 1000000] [--import-rows 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kupol.core.auth.service import SYSTEM
from kupol.roads.hotspots import Incident, find_hotspots
from kupol.roads.importer import parse
from kupol.roads.mapping import load_mapping
from kupol.roads.regions import load_regions
from kupol.roads.synthetic import synthetic_year

TARGET_S = 30.0


def incidents_from(data: bytes) -> list[Incident]:
    """The generated rows as the hotspot analysis takes them (read through the mapping)."""
    parsed = parse(data, load_mapping("kz-synthetic"))
    return [
        Incident(id=n, cell=r.h3_cell or "", severity=r.severity, killed=r.killed,
                 injured=r.injured)
        for n, r in enumerate(parsed.rows)
    ]  # fmt: skip


def import_rate(data: bytes, url: str, rows: int) -> float:
    """Rows per second through ``AccidentRegistry.import_file`` (parse, check, store)."""
    from kupol.core.audit import AuditLog
    from kupol.core.db import Database, upgrade
    from kupol.roads.registry import AccidentRegistry

    upgrade(url)
    db = Database.from_url(url)
    registry = AccidentRegistry(db=db, audit=AuditLog(db))
    head = data[: _cut(data, rows)]
    start = time.perf_counter()
    summary = registry.import_file(
        data=head, file_name="bench.csv", mapping=load_mapping("kz-synthetic"), actor=SYSTEM
    )
    elapsed = time.perf_counter() - start
    db.dispose()
    return summary.imported / elapsed


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server`` for the run, dropped after."""

    from sqlalchemy import create_engine, text

    name = "kupol_bench_roads"
    admin = create_engine(server + "postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        raise OSError(f"cannot make a scratch database: {exc}") from None
    try:
        yield server + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _cut(data: bytes, rows: int) -> int:
    """The byte offset after ``rows`` data rows (the generator quotes no newlines)."""
    offset = 0
    for n, line in enumerate(data.split(b"\n")):
        if n > rows:
            break
        offset += len(line) + 1
    return offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accidents", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/",
        help="A PostgreSQL server; the benchmark makes and drops its own database there.",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    data = synthetic_year(load_regions(), accidents=args.accidents, seed=7)
    incidents = incidents_from(data)
    print(f"{len(incidents):,} synthetic accidents generated and read in "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    start = time.perf_counter()
    result = find_hotspots(incidents, stability_runs=0)
    once = time.perf_counter() - start
    print(f"hotspots, one Gi* pass: {once:.1f} s ({result.cells:,} cells, "
          f"{len(result.hotspots)} hot areas)")  # fmt: skip
    start = time.perf_counter()
    result = find_hotspots(incidents)
    full = time.perf_counter() - start
    verdict = "met" if full <= TARGET_S else "NOT met"
    print(f"hotspots with 20 stability re-runs (as the API): {full:.1f} s "
          f"(target <= {TARGET_S:.0f} s: {verdict})")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        print(f"import, SQLite: {import_rate(data, sqlite, args.import_rows):,.0f} rows/s "
              f"({args.import_rows:,} rows)")  # fmt: skip
    try:
        with scratch_database(args.postgres) as url:
            rate = import_rate(data, url, args.import_rows)
        print(f"import, PostgreSQL: {rate:,.0f} rows/s ({args.import_rows:,} rows)")
    except OSError as exc:
        print(f"import, PostgreSQL: not measured ({exc})")


if __name__ == "__main__":
    main()
