"""kupol's learned plate detector: where the plates of a photo are, as a map, run with onnxruntime.

The model (``models/plate-detector.onnx``, made by ``make plate-detector`` from a seed on this
machine's CPU; recipe in :mod:`kupol.plates.scenes`) gives the probability that each 4 x 4
pixels of a picture belong to a plate. A photo is scaled so that its longer side is
``long_side`` pixels, the map thresholded, and each blob of plate pixels becomes a candidate:
its rotated rectangle, padded as the classical locator pads (:func:`kupol.plates.locate.padded`),
with a quad to deskew by when it is tilted. The reader verifies each candidate as it verifies
the locator's (:class:`kupol.plates.crnn.CrnnPlateReader`).

Example:
    >>> detector = PlateDetector()
    >>> detector.find(np.zeros((360, 640, 3), np.uint8))
    []
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kupol.plates.locate import PlateCandidate, padded
from kupol.vision.detectors.base import open_session

MODEL_PATH = Path(__file__).with_name("models") / "plate-detector.onnx"
STRIDE = 4
"""The map is this many times smaller than the picture on each side."""
_MULTIPLE = 16  # the network halves the picture four times


@dataclass(frozen=True, kw_only=True)
class DetectorSettings:
    """Knobs of :class:`PlateDetector`.

    Attributes:
        long_side: The photo's longer side is scaled to this many pixels (at most doubled).
        threshold: Probability from which a map cell counts as plate.
        min_cells: Blobs of fewer cells are noise.
        max_candidates: At most this many candidates, the surest first.
        threads: ONNX Runtime intra-op threads.
    """

    long_side: int = 960
    threshold: float = 0.5
    min_cells: int = 3
    max_candidates: int = 8
    threads: int = 1


class PlateDetector:
    """Plate candidates from the shipped detector; see the module docstring."""

    def __init__(self, settings: DetectorSettings | None = None, *, path: Path = MODEL_PATH):
        self.settings = settings or DetectorSettings()
        self._session = open_session(path, threads=self.settings.threads)
        self._input = self._session.get_inputs()[0].name

    def probabilities(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
        """The plate map of ``image`` (BGR) and the scale the picture was read at."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or not image.size:
            raise ValueError("the plate detector expects a non-empty BGR uint8 image")
        height, width = image.shape[:2]
        scale = min(2.0, self.settings.long_side / max(height, width))
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        padded_h = -(-h // _MULTIPLE) * _MULTIPLE
        padded_w = -(-w // _MULTIPLE) * _MULTIPLE
        canvas = np.zeros((padded_h, padded_w, 3), np.float32)
        canvas[:h, :w] = resized
        tensor = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None])
        probs = np.asarray(self._session.run(None, {self._input: tensor})[0], np.float32)[0, 0]
        return probs[: -(-h // STRIDE), : -(-w // STRIDE)], scale

    def find(self, image: npt.NDArray[np.uint8]) -> list[PlateCandidate]:
        """Places in ``image`` that hold a plate, the surest first."""
        probs, scale = self.probabilities(image)
        height, width = image.shape[:2]
        mask = (probs >= self.settings.threshold).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        found: list[PlateCandidate] = []
        for k in range(1, count):
            if stats[k, cv2.CC_STAT_AREA] < self.settings.min_cells:
                continue
            ys, xs = np.nonzero(labels == k)
            # Each cell's four corners, so that a blob one cell high still has a height.
            cells = np.stack([xs, ys], axis=1).astype(np.float32)
            steps = np.array([(0, 0), (1, 0), (0, 1), (1, 1)], np.float32)
            points = np.concatenate([cells + step for step in steps]) * np.float32(STRIDE / scale)
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(points)
            if rw < rh:  # OpenCV may report the long side as the height
                rw, rh, angle = rh, rw, angle - 90.0
            angle = (angle + 90.0) % 180.0 - 90.0
            corners = np.asarray(cv2.boxPoints(((cx, cy), (rw, rh), angle)), np.float32)
            score = float(probs[labels == k].mean())
            found.append(padded(corners, angle, score, width, height))
        found.sort(key=lambda c: -c.score)
        return found[: self.settings.max_candidates]
