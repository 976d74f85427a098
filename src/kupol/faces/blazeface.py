"""BlazeFace, MediaPipe's face detector, as MediaPipe decodes it: anchors, boxes, keypoints.

Two models ship in ``kupol/faces/models`` (see README.md there): ``short`` (128 x 128, faces
within about 2 m of the camera, i.e. filling 15-100 % of the picture) and ``full``
(192 x 192, faces up to about 5 m). Both are fully convolutional, so besides their native
square they run on any input whose sides are multiples of 32: a larger input is a dense
sliding window over a bigger picture, which is how kupol finds small faces in large frames
(see :mod:`kupol.faces.detectors`).

The heads give, per anchor, 16 numbers (box centre x, y, width, height and six keypoints
x, y, all in input pixels relative to the anchor's centre) and one logit. MediaPipe's
``SsdAnchorsCalculator`` places the anchors: short range, 2 per cell of the stride-8 grid and
6 per cell of the stride-16 grid; full range, 1 per cell of the stride-4 grid; all of unit
size (``fixed_anchor_size``), so box sizes are the regressed values themselves.

The keypoints, in the subject's terms: right eye, left eye, nose tip, mouth centre, right
ear tragion, left ear tragion.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.vision.detections import box_iou
from kupol.vision.detectors.base import Letterbox

MODELS = Path(__file__).resolve().parent / "models"
KEYPOINTS = 6
ALIGN = 32
"""Input sides are multiples of this (the full-range model's coarsest feature map)."""


@dataclass(frozen=True, kw_only=True)
class BlazeFaceModel:
    """One BlazeFace variant: its file, native input and anchor layout."""

    name: str
    file: str
    size: int
    """Native square input side in pixels."""
    grids: tuple[tuple[int, int], ...]
    """(stride, anchors per cell) of each output grid, in output order."""
    min_score: float
    """Default candidate threshold (see the figures in :mod:`kupol.faces.detectors`)."""
    dlib_box: tuple[float, float]
    """Shift down (share of the height) and scale that turn the model's box into the box
    dlib's HOG detector draws around the same face (measured: mean over 103 photos)."""

    @property
    def path(self) -> Path:
        """The shipped ONNX file."""
        return MODELS / self.file


MODELS_BY_NAME = {
    "short": BlazeFaceModel(
        name="short",
        file="blazeface-short.onnx",
        size=128,
        grids=((8, 2), (16, 6)),
        min_score=0.65,
        dlib_box=(-0.018, 0.966),
    ),
    "full": BlazeFaceModel(
        name="full",
        file="blazeface-full.onnx",
        size=192,
        grids=((4, 1),),
        min_score=0.6,
        dlib_box=(0.023, 0.911),
    ),
}


@functools.cache
def anchor_centres(model: str, width: int, height: int) -> NDArray[np.float32]:
    """Centres (n, 2) of ``model``'s anchors over a ``width`` x ``height`` input, in input
    pixels, in the order of the model's outputs (grid by grid, row by row, anchor by anchor).

    Example:
        >>> anchor_centres("short", 128, 128).shape
        (896, 2)
        >>> anchor_centres("full", 192, 192)[:2].tolist()
        [[2.0, 2.0], [6.0, 2.0]]
    """
    centres = []
    for stride, per_cell in MODELS_BY_NAME[model].grids:
        ys, xs = np.mgrid[0 : height // stride, 0 : width // stride]
        cells = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def preprocess(image: NDArray[np.uint8], letterbox: Letterbox) -> NDArray[np.float32]:
    """The model input (1, H, W, 3): ``image`` (BGR) letterboxed, RGB, scaled to [-1, 1].

    Example:
        >>> box = Letterbox.fit(width=640, height=360, size=128)
        >>> tensor = preprocess(np.zeros((360, 640, 3), np.uint8), box)
        >>> tensor.shape, box.pad_y, float(tensor.min())
        ((1, 128, 128, 3), 28.0, -1.0)
    """
    rgb = cv2.cvtColor(letterbox.apply(image, fill=0), cv2.COLOR_BGR2RGB)
    tensor = rgb.astype(np.float32)
    tensor *= np.float32(1 / 127.5)
    tensor -= np.float32(1.0)
    return tensor[None]


def shrunk(letterbox: Letterbox, factor: float) -> Letterbox:
    """``letterbox`` with the picture ``factor`` times as large, still centred.

    Example:
        >>> box = shrunk(Letterbox.fit(width=100, height=100, size=128), 0.5)
        >>> box.scale, box.pad_x, box.pad_y
        (0.64, 32.0, 32.0)
    """
    scale = letterbox.scale * factor
    new_w, new_h = round(letterbox.width * scale), round(letterbox.height * scale)
    return Letterbox(
        scale=scale,
        pad_x=float((letterbox.input_width - new_w) // 2),
        pad_y=float((letterbox.input_height - new_h) // 2),
        width=letterbox.width,
        height=letterbox.height,
        input_width=letterbox.input_width,
        input_height=letterbox.input_height,
    )


def decode(
    raw: NDArray[np.float32],
    logits: NDArray[np.float32],
    anchors: NDArray[np.float32],
    *,
    min_score: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Boxes (n, 4) ``x1, y1, x2, y2``, scores (n,) and keypoints (n, 6, 2), input pixels,
    of the anchors scoring at least ``min_score``.

    ``raw`` is the (anchors, 16) regression output, ``logits`` the (anchors,) score output.

    Example:
        >>> raw = np.zeros((2, 16), np.float32); raw[1, :4] = [1, 2, 10, 20]
        >>> boxes, scores, points = decode(raw, np.array([-9.0, 2.0], np.float32),
        ...                                np.array([[4, 4], [8, 8]], np.float32), min_score=0.5)
        >>> boxes.tolist(), [round(float(s), 3) for s in scores], points[0, 0].tolist()
        ([[4.0, 0.0, 14.0, 20.0]], [0.881], [8.0, 8.0])
    """
    # sigmoid(logit) >= min_score, decided on the logits: only the hits need their sigmoid
    hits = np.flatnonzero(logits >= math.log(min_score / (1.0 - min_score)))
    scores = 1.0 / (1.0 + np.exp(-logits[hits].astype(np.float64)))
    raw, centre = raw[hits], anchors[hits]
    middle = raw[:, :2] + centre
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([middle - half, middle + half], axis=1)
    points = raw[:, 4 : 4 + 2 * KEYPOINTS].reshape(-1, KEYPOINTS, 2) + centre[:, None, :]
    return boxes.astype(np.float32), scores.astype(np.float32), points.astype(np.float32)


def to_dlib_box(
    boxes: NDArray[np.float32], shift_scale: tuple[float, float]
) -> NDArray[np.float32]:
    """``boxes`` (n, 4) moved down by ``shift`` of their height and scaled about their centre.

    Example:
        >>> to_dlib_box(np.array([[0, 0, 100, 100]], np.float32), (0.1, 0.5)).tolist()
        [[25.0, 35.0, 75.0, 85.0]]
    """
    shift, scale = shift_scale
    size = boxes[:, 2:] - boxes[:, :2]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + np.stack([0 * size[:, 1], shift * size[:, 1]], 1)
    half = size * np.float32(scale / 2)
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def weighted_nms(
    boxes: NDArray[np.float32],
    scores: NDArray[np.float32],
    points: NDArray[np.float32],
    *,
    iou_threshold: float = 0.3,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """MediaPipe's weighted non-maximum suppression, best first.

    The best remaining candidate absorbs every one overlapping it by more than
    ``iou_threshold``; the face is their score-weighted mean box and keypoints, with the best
    candidate's score.

    Example:
        >>> boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
        >>> points = np.zeros((3, 6, 2), np.float32)
        >>> kept, scores, _ = weighted_nms(boxes, np.array([0.9, 0.9, 0.8], np.float32), points)
        >>> kept.tolist(), [round(float(s), 2) for s in scores]
        ([[1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 60.0, 60.0]], [0.9, 0.8])
    """
    order = np.argsort(-scores, kind="stable")
    kept_boxes, kept_scores, kept_points = [], [], []
    while len(order):
        best = order[0]
        overlap = box_iou(boxes[best : best + 1], boxes[order])[0]
        group = order[overlap > iou_threshold]
        group = group if len(group) else order[:1]
        weights = scores[group] / scores[group].sum()
        kept_boxes.append(weights @ boxes[group])
        kept_points.append(np.tensordot(weights, points[group], axes=1))
        kept_scores.append(scores[best])
        order = order[overlap <= iou_threshold]
        order = order[order != best]
    if not kept_boxes:
        return boxes[:0], scores[:0], points[:0]
    return (
        np.asarray(kept_boxes, np.float32),
        np.asarray(kept_scores, np.float32),
        np.asarray(kept_points, np.float32),
    )
