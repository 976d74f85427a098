"""Cameras shared among vision workers by the lease table, on SQLite and PostgreSQL: fair
shares that cover every camera once; a worker that joins gets cameras as the others shed
theirs; a dead worker's cameras move to the others once its leases expire; a clean stop hands
them over at once; racing workers never hold one camera twice."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from kupol.bootstrap import Container
from kupol.core.messages import utcnow
from kupol.vision.leases import CameraLeases

CAMERAS = [f"ast-{n:02d}" for n in range(7)]


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def beat(*workers: CameraLeases) -> dict[str, set[str]]:
    return {w.worker: w.beat(CAMERAS) for w in workers}


def assert_shared(held: dict[str, set[str]], live: int) -> None:
    cameras = [c for cs in held.values() for c in cs]
    assert sorted(cameras) == CAMERAS, held  # every camera, once
    share = -(-len(CAMERAS) // live)
    assert all(len(cs) <= share for cs in held.values()), held


def test_workers_share_the_cameras_and_take_over_a_dead_one_s(container: Container) -> None:
    clock = Clock()
    a, b, c = (CameraLeases(db=container.db, worker=w, ttl_s=6, clock=clock) for w in "abc")
    assert len(a.beat(CAMERAS)) == 7  # alone: everything
    # b and c join: a sheds down to its share on its next beat, they take the rest.
    for _ in range(3):
        held = beat(a, b, c)
        clock.tick(2)
    assert_shared(held, live=3)
    assert all(held.values())
    # c dies (stops beating): within its lease's life and a beat, a and b hold its cameras.
    dead = held["c"]
    for _ in range(5):
        clock.tick(2)
        held = beat(a, b)
    assert_shared({k: v for k, v in held.items()}, live=2)
    assert dead <= held["a"] | held["b"]
    # b stops cleanly: a takes everything at its next beat.
    b.release()
    clock.tick(2)
    assert a.beat(CAMERAS) == set(CAMERAS)
    assert set(a.holders().values()) == {"a"}
    # A camera no longer wanted is let go.
    assert "ast-06" not in a.beat(CAMERAS[:-1]) and "ast-06" not in a.holders()


def test_racing_workers_never_hold_one_camera_twice(container: Container) -> None:
    workers = [CameraLeases(db=container.db, worker=f"w{n}", ttl_s=6) for n in range(3)]
    rounds: list[dict[str, set[str]]] = [{} for _ in range(8)]
    errors: list[BaseException] = []
    together = threading.Barrier(len(workers), timeout=30)

    def run(w: CameraLeases) -> None:
        try:
            for r in range(8):
                together.wait()  # the three beat at once, round after round
                rounds[r][w.worker] = w.beat(CAMERAS)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for held in rounds:
        cameras = [c for cs in held.values() for c in cs]
        # What each believes it holds after a round: never one camera twice.
        assert len(cameras) == len(set(cameras)), held
    beat(*workers)  # one shedding round, then the shed cameras are taken
    assert_shared(beat(*workers), live=3)
