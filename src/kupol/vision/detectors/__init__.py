"""Object detector plug-ins, chosen by the ``type`` key of their config.

Example:
    >>> from pydantic import TypeAdapter
    >>> config = TypeAdapter(DetectorConfig).validate_python({"type": "nanodet", "threads": 2})
    >>> build_detector(config).names[0]
    'person'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kupol.vision.detectors.base import Detector, NanoDetConfig, OnnxYoloConfig, ScriptedConfig

DetectorConfig = Annotated[NanoDetConfig | OnnxYoloConfig, Field(discriminator="type")]
"""The config of any detector plug-in; its ``type`` picks the plug-in."""

__all__ = [
    "Detector",
    "DetectorConfig",
    "NanoDetConfig",
    "OnnxYoloConfig",
    "ScriptedConfig",
    "build_detector",
]


def build_detector(config: NanoDetConfig | OnnxYoloConfig | ScriptedConfig) -> Detector:
    """The detector a config describes; :class:`~kupol.core.errors.ConfigError` when its model
    file is missing, corrupt or not of the kind the config says."""
    # Imported here so that reading configs does not load ONNX Runtime sessions' modules.
    if isinstance(config, ScriptedConfig):
        from kupol.traffic.simulation import ScriptedDetector

        return ScriptedDetector()
    if isinstance(config, NanoDetConfig):
        from kupol.vision.detectors.nanodet import NanoDetDetector

        return NanoDetDetector(config)
    from kupol.vision.detectors.yolo import OnnxYoloDetector

    return OnnxYoloDetector(config)
