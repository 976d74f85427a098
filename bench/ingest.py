"""Event ingestion through bus → store, beside the raw INSERT rate of the same database.

Prints events/s for: the raw DB-API ``executemany`` of the same rows (the ceiling), and
kupol's path (``bus.publish`` → EventRecorder → ``camera_events``), on SQLite and PostgreSQL,
with the in-process bus and with NATS JetStream. Target (issue 2): bus → store ≥ 50 % of the
raw rate and ≥ 20,000 events/s on SQLite with the in-process bus.

    .venv/bin/python bench/ingest.py [--events 50000] [--only sqlite-memory]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import create_engine, text

from kupol.bootstrap import build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.db import upgrade
from kupol.events.messages import CameraEventObserved
from kupol.settings import load_settings

PG_ADMIN = os.environ.get(
    "KUPOL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("KUPOL_TEST_NATS_URL", "nats://127.0.0.1:4222")
CHUNK = 500


def make_events(n: int) -> list[CameraEventObserved]:
    now = datetime.now(UTC)
    return [
        CameraEventObserved(
            camera_id="bench-cam",
            type="motion",
            occurred_at=now,
            confidence=0.5,
            zone="road",
            payload={"area": 0.0123, "box": [0.1, 0.2, 0.3, 0.4]},
        )
        for _ in range(n)
    ]


def fresh_database(kind: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite'}"
        upgrade(url)
        return url, lambda: None
    name = f"kupol_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def raw_insert_rate(url: str, events: list[CameraEventObserved]) -> float:
    """The ceiling: the driver's own executemany of the same rows, batches of CHUNK."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cameras (id, name, kind, latitude, longitude, zones, "
                "enabled, created_at, updated_at) VALUES ('bench-cam', 'b', 'fixed', "
                "0, 0, '[]', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    sqlite = url.startswith("sqlite")
    marker = "?" if sqlite else "%s"
    sql = (
        "INSERT INTO camera_events (id, camera_id, type, occurred_at, recorded_at, "
        f"confidence, zone, payload, evidence) VALUES ({', '.join([marker] * 9)})"
    )
    raw = engine.raw_connection()
    started = time.perf_counter()
    # Turning the events into rows is part of inserting them, so it is timed too.
    now = datetime.now(UTC)
    rows = [
        (
            (e.id.hex if sqlite else e.id),
            e.camera_id,
            e.type,
            e.occurred_at.isoformat(),
            now.isoformat(),
            e.confidence,
            e.zone,
            json.dumps(e.payload),
            "[]",
        )
        for e in events
    ]
    cursor = raw.cursor()
    for i in range(0, len(rows), CHUNK):
        cursor.executemany(sql, rows[i : i + CHUNK])
        raw.commit()
    elapsed = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return len(rows) / elapsed


async def bus_to_store_rate(
    url: str, bus: str, events: list[CameraEventObserved], workdir: Path
) -> float:
    overrides: dict[str, Any] = {"database": {"url": url}, "data_dir": workdir / "data"}
    if bus == "nats":
        stream = f"KB{uuid.uuid4().hex[:8].upper()}"
        overrides["bus"] = {
            "type": "nats",
            "nats_url": NATS_URL,
            "stream": stream,
            "subject_prefix": stream.lower(),
        }
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    container.cameras.register(
        camera=CameraCreate(id="bench-cam", name="bench", latitude=0, longitude=0), actor=SYSTEM
    )
    container.recorder.publish_recorded = True
    await container.start(with_sources=False)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), CHUNK):
            await container.bus.publish(*events[i : i + CHUNK])
        with container.db.reader() as session:
            while True:  # NATS: publish returns at PubAck; wait until all are stored
                count = session.execute(text("SELECT count(*) FROM camera_events")).scalar_one()
                session.rollback()
                if count >= len(events):
                    break
                await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        if bus == "nats":
            await container.bus.purge()  # type: ignore[attr-defined]
        await container.stop()
    return len(events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument(
        "--only", help="one of sqlite-memory, sqlite-nats, postgresql-memory, postgresql-nats"
    )
    args = parser.parse_args()
    combos = [
        ("sqlite", "memory"),
        ("sqlite", "nats"),
        ("postgresql", "memory"),
        ("postgresql", "nats"),
    ]
    print(f"ingest benchmark: {args.events} events, batches of {CHUNK}, {os.cpu_count()} cores")
    print(f"{'database':<11} {'bus':<7} {'raw INSERT/s':>13} {'bus→store/s':>12} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for database, bus in combos:
            if args.only and args.only != f"{database}-{bus}":
                continue
            url, drop = fresh_database(database, workdir)
            try:
                raw = raw_insert_rate(url, make_events(args.events))
            finally:
                drop()
            url, drop = fresh_database(database, workdir)
            try:
                # uvloop, as `kupol run` gets it from uvicorn.
                rate = uvloop.run(bus_to_store_rate(url, bus, make_events(args.events), workdir))
            finally:
                drop()
            print(
                f"{database:<11} {bus:<7} {raw:>13,.0f} {rate:>12,.0f} {rate / raw:>6.0%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
