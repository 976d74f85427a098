"""The one writer of tracks: idempotent, forward-only, with merged paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.vision.messages import TrackObserved
from kupol.vision.model import TrackRecord

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def message(stage: str, seconds: float, *path: tuple[float, float, float]) -> TrackObserved:
    return TrackObserved(
        camera_id="cam-1",
        run_id="r1",
        track_id=3,
        stage=stage,
        object_class="car",
        started_at=START,
        seen_at=START + timedelta(seconds=seconds),
        confidence=0.5 + seconds / 100,
        box=(0.1, 0.1, 0.3, 0.2),
        path=path,
    )


def row(container: Container) -> TrackRecord | None:
    with container.db.reader() as session:
        return session.get(TrackRecord, "cam-1/r1/3")


def register(container: Container) -> None:
    container.cameras.register(
        camera=CameraCreate(id="cam-1", name="c", latitude=51.1, longitude=71.4), actor=SYSTEM
    )


def test_a_track_is_one_row_from_start_to_end(container: Container) -> None:
    register(container)
    start, update = message("start", 0), message("update", 1)
    end = message("end", 5, (0.0, 0.2, 0.2), (5.0, 0.9, 0.2))

    container.tracks.record([start, update])
    container.tracks.record([end])

    stored = row(container)
    assert stored is not None
    assert stored.state == "ended"
    assert stored.ended_at == START + timedelta(seconds=5)
    assert stored.path == [[0.0, 0.2, 0.2], [5.0, 0.9, 0.2]]
    assert stored.max_confidence == 0.55


def test_redelivered_or_late_messages_never_move_a_track_back(container: Container) -> None:
    register(container)
    end = message("end", 5, (5.0, 0.9, 0.2))
    container.tracks.record([message("start", 0), end])

    container.tracks.record([end, message("update", 2)])  # redelivered, then a late update

    stored = row(container)
    assert stored is not None
    assert stored.state == "ended"
    assert stored.last_seen_at == START + timedelta(seconds=5)
    assert stored.path == [[5.0, 0.9, 0.2]]


def test_tracks_of_unknown_cameras_are_dropped(container: Container) -> None:
    assert container.tracks.record([message("start", 0)]) == 0
    assert row(container) is None
