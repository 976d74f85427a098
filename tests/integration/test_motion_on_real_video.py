"""The motion detector on real video (ABODA clip 4), against what the data's README states.

The clip (29.97 fps, 39 s): a man puts a bag down at frames 400-430 (13.3-14.3 s) and walks
off about frame 600 (20 s); the bag then lies still. Checked by eye for this test: nobody moves
between 24 and 28 s, and a passer-by walks through from about 29 s to the end.
"""

from __future__ import annotations

from kupol.vision.evaluate import Episode, measure_motion
from tests.conftest import need_data


def covers(episodes: list[Episode], start: float, end: float) -> bool:
    return any(e.start_s <= start and (e.end_s is None or e.end_s >= end) for e in episodes)


def overlaps(episodes: list[Episode], start: float, end: float) -> bool:
    return any(e.start_s < end and (e.end_s is None or e.end_s > start) for e in episodes)


def test_motion_is_found_while_the_bag_is_put_down_and_not_while_it_lies_still() -> None:
    video = need_data("video", "abandoned-bag-aboda4.avi")
    report = measure_motion(str(video), analysis_fps=5)
    assert covers(report.episodes, 13.3, 14.3), report.episodes
    assert covers(report.episodes, 19.0, 20.0), report.episodes
    assert not overlaps(report.episodes, 24.0, 28.0), report.episodes
    assert overlaps(report.episodes, 30.0, 36.0), report.episodes


def test_motion_is_found_in_the_cars_sample_video() -> None:
    video = need_data("video", "cars-intel.mp4")
    report = measure_motion(str(video), analysis_fps=5)
    assert report.frames > 100
    assert report.episodes, "cars pass in this clip: some motion must be found"
