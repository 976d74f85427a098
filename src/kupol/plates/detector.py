"""kupol's learned plate detector: where the plates of a photo are, as a map, run with onnxruntime.

The model (``models/plate-detector.onnx``, made by ``make plate-detector`` from a seed on this
machine's CPU; recipe in :mod:`kupol.plates.scenes`) gives the probability that each 4 x 4
pixels of a picture belong to a plate. A photo is scaled so that its longer side is
``long_side`` pixels, the map thresholded, and each blob of plate pixels becomes a candidate:
for a plate seen at an angle (one end taller, or the ends leaning; judged on blobs at least
five cells high) the blob's own four corners,
so that the crop undoes the perspective; otherwise its rotated rectangle, padded as the
classical locator pads (:func:`kupol.plates.locate.padded`), with a quad to deskew by when it
is tilted. The reader verifies each candidate as it verifies the locator's
(:class:`kupol.plates.crnn.CrnnPlateReader`).

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
        """The plate map of ``image`` (BGR or grey) and the scale the picture was read at."""
        if image.dtype == np.uint8 and image.ndim == 2 and image.size:
            image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), np.uint8)  # as the locator
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or not image.size:
            raise ValueError("the plate detector expects a non-empty BGR (or grey) uint8 image")
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
            score = float(probs[labels == k].mean())
            # A blob a few cells high is stair-stepped: one cell would pass for perspective.
            tall = stats[k, cv2.CC_STAT_HEIGHT] >= _PERSPECTIVE_CELLS
            seen = _in_perspective(points, score, width, height) if tall else None
            if seen is not None:
                found.append(seen)
                continue
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(points)
            if rw < rh:  # OpenCV may report the long side as the height
                rw, rh, angle = rh, rw, angle - 90.0
            angle = (angle + 90.0) % 180.0 - 90.0
            corners = np.asarray(cv2.boxPoints(((cx, cy), (rw, rh), angle)), np.float32)
            found.append(padded(corners, angle, score, width, height))
        found.sort(key=lambda c: -c.score)
        return found[: self.settings.max_candidates]


_PERSPECTIVE_CELLS = 5  # blobs at least this many cells high are judged for perspective
_UNEVEN = 1.15  # one end this much taller than the other: the plate is seen from the side
_SLANT = 8.0  # degrees the ends lean off square to the top edge: seen at an angle


def _in_perspective(
    points: npt.NDArray[np.float32], score: float, width: int, height: int
) -> PlateCandidate | None:
    """A candidate whose quad is the blob's own four corners, for a plate seen at an angle (one
    end taller, or the ends leaning), so that the crop undoes the perspective a rotated
    rectangle cannot; ``None`` for a plate seen square on (or a blob with no four corners).

    Example:
        >>> trapezoid = np.array([[0, 0], [100, 10], [100, 30], [0, 40]], np.float32)
        >>> found = _in_perspective(trapezoid, 0.9, 200, 100)
        >>> [round(v) for v in found.box], len(found.quad)
        ([0, 0, 104, 45], 4)
        >>> square_on = np.array([[0, 0], [100, 0], [100, 30], [0, 30]], np.float32)
        >>> _in_perspective(square_on, 0.9, 200, 100) is None
        True
    """
    hull = cv2.convexHull(points)
    perimeter = cv2.arcLength(hull, True)
    corners = hull.reshape(-1, 2)
    for share in (0.02, 0.04, 0.06, 0.08, 0.1):
        corners = cv2.approxPolyDP(hull, share * perimeter, True).reshape(-1, 2)
        if len(corners) <= 4:
            break
    if len(corners) != 4:
        return None
    pts = corners.astype(np.float32)
    total, diff = pts.sum(axis=1), pts[:, 1] - pts[:, 0]
    tl, tr, br, bl = (
        pts[total.argmin()],
        pts[diff.argmin()],
        pts[total.argmax()],
        pts[diff.argmax()],
    )
    if len({(float(p[0]), float(p[1])) for p in (tl, tr, br, bl)}) < 4:
        return None
    left, right = float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr))
    top_len, bottom_len = float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl))
    if min(left, right, top_len, bottom_len) < 1e-3:
        return None
    along = (tr - tl) / top_len
    across = np.array([-along[1], along[0]], np.float32)
    side = bl - tl
    slant = abs(float(np.degrees(np.arctan2(float(side @ along), float(side @ across)))))
    if max(left, right) / min(left, right) < _UNEVEN and slant < _SLANT:
        return None
    # Padded as the locator pads: 4 % of the length at each end, 12 % of the height above and
    # below, along the plate's own edges.
    top_dir, bottom_dir = (tr - tl) / top_len, (br - bl) / bottom_len
    left_dir, right_dir = (bl - tl) / left, (br - tr) / right
    grow_x = 0.04 * top_len
    quad = np.array(
        [
            tl - grow_x * top_dir - 0.12 * left * left_dir,
            tr + grow_x * top_dir - 0.12 * right * right_dir,
            br + grow_x * bottom_dir + 0.12 * right * right_dir,
            bl - grow_x * bottom_dir + 0.12 * left * left_dir,
        ],
        np.float32,
    )
    x0, y0 = np.maximum(quad.min(axis=0), 0.0)
    x1, y1 = quad.max(axis=0)
    box = (float(x0), float(y0), min(float(width), float(x1)), min(float(height), float(y1)))
    a, b, c, d = ((float(x), float(y)) for x, y in quad)
    return PlateCandidate(box=box, score=score, quad=(a, b, c, d))
