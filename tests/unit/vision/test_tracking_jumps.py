"""``max_jump``: a fast object missed for a frame is found again far ahead, not restarted."""

from __future__ import annotations

import numpy as np
import pytest

from kupol.vision.detections import CAR, Detections
from kupol.vision.tracking import ByteTracker


def car_at(x: float) -> Detections:
    return Detections(
        xyxy=np.array([[x, 100, x + 60, 130]], np.float32),
        confidence=np.array([0.8], np.float32),
        class_id=np.array([CAR], np.int32),
    )


def track_ids(max_jump: float) -> set[int]:
    tracker = ByteTracker(fps=5, max_jump=max_jump)
    ids: set[int] = set()
    # The car speeds up (the filter still expects the old speed) and is missed at frame 4:
    # at frame 5 it is more than a box length past where it was expected.
    positions = [0, 20, 40, 60, None, 150, 170, 190]
    for frame, x in enumerate(positions):
        seen = car_at(x) if x is not None else Detections.empty()
        out = tracker.update(seen, frame_index=frame, pts_s=frame / 5)
        ids.update(int(t) for t in out.tracker_id)
    return ids


@pytest.mark.parametrize(("max_jump", "tracks"), [(0.0, 2), (2.0, 1)])
def test_a_missed_fast_car_keeps_its_track_only_with_jumps(max_jump: float, tracks: int) -> None:
    assert len(track_ids(max_jump)) == tracks
