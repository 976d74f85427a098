"""Face embedders: aligned chips in, unit-length templates out, chosen by name.

``dlib`` is dlib's ResNet (``dlib_face_recognition_resnet_model_v1``, 128 values, 99.38 % on
LFW as published), run by dlib itself. dlib holds the GIL while it computes (about 58 ms per
face on one core here), so other Python threads stall meanwhile.

To add an embedder, write a class with ``name``, ``dim`` and ``embed(chips)`` (the
:class:`~kupol.faces.types.FaceEmbedder` protocol) and add one line to :data:`EMBEDDERS`,
e.g. ``"dlib-onnx": lazy("kupol.faces.dlib_onnx", "OnnxDlibEmbedder"),`` (:func:`lazy` imports
the module only when that embedder is configured).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import ConfigError
from kupol.faces.types import FaceEmbedder, Image


def normalise(vectors: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Rows scaled to unit length (a zero row stays zero), as float32.

    Example:
        >>> normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    rows = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (rows / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return unit


class DlibResnetEmbedder:
    """dlib's ResNet on 150 x 150 chips made as :func:`kupol.faces.align.chip` makes them.

    Example:
        >>> embedder = DlibResnetEmbedder()
        >>> embedder.embed([np.zeros((150, 150, 3), np.uint8)]).shape
        (1, 128)
    """

    name = "dlib"
    dim = 128

    def __init__(self) -> None:
        import dlib  # type: ignore[import-untyped, unused-ignore]
        import face_recognition_models  # type: ignore[import-untyped, unused-ignore]

        self._model = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )
        self._lock = threading.Lock()  # one network, one scratch buffer inside dlib

    def embed(self, chips: list[Image]) -> NDArray[np.float32]:
        """One unit-length row per BGR chip; shape ``(len(chips), 128)``."""
        if not chips:
            return np.zeros((0, self.dim), np.float32)
        rgb = [np.ascontiguousarray(cv2.cvtColor(c, cv2.COLOR_BGR2RGB)) for c in chips]
        with self._lock:
            vectors = self._model.compute_face_descriptor(rgb)
        return normalise(np.array([list(v) for v in vectors], np.float64))


def lazy(module: str, name: str) -> Callable[[], FaceEmbedder]:
    """A factory that imports ``module`` and makes a ``name`` only when called.

    Example:
        >>> make = lazy("kupol.faces.embedders", "DlibResnetEmbedder")
        >>> make().name
        'dlib'
    """

    def make() -> FaceEmbedder:
        factory: Callable[[], FaceEmbedder] = getattr(importlib.import_module(module), name)
        return factory()

    return make


EMBEDDERS: dict[str, Callable[[], FaceEmbedder]] = {
    "dlib": DlibResnetEmbedder,
    "dlib-onnx": lazy("kupol.faces.dlib_onnx", "OnnxDlibEmbedder"),
}
"""Embedder factories by the name a configuration uses."""


def embedder_for(name: str) -> FaceEmbedder:
    """A new embedder by name (models load here: share it, e.g. through the face engine).

    Raises :class:`ConfigError` for a name not in :data:`EMBEDDERS`.

    Example:
        >>> embedder_for("dlib").dim
        128
    """
    factory = EMBEDDERS.get(name)
    if factory is None:
        raise ConfigError(f"unknown face embedder {name!r}; known: {', '.join(sorted(EMBEDDERS))}")
    return factory()
