"""Where a load run's CPU went: the nodes, the publishers, PostgreSQL and the NATS server, read
from /proc (Linux) at the start and at the end of the run, and every second in between for the
groups whose processes come and go (a server's backends and autovacuum workers: one that ends
before the run does keeps the CPU it was last seen with), with what PostgreSQL did in the
background meanwhile (autovacuum passes, checkpoints)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import text

from kupol.core.db import Database

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU since boot, from /proc/stat's first line (idle
    and I/O wait are not busy; steal is)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def named(name: str) -> list[int]:
    """Processes called ``name``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def backends(db: Database) -> list[int]:
    """The PostgreSQL server processes serving this run's database."""
    with db.reader() as session:
        return list(
            session.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
        )


_CHECKPOINTS = "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint FROM pg_stat_bgwriter"


def background(db: Database) -> dict[str, int]:
    """PostgreSQL's background work so far: autovacuum and autoanalyze passes over this
    database's tables, checkpoints (timed and requested) and the buffers they wrote."""
    with db.reader() as session:
        vacuums, analyzes = session.execute(
            text(
                "SELECT coalesce(sum(autovacuum_count), 0), coalesce(sum(autoanalyze_count), 0) "
                "FROM pg_stat_user_tables"
            )
        ).one()
        timed, requested, written = session.execute(text(_CHECKPOINTS)).one()
    return {
        "autovacuum passes": int(vacuums),
        "autoanalyze passes": int(analyzes),
        "checkpoints": int(timed) + int(requested),
        "checkpoint buffers": int(written),
    }


def background_line(before: dict[str, int], after: dict[str, int]) -> str:
    return "  PostgreSQL in the background over the run: " + ", ".join(
        f"{name} {after[name] - before[name]:,}" for name in before
    )


class CpuMeter:
    """CPU seconds per group of processes between :meth:`start` and :meth:`stop`; a group
    given to :meth:`watch` is also read every :meth:`sample`, so that its processes that end
    meanwhile are counted up to their last sample."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self._watched: dict[str, Callable[[], Iterable[int]]] = {}
        self._seen: dict[str, dict[int, float]] = {}
        self._parts: set[str] = set()
        self.used: dict[str, float] = {}
        self.history: list[tuple[float, tuple[int, int], dict[str, float]]] = []
        """Each sample: its time, :func:`machine_ticks` then, and each watched group's CPU
        seconds so far."""

    def start(self, pids: Iterable[int]) -> None:
        self._start = {pid: cpu_seconds(pid) for pid in pids}

    def watch(self, name: str, pids: Callable[[], Iterable[int]], *, part: bool = False) -> None:
        """Count group ``name``, whose processes ``pids()`` lists, from now on; ``part``: its
        processes are among another group's (shown, not added to the total)."""
        if part:
            self._parts.add(name)
        for pid in pids():
            self._start.setdefault(pid, cpu_seconds(pid))
        self._seen.setdefault(name, {})
        self._watched[name] = pids

    def sample(self) -> None:
        totals = {}
        for name, pids in list(self._watched.items()):  # (watch() may run meanwhile)
            seen = self._seen.setdefault(name, {})
            for pid in pids():
                used = cpu_seconds(pid)
                if used > 0:
                    seen[pid] = max(used, seen.get(pid, 0.0))
            totals[name] = sum(used - self._start.get(pid, 0.0) for pid, used in seen.items())
        self.history.append((time.time(), machine_ticks(), totals))

    def cores(self, start_at: float, every_s: int = 10) -> dict[int, dict[str, float]]:
        """Per ``every_s`` window (its start, s after ``start_at``): the cores the whole machine
        was busy on (``machine``) and each watched group's, between the samples in it."""
        spent: dict[int, dict[str, float]] = {}
        for (t0, ticks0, used0), (t1, ticks1, used1) in itertools.pairwise(self.history):
            window = int((t1 - start_at) // every_s) * every_s
            per = spent.setdefault(window, {"_s": 0.0, "_busy": 0.0, "_all": 0.0})
            per["_s"] += t1 - t0
            per["_busy"] += ticks1[0] - ticks0[0]
            per["_all"] += ticks1[1] - ticks0[1]
            for name, used in used1.items():
                per[name] = per.get(name, 0.0) + used - used0.get(name, used)
        cpus = os.cpu_count() or 1
        return {
            window: {
                "machine": cpus * per["_busy"] / per["_all"] if per["_all"] else 0.0,
                **{k: v / per["_s"] for k, v in per.items() if not k.startswith("_") and per["_s"]},
            }
            for window, per in spent.items()
        }

    def stop(self, groups: dict[str, Iterable[int]]) -> None:
        """``groups``: name → the processes to count (those started since count from zero);
        then the watched groups, read a last time."""
        for name, pids in groups.items():
            self.used[name] = sum(cpu_seconds(p) - self._start.get(p, 0.0) for p in pids)
        self.sample()
        for name, seen in self._seen.items():
            self.used[name] = sum(used - self._start.get(pid, 0.0) for pid, used in seen.items())

    def line(self, wall_s: float, extra: dict[str, float]) -> str:
        used = {**self.used, **extra}
        parts = ", ".join(f"{name} {s:,.0f} s" for name, s in used.items())
        total = sum(s for name, s in used.items() if name not in self._parts)
        return (
            f"  CPU over the {wall_s:.0f} s run: {parts}; together {total / wall_s:.2f} of the "
            f"{os.cpu_count()} cores"
        )
