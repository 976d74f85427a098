"""An operator's own model names its own classes: events and rules speak those names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from kupol.core.errors import ConfigError, InvalidInputError
from kupol.vision.config import CameraAnalytics, camera_analytics
from kupol.vision.detections import Detections
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.sources import Frame
from kupol.vision.zones import ZoneConfig

NAMES = ("drone", "bird")
YARD = ZoneConfig(name="yard", kind="restricted", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0)])


class DroneDetector:
    """Sees a drone (class 0 of its own model) flying left across the top of the picture."""

    names = NAMES

    def __init__(self) -> None:
        self.x = 300.0

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        self.x -= 10
        return Detections(
            xyxy=np.array([[self.x, 10, self.x + 30, 40]], np.float32),
            confidence=np.array([0.9], np.float32),
            class_id=np.array([0], np.int32),
        )


def analytics(**extra: object) -> CameraAnalytics:
    return CameraAnalytics.model_validate(
        {
            "detector": {"type": "onnx-yolo", "path": "drones.onnx", "names": list(NAMES)},
            "motion": {"enabled": False},
            "abandoned": {"enabled": False},
            "zones": [YARD.model_dump()],
            "intrusion": {"classes": ["drone"]},
            **extra,
        }
    )


def test_an_intrusion_is_reported_in_the_model_s_own_class_names() -> None:
    pipeline = CameraPipeline(config=analytics(), detector=DroneDetector())
    events = []
    for i in range(30):
        image = np.zeros((100, 400, 3), np.uint8)
        events += pipeline.process(Frame(index=i, pts_s=i / 5, image=image)).events

    intrusions = [e for e in events if e.type == "intrusion"]
    assert [e.object_class for e in intrusions] == ["drone"]


def test_a_class_the_model_does_not_have_is_refused_when_saved() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown object classes: .*person"):
        camera_analytics(
            zones=[YARD],
            analytics={
                "detector": {"type": "onnx-yolo", "path": "drones.onnx", "names": list(NAMES)},
                "loitering": {"enabled": True},
            },
        )


def test_names_known_only_inside_the_model_are_checked_when_the_pipeline_starts(
    tmp_path: Path,
) -> None:
    config = CameraAnalytics.model_validate(
        {
            "detector": {"type": "onnx-yolo", "path": str(tmp_path / "m.onnx")},
            "zones": [YARD.model_dump()],
            "intrusion": {"classes": ["person"]},
        }
    )

    with pytest.raises(ConfigError, match="unknown object class 'person'"):
        CameraPipeline(config=config, detector=DroneDetector())
