"""Motion detection on generated video whose motion is known, and clear source errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kupol.core.errors import SourceError
from kupol.vision.motion import MotionDetector, zone_of
from kupol.vision.sources import read_frames
from kupol.vision.synthetic import write_synthetic_video

FPS = 5.0


@pytest.fixture(scope="module")
def blocks_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 20 s: blocks cross the frame from 1, 5, 9, 13 and 17 s.
    return write_synthetic_video(tmp_path_factory.mktemp("video") / "blocks.mp4", seconds=20)


@pytest.fixture(scope="module")
def still_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The first block enters at 1 s; at 60 fps the first second is 60 frames of still noise.
    return write_synthetic_video(tmp_path_factory.mktemp("video") / "still.mp4", seconds=1, fps=60)


def run_detector(path: Path, fps: float = FPS) -> tuple[MotionDetector, list[float], int]:
    detector = MotionDetector()
    starts: list[float] = []
    frames = 0
    for frame in read_frames(str(path), analysis_fps=fps):
        frames += 1
        report = detector.update(frame.gray)
        if report is not None and report.episode > len(starts):
            starts.append(frame.pts_s)
    return detector, starts, frames


def test_frames_are_sampled_at_the_analysis_rate_and_scaled_down(blocks_video: Path) -> None:
    frames = list(read_frames(str(blocks_video), analysis_fps=FPS))

    assert len(frames) == pytest.approx(20 * FPS, abs=2)
    assert frames[0].gray.shape == (90, 160)
    assert frames[0].gray.dtype == np.uint8
    assert [f.index for f in frames[:3]] == [0, 1, 2]
    assert frames[1].pts_s - frames[0].pts_s == pytest.approx(1 / FPS, abs=0.05)


def test_the_detector_finds_one_episode_per_block(blocks_video: Path) -> None:
    detector, starts, _ = run_detector(blocks_video)

    assert detector.episodes == 5
    for start, block_enters in zip(starts, (1, 5, 9, 13, 17), strict=True):
        assert block_enters <= start < block_enters + 2  # while the block is crossing


def test_a_still_video_has_no_motion(still_video: Path) -> None:
    detector, starts, frames = run_detector(still_video, fps=60)

    assert frames >= 55
    assert detector.episodes == 0
    assert starts == []


def test_the_reported_box_covers_the_moving_block() -> None:
    detector = MotionDetector(warmup=1, confirm=1)
    still = np.full((90, 160), 90, np.uint8)
    moving = still.copy()
    moving[50:70, 40:80] = 230

    assert detector.update(still) is None
    assert detector.update(still) is None
    report = detector.update(moving)

    assert report is not None
    assert (report.box.x1, report.box.x2) == (40 / 160, 80 / 160)
    assert (report.box.y1, report.box.y2) == (50 / 90, 70 / 90)
    assert report.area == pytest.approx(20 * 40 / (90 * 160))
    assert (
        zone_of(
            report.box.center,
            [("sky", [(0, 0), (1, 0), (1, 0.4)]), ("road", [(0, 0.5), (1, 0.5), (1, 1), (0, 1)])],
        )
        == "road"
    )


def test_a_missing_file_is_a_source_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mp4"

    with pytest.raises(SourceError, match="video file not found") as caught:
        next(read_frames(str(missing), analysis_fps=FPS))

    assert str(missing) in caught.value.detail
    assert caught.value.exit_code == 9


def test_a_file_that_is_not_a_video_is_a_source_error_naming_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("these are not video frames\n" * 50)

    with pytest.raises(SourceError, match="cannot open video") as caught:
        next(read_frames(str(notes), analysis_fps=FPS))

    assert str(notes) in caught.value.detail


def test_a_folder_without_images_is_not_a_video_source(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        next(read_frames(str(tmp_path), analysis_fps=FPS))
