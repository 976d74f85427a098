"""Whether a face is good enough to match: size, sharpness, head turn, detector confidence.

Each check has a threshold in :class:`QualityThresholds`; a face failing one is not usable
and says why (``too_small``, ``blurred``, ``turned``, ``low_confidence``). The score (0-1)
multiplies four factors, each 1 at twice its threshold (or frontal) and falling linearly
below, so it ranks faces (the best photo of a person, the best frame of a track).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from kupol.faces.types import Image, Quality

NOSE = 4
"""Index of the base of the nose among dlib's five landmarks."""
PROFILE_OFFSET = 0.5
"""Nose offset (in eye distances from the eyes' midpoint) taken as a full profile (yaw 1)."""


class QualityThresholds(BaseModel):
    """The least a face needs to be matched."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_face_px: float = Field(
        60.0,
        ge=0,
        le=4096,
        description="Least face width (detector box, source pixels); smaller: too_small.",
    )
    min_sharpness: float = Field(
        10.0,
        ge=0,
        description="Least variance of the Laplacian on the aligned grey chip; less: blurred "
        "(sharp photos score 100-1000; at about 4 dlib's templates of one person no longer "
        "reach 0.94).",
    )
    max_yaw: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Largest head turn, 0 frontal to 1 profile (0.5 is about 45 degrees); "
        "more: turned.",
    )
    min_score: float = Field(
        0.78,
        ge=0,
        le=1,
        description="Least detector score to match the face; less: low_confidence (only "
        "seen when the engine's min_score, its floor for analysis, is set lower).",
    )


def sharpness(chip: Image) -> float:
    """Variance of the Laplacian of the chip in grey: low for blurred or featureless faces.

    Example:
        >>> flat = np.full((150, 150, 3), 128, np.uint8)
        >>> sharpness(flat)
        0.0
        >>> stripes = flat.copy(); stripes[:, ::2] = 0
        >>> sharpness(stripes) > 1000
        True
    """
    grey = cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY) if chip.ndim == 3 else chip
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def yaw(points: NDArray[np.float32]) -> float:
    """Head turn from dlib's five landmarks: the nose's offset from the eyes' midpoint along
    the line through the eyes, in eye distances, scaled so :data:`PROFILE_OFFSET` is 1.

    Negative when the nose points to the picture's left, positive to its right.

    Example:
        >>> eyes = [[70, 50], [60, 50], [30, 50], [40, 50]]
        >>> yaw(np.array([*eyes, [50, 70]], np.float32))
        0.0
        >>> round(yaw(np.array([*eyes, [57.5, 70]], np.float32)), 2)
        0.5
    """
    points = np.asarray(points, np.float64)
    right_eye = points[0:2].mean(axis=0)
    left_eye = points[2:4].mean(axis=0)
    axis = right_eye - left_eye
    length2 = float(axis @ axis)
    if length2 < 1e-9:
        return 0.0
    offset = float((points[NOSE] - (left_eye + right_eye) / 2) @ axis) / length2
    return float(np.clip(offset / PROFILE_OFFSET, -1.0, 1.0))


def assess(
    *,
    box: tuple[float, float, float, float],
    score: float,
    points: NDArray[np.float32],
    chip: Image,
    thresholds: QualityThresholds,
) -> Quality:
    """The quality of one aligned face.

    Example:
        >>> eyes = [[70, 50], [60, 50], [30, 50], [40, 50]]
        >>> chip = np.zeros((150, 150, 3), np.uint8); chip[:, ::2] = 255
        >>> quality = assess(box=(0, 0, 40, 40), score=0.9, chip=chip,
        ...                  points=np.array([*eyes, [50, 70]], np.float32),
        ...                  thresholds=QualityThresholds())
        >>> quality.usable, quality.reasons, quality.face_px
        (False, ('too_small',), 40.0)
    """
    face_px = float(box[2] - box[0])
    blur = sharpness(chip)
    turn = yaw(points)
    reasons = []
    if face_px < thresholds.min_face_px:
        reasons.append("too_small")
    if blur < thresholds.min_sharpness:
        reasons.append("blurred")
    if abs(turn) > thresholds.max_yaw:
        reasons.append("turned")
    if score < thresholds.min_score:
        reasons.append("low_confidence")
    factors = (
        _ramp(face_px, thresholds.min_face_px),
        _ramp(blur, thresholds.min_sharpness),
        1.0 - abs(turn),
        float(np.clip(score, 0.0, 1.0)),
    )
    return Quality(
        score=round(float(np.prod(factors)), 4),
        face_px=face_px,
        sharpness=blur,
        yaw=turn,
        usable=not reasons,
        reasons=tuple(reasons),
    )


def _ramp(value: float, threshold: float) -> float:
    """1 at twice ``threshold`` and above, falling linearly to 0 at 0."""
    if threshold <= 0:
        return 1.0
    return float(np.clip(value / (2 * threshold), 0.0, 1.0))
