"""ByteTracker: confirmation, lifecycle events, occlusions, low scores, classes and time."""

from __future__ import annotations

import numpy as np
import pytest

from kupol.vision.detections import CAR, PERSON, Detections
from kupol.vision.kalman import kalman_initiate, kalman_predict, kalman_update
from kupol.vision.tracking import ByteTracker, TrackEvent

FPS = 10.0
Box = tuple[float, float, float, float]


def dets(*objects: tuple[Box, float] | tuple[Box, float, int]) -> Detections:
    """Detections from (box, confidence[, class]) rows; people by default."""
    if not objects:
        return Detections.empty()
    return Detections(
        xyxy=np.array([o[0] for o in objects], np.float32),
        confidence=np.array([o[1] for o in objects], np.float32),
        class_id=np.array([o[2] if len(o) > 2 else PERSON for o in objects], np.int32),
    )


def person_at(x: float, y: float = 100.0, w: float = 30.0, h: float = 80.0) -> Box:
    """A person's box with its left edge at ``x`` and its feet at ``y``."""
    return (x, y - h, x + w, y)


def step(tracker: ByteTracker, frame: int, seen: Detections) -> Detections:
    return tracker.update(seen, frame_index=frame, pts_s=frame / FPS)


def kinds(events: list[TrackEvent]) -> list[tuple[str, int]]:
    return [(e.kind, e.track_id) for e in events]


def test_the_kalman_filter_learns_a_constant_velocity() -> None:
    mean, cov = kalman_initiate(np.array([[100.0, 100.0, 30.0, 80.0]]))
    for k in range(1, 21):
        mean, cov = kalman_predict(mean, cov, 1.0)
        mean, cov = kalman_update(mean, cov, np.array([[100.0 + 6 * k, 100.0, 30.0, 80.0]]))

    ahead, _ = kalman_predict(mean, cov, 5.0)

    assert mean[0, 4] == pytest.approx(6.0, abs=0.3)
    assert ahead[0, 0] == pytest.approx(100 + 6 * 25, abs=3)
    assert ahead[0, 2:4] == pytest.approx([30.0, 80.0], abs=0.5)


def test_a_track_is_confirmed_after_min_hits_and_numbered_from_one() -> None:
    tracker = ByteTracker(fps=FPS, min_hits=3)

    outputs = [step(tracker, i, dets((person_at(10 + 4 * i), 0.9))) for i in range(4)]

    assert [len(o) for o in outputs] == [0, 0, 1, 1]
    assert outputs[3].tracker_id.tolist() == [1]
    [start] = tracker.drain_events()
    assert (start.kind, start.track_id, start.frame_index) == ("start", 1, 2)
    assert start.first_pts_s == 0.0
    assert start.pts_s == pytest.approx(0.2)


def test_one_frame_false_positives_never_become_tracks_nor_use_up_ids() -> None:
    tracker = ByteTracker(fps=FPS)
    for i in range(10):  # a spurious box somewhere new every frame
        step(tracker, i, dets((person_at(50.0 * i, 300), 0.8)))
    for i in range(10, 13):
        out = step(tracker, i, dets((person_at(100), 0.9)))

    assert out.tracker_id.tolist() == [1]
    assert kinds(tracker.drain_events()) == [("start", 1)]


def test_update_events_are_spaced_and_the_end_comes_after_lost_seconds() -> None:
    tracker = ByteTracker(fps=FPS, lost_seconds=2.0, update_every_s=1.0)
    for i in range(50):  # seen for 0.0-4.9 s
        step(tracker, i, dets((person_at(10 + 3 * i), 0.9)))
    seen = tracker.drain_events()
    for i in range(50, 80):
        step(tracker, i, Detections.empty())
    gone = tracker.drain_events()

    assert [round(e.pts_s, 1) for e in seen] == [0.1, 1.1, 2.1, 3.1, 4.1]
    assert [e.kind for e in seen] == ["start"] + ["update"] * 4
    [end] = gone
    assert end.kind == "end"
    assert end.pts_s == pytest.approx(7.0)  # more than 2 s after 4.9 s
    assert end.first_pts_s == 0.0
    assert end.last_pts_s == pytest.approx(4.9)
    assert end.box == pytest.approx(person_at(10 + 3 * 49))
    assert [round(p.pts_s, 1) for p in end.path] == [
        0.0,
        0.5,
        1.0,
        1.5,
        2.0,
        2.5,
        3.0,
        3.5,
        4.0,
        4.5,
        4.9,
    ]
    assert tracker.tracks() == []


def test_ids_survive_two_people_crossing_with_one_hidden() -> None:
    tracker = ByteTracker(fps=FPS)
    ids_left_to_right: set[int] = set()
    ids_right_to_left: set[int] = set()
    for i in range(40):  # they meet at frame 20; the far one is hidden for frames 17-23
        walker_a, walker_b = person_at(20 + 8 * i, 200), person_at(340 - 8 * i, 210)
        visible = [(walker_b, 0.9)] if 17 <= i <= 23 else [(walker_a, 0.9), (walker_b, 0.85)]
        out = step(tracker, i, dets(*visible))
        for box, track_id in zip(out.xyxy.tolist(), out.tracker_id.tolist(), strict=True):
            moving_right = abs(box[3] - 200) < 1
            (ids_left_to_right if moving_right else ids_right_to_left).add(track_id)

    assert ids_left_to_right == {1}
    assert ids_right_to_left == {2}


