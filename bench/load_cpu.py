"""Where a load run's CPU went: the nodes, the publishers, this run's PostgreSQL backends and the
NATS server, read from /proc (Linux) at the start and at the end of the run."""

from __future__ import annotations

import os
from collections.abc import Iterable
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


class CpuMeter:
    """CPU seconds per group of processes between :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self.used: dict[str, float] = {}

    def start(self, pids: Iterable[int]) -> None:
        self._start = {pid: cpu_seconds(pid) for pid in pids}

    def stop(self, groups: dict[str, Iterable[int]]) -> None:
        """``groups``: name → the processes to count (those started since count from zero)."""
        for name, pids in groups.items():
            self.used[name] = sum(cpu_seconds(p) - self._start.get(p, 0.0) for p in pids)

    def line(self, wall_s: float, extra: dict[str, float]) -> str:
        used = {**self.used, **extra}
        parts = ", ".join(f"{name} {s:,.0f} s" for name, s in used.items())
        total = sum(used.values())
        return (
            f"  CPU over the {wall_s:.0f} s run: {parts}; together {total / wall_s:.2f} of the "
            f"{os.cpu_count()} cores"
        )
