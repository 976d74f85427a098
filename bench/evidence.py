"""The evidence vault: ingest MB/s with hashing beside ``sha256sum`` of the same files (the
ceiling; target ≥ 70 % of it), and ``verify`` time for a custody log of a million entries
(target ≤ 10 s).

    .venv/bin/python bench/evidence.py [--megabytes 512] [--entries 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from kupol.core.db import Database, upgrade
from kupol.evidence.custody import GENESIS, entry_hash, verify
from kupol.evidence.model import CustodyEntry, EvidenceItem
from kupol.evidence.store import ContentStore


def ingest_rate(folder: Path, megabytes: int) -> None:
    files = []
    for i in range(8):
        path = folder / f"clip-{i}.bin"
        with path.open("wb") as out:
            for _ in range(megabytes // 8):
                out.write(os.urandom(1024 * 1024))
        files.append(path)
    total = sum(p.stat().st_size for p in files) / 2**20
    os.sync()  # the test files reach the disk first: their write-back must not slow the runs
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)  # warm
    start = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    ceiling = total / (time.perf_counter() - start)
    store = ContentStore(folder / "vault")
    start = time.perf_counter()
    for path in files:
        with path.open("rb") as stream:
            store.put(stream)
    rate = total / (time.perf_counter() - start)
    print(f"ingest: {total:.0f} MB in 8 files: sha256sum {ceiling:.0f} MB/s, vault {rate:.0f} MB/s "
          f"= {rate / ceiling:.0%} of the ceiling (target >= 70%)")  # fmt: skip


def verify_time(folder: Path, entries: int) -> None:
    url = f"sqlite:///{folder / 'vault.sqlite'}"
    upgrade(url)
    db = Database.from_url(url)
    items = max(1, entries // 100)
    at = datetime(2026, 12, 3, tzinfo=UTC)
    digest = hashlib.sha256(b"x").hexdigest()
    store = ContentStore(folder / "vault-verify")
    store.put(io.BytesIO(b"x"))
    with db.unit_of_work() as session:
        session.execute(
            insert(EvidenceItem),
            [
                {
                    "id": i + 1,
                    "sha256": digest,
                    "size": 1,
                    "media_type": "video/mp4",
                    "filename": "x.mp4",
                    "category": "bodycam",
                    "ingested_by": "bench",
                    "ingested_at": at,
                    "on_hold": False,
                    "gps": [],
                }
                for i in range(items)
            ],
        )
        rows = []
        for item in range(1, items + 1):
            prev = GENESIS
            for seq in range(1, entries // items + 1):
                action = "ingest" if seq == 1 else "view"
                details = {"sha256": digest, "size": 1} if seq == 1 else {"what": "file"}
                when = at + timedelta(seconds=seq)
                h = entry_hash(item_id=item, seq=seq, at=when, actor="bench", action=action,
                               details=details, prev_hash=prev)  # fmt: skip
                rows.append({"item_id": item, "seq": seq, "at": when, "actor": "bench",
                             "action": action, "details": details, "prev_hash": prev,
                             "hash": h})  # fmt: skip
                prev = h
            if len(rows) >= 50_000:
                session.execute(insert(CustodyEntry), rows)
                rows = []
        if rows:
            session.execute(insert(CustodyEntry), rows)
    workers = os.cpu_count() or 1
    for processes in sorted({1, workers}):
        start = time.perf_counter()
        with db.reader() as session:
            report = verify(session, store, workers=processes, url=url)
        elapsed = time.perf_counter() - start
        assert report.ok, report.problems[:3]
        print(f"verify: {report.entries:,} custody entries of {report.items:,} items in "
              f"{elapsed:.1f} s with {processes} process(es) (target <= 10 s)")  # fmt: skip
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=512)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ingest_rate(Path(tmp), args.megabytes)
    with tempfile.TemporaryDirectory() as tmp:
        verify_time(Path(tmp), args.entries)


if __name__ == "__main__":
    main()