def test_low_score_detections_keep_a_track_but_never_start_one() -> None:
    def run(low_threshold: float) -> list[list[int]]:
        tracker = ByteTracker(fps=FPS, low_threshold=low_threshold)
        ids = []
        for i in range(30):  # confident until frame 5, then half hidden (scores 0.3)
            score = 0.9 if i < 5 else 0.3
            ids.append(step(tracker, i, dets((person_at(10 + 4 * i), score))).tracker_id.tolist())
        return ids

    with_second_stage = run(low_threshold=0.1)
    without = run(low_threshold=0.5)

    assert with_second_stage[5:] == [[1]] * 25
    assert without[5:] == [[]] * 25

    tracker = ByteTracker(fps=FPS)
    for i in range(10):
        assert len(step(tracker, i, dets((person_at(10 + 4 * i), 0.3)))) == 0
    assert tracker.drain_events() == []


def test_a_person_track_never_takes_a_car_detection() -> None:
    tracker = ByteTracker(fps=FPS)
    for i in range(5):
        step(tracker, i, dets((person_at(100), 0.9)))
    outs = [step(tracker, i, dets((person_at(100), 0.9, CAR))) for i in range(5, 8)]

    assert [o.tracker_id.tolist() for o in outs] == [[], [2], [2]]
    assert outs[-1].class_id.tolist() == [CAR]
    assert [(t.track_id, t.class_id, t.state) for t in tracker.tracks()] == [
        (1, PERSON, "lost"),
        (2, CAR, "tracked"),
    ]


def test_coasting_through_still_frames_keeps_tracks_but_lost_ones_still_end() -> None:
    tracker = ByteTracker(fps=FPS, lost_seconds=2.0)
    for i in range(5):
        step(tracker, i, dets((person_at(100), 0.9), (person_at(300), 0.9)))
    step(tracker, 5, dets((person_at(100), 0.9)))  # the second person left at 0.5 s
    for i in range(6, 100):  # nothing moves for 9.4 s: the detector is not run
        kept = tracker.coast(frame_index=i, pts_s=i / FPS)
    missed = step(tracker, 100, Detections.empty())  # one miss is not 9.4 s unseen
    back = step(tracker, 101, dets((person_at(100), 0.9)))

    assert kept.tracker_id.tolist() == [1]
    assert len(missed) == 0
    assert back.tracker_id.tolist() == [1]
    events = tracker.drain_events()
    assert kinds(events) == [("start", 1), ("start", 2), ("end", 2), ("update", 1)]
    assert events[2].pts_s == pytest.approx(2.5)  # ended while coasting, > 2 s after 0.4 s


def test_unseen_time_is_measured_in_seconds_not_frames() -> None:
    tracker = ByteTracker(fps=FPS, lost_seconds=2.0)  # 20 frames at the nominal rate...
    for t in range(3):  # ...but frames arrive once a second
        tracker.update(dets((person_at(100), 0.9)), frame_index=t, pts_s=float(t))
    ended_at = []
    for t in range(3, 8):
        tracker.update(Detections.empty(), frame_index=t, pts_s=float(t))
        ended_at += [t for e in tracker.drain_events() if e.kind == "end"]

    assert ended_at == [5]
    assert tracker.lost_frames == 20


def test_a_gap_without_updates_is_bridged_by_the_motion_prediction() -> None:
    tracker = ByteTracker(fps=FPS)
    for i in range(20):  # 8 px a frame: a 30 px box moves off itself in 4 frames
        step(tracker, i, dets((person_at(10 + 8 * i), 0.9)))
    # The detector skips 10 frames (load); the next call comes 1.1 s later.
    out = step(tracker, 30, dets((person_at(10 + 8 * 30), 0.9)))

    assert out.tracker_id.tolist() == [1]


def test_tracks_tell_where_they_were_and_how_far_they_are() -> None:
    tracker = ByteTracker(fps=FPS, history=10)
    for i in range(20):
        step(tracker, i, dets((person_at(10 + 5 * i, 200), 0.9)))

    [track] = tracker.tracks()

    assert len(track.history) == 10
    assert track.history[0].pts_s == pytest.approx(1.0)
    assert track.anchor.x == pytest.approx(25 + 5 * 19)
    assert track.anchor.y == 200
    middle = track.position_at(1.55)
    assert middle is not None
    assert middle.x == pytest.approx(25 + 5 * 15.5)
    assert track.position_at(0.5) is None  # older than the kept history
    assert track.distance_to(25 + 5 * 19, 240) == pytest.approx(40)
    assert tracker.track(1) == track
    assert tracker.track(2) is None


def test_finish_ends_every_track_after_the_pending_events() -> None:
    tracker = ByteTracker(fps=FPS)
    for i in range(3):
        step(tracker, i, dets((person_at(10), 0.9), (person_at(200), 0.9, CAR)))

    events = tracker.finish(pts_s=0.3)

    assert kinds(events) == [("start", 1), ("start", 2), ("end", 1), ("end", 2)]
    assert all(e.pts_s == 0.3 for e in events[2:])
    assert tracker.tracks() == []


@pytest.mark.parametrize(
    "kwargs", [{"fps": 0}, {"fps": 10, "min_hits": 0}, {"fps": 10, "lost_seconds": -1}]
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="fps must be"):
        ByteTracker(**kwargs)  # type: ignore[arg-type]


def test_skipped_frames_move_tracks_by_their_prediction() -> None:
    tracker = ByteTracker(fps=FPS)
    for i in range(6):  # walking right, 5 px a frame
        step(tracker, i, dets((person_at(100 + 5 * i), 0.9)))
    predicted = tracker.predict(frame_index=6, pts_s=0.6)
    assert predicted.tracker_id.tolist() == [1]
    assert predicted.xyxy[0][0] == pytest.approx(130, abs=2.0)  # moved on, not held at 125
    # The next detection, two frames on, continues the same track.
    assert step(tracker, 7, dets((person_at(135), 0.9))).tracker_id.tolist() == [1]
    assert kinds(tracker.drain_events()) == [("start", 1)]
