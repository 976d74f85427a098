"""dlib's face ResNet on ONNX Runtime: the face_recognition library's embedder, faster.

``models/dlib-resnet-v1.onnx`` is ``dlib_face_recognition_resnet_model_v1.dat`` (the network
``face_recognition`` and dlib's ``face_recognition_model_v1`` run), converted layer for layer by
``scripts/build_face_embedder.py``; its descriptors are dlib's within 1e-3 per component (see
``models/dlib-resnet-v1.md`` for the measured figures). ONNX Runtime runs a batch of chips at
once and releases the GIL while it does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kupol.faces.types import Image
from kupol.vision.detectors.base import open_session

MODEL_PATH = Path(__file__).parent / "models" / "dlib-resnet-v1.onnx"
CHIP_SIZE = 150
"""Side of the chips the network takes: dlib's ``get_face_chip(size=150, padding=0.25)``."""
DLIB_TOLERANCE = 0.6
"""dlib's (and face_recognition's) same-person Euclidean distance between raw descriptors."""


class OnnxDlibEmbedder:
    """128-D face templates from aligned chips, dlib's ResNet on ONNX Runtime.

    Args:
        threads: ONNX Runtime intra-op threads. 1 (the default) gives the most faces per
            CPU-second; 2 lowers one batch's latency on an idle 2-core machine.
        batch_size: chips run through the network at once.
        path: the ONNX model, by default the shipped one.

    Example:
        >>> embedder = OnnxDlibEmbedder()
        >>> chip = np.full((150, 150, 3), 128, np.uint8)
        >>> templates = embedder.embed([chip, chip])
        >>> templates.shape, bool(abs(np.linalg.norm(templates[0]) - 1) < 1e-5)
        ((2, 128), True)
    """

    name = "dlib-onnx"
    dim = 128

    def __init__(self, *, threads: int = 1, batch_size: int = 32, path: Path = MODEL_PATH) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._session = open_session(path, threads=threads)
        self._batch_size = batch_size

    def descriptors(self, chips: list[Image]) -> NDArray[np.float32]:
        """dlib's own descriptors (not unit length), one row per 150 x 150 BGR chip.

        Compare these by Euclidean distance against :data:`DLIB_TOLERANCE`, as dlib does.
        """
        for chip in chips:
            if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3) or chip.dtype != np.uint8:
                raise ValueError(
                    f"a chip must be {CHIP_SIZE}x{CHIP_SIZE}x3 uint8, not {chip.shape} {chip.dtype}"
                )
        rows = [np.empty((0, self.dim), np.float32)]
        for start in range(0, len(chips), self._batch_size):
            batch = np.stack([chip[:, :, ::-1] for chip in chips[start : start + self._batch_size]])
            rows.append(np.asarray(self._session.run(None, {"chips": batch})[0], np.float32))
        return np.concatenate(rows)

    def embed(self, chips: list[Image]) -> NDArray[np.float32]:
        """Unit-length templates, one row per 150 x 150 BGR chip; shape ``(len(chips), 128)``."""
        raw = self.descriptors(chips)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (raw / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit
