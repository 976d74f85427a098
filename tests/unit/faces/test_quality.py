"""Face quality: each check refuses for its own reason, thresholds are the operator's."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from kupol.faces.quality import QualityThresholds, assess, sharpness, yaw

EYES = [[70.0, 50.0], [60.0, 50.0], [30.0, 50.0], [40.0, 50.0]]


def points(nose_x: float = 50.0) -> np.ndarray:
    return np.array([*EYES, [nose_x, 70.0]], np.float32)


def textured_chip(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (150, 150, 3), dtype=np.uint8)


def judge(
    *,
    box: tuple[float, float, float, float] = (0.0, 0.0, 200.0, 200.0),
    score: float = 0.95,
    nose_x: float = 50.0,
    chip: np.ndarray | None = None,
    thresholds: QualityThresholds | None = None,
) -> tuple[bool, tuple[str, ...]]:
    quality = assess(
        box=box,
        score=score,
        points=points(nose_x),
        chip=textured_chip() if chip is None else chip,
        thresholds=thresholds or QualityThresholds(),
    )
    return quality.usable, quality.reasons


def test_a_large_sharp_frontal_confident_face_is_usable() -> None:
    assert judge() == (True, ())


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"box": (0.0, 0.0, 40.0, 40.0)}, "too_small"),
        ({"chip": np.full((150, 150, 3), 120, np.uint8)}, "blurred"),
        ({"nose_x": 64.0}, "turned"),
        ({"score": 0.5}, "low_confidence"),
    ],
)
def test_each_failed_check_makes_the_face_unusable_and_names_itself(
    overrides: dict[str, Any], reason: str
) -> None:
    assert judge(**overrides) == (False, (reason,))


def test_a_face_can_fail_several_checks_at_once() -> None:
    usable, reasons = judge(box=(0.0, 0.0, 30.0, 30.0), score=0.1)
    assert not usable
    assert reasons == ("too_small", "low_confidence")


def test_thresholds_are_configurable() -> None:
    lenient = QualityThresholds(min_face_px=20, min_score=0.3)
    assert judge(box=(0.0, 0.0, 40.0, 40.0), score=0.5, thresholds=lenient) == (True, ())


def test_thresholds_refuse_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        QualityThresholds.model_validate({"min_face": 10})


def test_blurring_a_chip_lowers_its_sharpness() -> None:
    chip = textured_chip()
    assert sharpness(cv2.GaussianBlur(chip, (9, 9), 3)) < sharpness(chip) / 10


def test_yaw_is_zero_frontal_and_signed_by_the_side_the_nose_points_to() -> None:
    assert yaw(points()) == 0.0
    assert yaw(points(nose_x=45.0)) < 0 < yaw(points(nose_x=55.0))
    assert yaw(points(nose_x=200.0)) == 1.0  # clipped


def test_the_score_ranks_a_better_face_higher() -> None:
    def score(box: tuple[float, float, float, float], nose_x: float = 50.0) -> float:
        return assess(
            box=box,
            score=0.95,
            points=points(nose_x),
            chip=textured_chip(),
            thresholds=QualityThresholds(),
        ).score

    big = score((0, 0, 200, 200))
    assert 0 <= score((0, 0, 200, 200), nose_x=58.0) < big <= 1
    assert 0 <= score((0, 0, 70, 70)) < big
