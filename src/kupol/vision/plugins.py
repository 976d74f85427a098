"""Detector instances shared by every camera with the same detector configuration.

An ONNX session is loaded once and used from every camera thread (onnxruntime's ``run`` is
thread-safe), so sixteen cameras cost one model in memory.
"""

from __future__ import annotations

import threading

from kupol.vision.config import DetectorChoice, MotionOnlyConfig
from kupol.vision.detectors import build_detector
from kupol.vision.detectors.base import Detector

_lock = threading.Lock()
_cache: dict[str, Detector] = {}


def detector_for(config: DetectorChoice) -> Detector | None:
    """The shared detector for ``config`` (``None`` for the motion-only fallback)."""
    if isinstance(config, MotionOnlyConfig):
        return None
    key = config.model_dump_json()
    with _lock:
        if key not in _cache:
            _cache[key] = build_detector(config)
        return _cache[key]
