"""Fault: kill a vision worker mid-stream — how long until its cameras run on another?

Two ``kupol worker`` processes share a fresh PostgreSQL database with N cameras playing a
synthetic clip; once each holds its share (the lease table), one is killed with SIGKILL (no
clean hand-over) and the time until the survivor holds every camera is measured — the issue's
target is 10 s. Then a third worker joins and the time until it holds its share is measured
(rebalancing). Prints the figures; loopback only.

    .venv/bin/python bench/fault_worker_kill.py [--cameras 4] [--ttl 6]

Needs PostgreSQL at 127.0.0.1:5432 (trust), as on this machine.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME = "kupol_bench_workers"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}"


def fresh_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")


def holders() -> dict[str, str]:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{NAME}") as conn:
        rows = conn.execute("SELECT camera_id, worker FROM camera_leases WHERE expires_at > now()")
        return {camera: worker for camera, worker in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--ttl", type=float, default=6.0)
    args = parser.parse_args()
    fresh_database()
    root = Path(tempfile.mkdtemp(prefix="kupol-workers-"))
    env = {**os.environ, "KUPOL_DATABASE__URL": URL, "KUPOL_DATA_DIR": str(root / "data"),
           "KUPOL_VISION__LEASE_TTL_S": str(args.ttl)}  # fmt: skip
    kupol = [sys.executable, "-m", "kupol"]
    subprocess.run([*kupol, "db", "upgrade"], env=env, check=True, capture_output=True)
    from kupol.vision.synthetic import write_synthetic_video

    clip = write_synthetic_video(root / "clip.mp4")
    for n in range(args.cameras):
        subprocess.run([*kupol, "cameras", "add", f"bench-{n:02d}", "--name", f"Bench {n}",
                        "--latitude", "51.12", "--longitude", "71.43", "--stream-url", str(clip)],
                       env=env, check=True, capture_output=True)  # fmt: skip
    logs = {w: (root / f"{w}.log").open("w") for w in ("w1", "w2", "w3")}

    def start(worker: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*kupol, "worker", "--worker-id", worker], env=env,
                                stdout=logs[worker], stderr=subprocess.STDOUT)  # fmt: skip

    workers = {"w1": start("w1"), "w2": start("w2")}
    share = math.ceil(args.cameras / 2)
    began = time.monotonic()
    while time.monotonic() - began < 60:
        held = holders()
        if len(held) == args.cameras and set(held.values()) == {"w1", "w2"}:
            break
        time.sleep(0.2)
    else:
        sys.exit(f"the workers did not share the cameras within 60 s: {holders()}")
    print(f"two workers share {args.cameras} cameras after {time.monotonic() - began:.1f} s "
          f"(at most {share} each): {sorted(holders().items())}")  # fmt: skip
    workers["w1"].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < 60:
        held = holders()
        if len(held) == args.cameras and set(held.values()) == {"w2"}:
            break
        time.sleep(0.1)
    moved = time.monotonic() - killed
    print(f"worker w1 killed (SIGKILL): its cameras were leased to w2 after {moved:.1f} s "
          f"(target ≤ 10 s, lease {args.ttl:g} s)")  # fmt: skip
    workers["w3"] = start("w3")
    joined = time.monotonic()
    while time.monotonic() - joined < 60:
        if "w3" in holders().values():
            break
        time.sleep(0.1)
    print(f"worker w3 joined: it held cameras after {time.monotonic() - joined:.1f} s; "
          f"now {sorted(holders().items())}")  # fmt: skip
    for process in workers.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers.values():
        process.wait(30)
    print(f"clean stop: {len(holders())} leases left (0 expected)")


if __name__ == "__main__":
    main()
