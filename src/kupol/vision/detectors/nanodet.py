"""The built-in offline COCO detector: NanoDet-g (416, COCO mAP 22.9) on ONNX Runtime.

The model ships in ``kupol/vision/models`` (see PROVENANCE.md there), with an INT8 variant
(``NanoDetConfig.precision``). Its input size is dynamic: a frame is letterboxed to 416 on its
longer side and the shorter side rounded up to a multiple of 32 (a 640 x 360 frame to 416 x 256,
not 416 x 416 with 44 % padding). Its head is NanoDet's GFL head: for each of the strides 8, 16
and 32 it gives, per grid cell, 80 class scores (already through a sigmoid) and for each side of
the box (left, top, right, bottom) logits over the distances 0..10 strides; the distance is the
softmax's expectation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import ConfigError
from kupol.vision.detections import COCO_CLASSES, Detections
from kupol.vision.detectors.base import (
    Letterbox,
    NanoDetConfig,
    class_filter,
    open_session,
    suppress,
)

MODELS = Path(__file__).resolve().parent.parent / "models"
MODEL_PATH = MODELS / "nanodet-g-416.onnx"
INT8_MODEL_PATH = MODELS / "nanodet-g-416-int8.onnx"
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
REG_MAX = 10
# NanoDet's training normalisation, in BGR order (OpenCV's channel order).
MEAN = np.array([103.53, 116.28, 123.675], np.float32)
STD = np.array([57.375, 57.12, 58.395], np.float32)
_INV_STD = (1 / STD).astype(np.float32)


def input_size(width: int, height: int, *, size: int = INPUT_SIZE) -> tuple[int, int]:
    """The model input (width, height) for a ``width`` x ``height`` image: ``size`` on the
    longer side, the shorter one scaled alike and rounded up to a multiple of the largest
    stride.

    Example:
        >>> input_size(640, 360), input_size(360, 640), input_size(640, 480), input_size(50, 50)
        ((416, 256), (256, 416), (416, 320), (416, 416))
    """
    stride = STRIDES[-1]
    scale = size / max(width, height)

    def fit(side: int) -> int:
        return max(stride, -(-round(side * scale) // stride) * stride)

    return (size, fit(height)) if width >= height else (fit(width), size)


def preprocess(
    image: NDArray[np.uint8], *, shape: tuple[int, int] | None = None
) -> tuple[NDArray[np.float32], Letterbox]:
    """The model input (1, 3, H, W) for a BGR image, and how the image was fitted into it.

    The input is ``shape`` (width, height) when given, else :func:`input_size`'s.

    Example:
        >>> import numpy as np
        >>> tensor, box = preprocess(np.zeros((360, 640, 3), np.uint8))
        >>> tensor.shape, box.pad_y
        ((1, 3, 256, 416), 11.0)
        >>> tensor, box = preprocess(np.zeros((360, 640, 3), np.uint8), shape=(416, 416))
        >>> tensor.shape, box.pad_y
        ((1, 3, 416, 416), 91.0)
    """
    height, width = image.shape[:2]
    input_width, input_height = shape or input_size(width, height)
    letterbox = Letterbox.fit(
        width=width, height=height, input_width=input_width, input_height=input_height
    )
    planes = letterbox.apply(image, fill=0).transpose(2, 0, 1)
    tensor = np.ascontiguousarray(planes, dtype=np.float32)
    tensor -= MEAN[:, None, None]
    tensor *= _INV_STD[:, None, None]  # in place: a third of the time of (x - mean) / std
    return tensor[None], letterbox


@functools.cache
def grid_centers(
    stride: int, width: int = INPUT_SIZE, height: int | None = None
) -> NDArray[np.float32]:
    """Centres (n, 2) of the cells of one stride's grid over a ``width`` x ``height`` input
    (square when ``height`` is not given), row by row, in input pixels.

    Example:
        >>> grid_centers(208).tolist()
        [[104.0, 104.0], [312.0, 104.0], [104.0, 312.0], [312.0, 312.0]]
        >>> grid_centers(128, 256, 128).tolist()
        [[64.0, 64.0], [192.0, 64.0]]
    """
    rows, columns = (width if height is None else height) // stride, width // stride
    ys, xs = np.mgrid[0:rows, 0:columns]
    centers = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride
    return centers.astype(np.float32)


def distances(logits: NDArray[np.float32], stride: int) -> NDArray[np.float32]:
    """Box side distances (n, 4) in pixels from GFL distribution logits (n, 4 * 11).

    Example:
        >>> import numpy as np
        >>> sharp = np.full((1, 44), -50.0, np.float32); sharp[0, [2, 11 + 3, 22, 33 + 10]] = 50
        >>> distances(sharp, 8).round(3).tolist()
        [[16.0, 24.0, 0.0, 80.0]]
    """
    bins = logits.reshape(-1, 4, REG_MAX + 1)
    bins = np.exp(bins - bins.max(axis=2, keepdims=True))
    bins /= bins.sum(axis=2, keepdims=True)
    expected: NDArray[np.float32] = bins @ np.arange(REG_MAX + 1, dtype=np.float32)
    return (expected * np.float32(stride)).astype(np.float32)


def decode(
    head: Mapping[int, tuple[NDArray[np.float32], NDArray[np.float32]]],
    *,
    min_confidence: float,
    wanted: NDArray[np.bool_] | None = None,
    width: int = INPUT_SIZE,
    height: int = INPUT_SIZE,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """Candidate boxes (model-input pixels), scores and class ids from the GFL head.

    ``head`` maps each stride to its class scores (cells, 80) and distribution logits
    (cells, 44), cells row by row over a ``width`` x ``height`` input. Every (cell, class)
    scored at least ``min_confidence`` is a candidate, of the ``wanted`` classes only when
    given; boxes are clipped to the input.

    Example:
        >>> import numpy as np
        >>> scores = np.zeros((4, 80), np.float32); scores[3, 2] = 0.8
        >>> logits = np.full((4, 44), -50.0, np.float32); logits[3, [1, 12, 23, 34]] = 50
        >>> xyxy, score, class_id = decode({208: (scores, logits)}, min_confidence=0.5)
        >>> xyxy.tolist(), class_id.tolist()
        ([[104.0, 104.0, 416.0, 416.0]], [2])
    """
    boxes, scores, class_ids = [], [], []
    for stride, (level_scores, logits) in head.items():
        hits = level_scores >= min_confidence
        if wanted is not None:
            hits &= wanted
        cell, class_id = np.nonzero(hits)
        centre = grid_centers(stride, width, height)[cell]
        side = distances(logits[cell], stride)
        boxes.append(np.concatenate([centre - side[:, :2], centre + side[:, 2:]], axis=1))
        scores.append(level_scores[cell, class_id])
        class_ids.append(class_id)
    limit = np.array([width, height, width, height], np.float32)
    xyxy = np.clip(np.concatenate(boxes), 0, limit).astype(np.float32)
    return (
        xyxy,
        np.concatenate(scores).astype(np.float32),
        np.concatenate(class_ids).astype(np.int32),
    )


def model_path(precision: str) -> Path:
    """The shipped model file for ``precision`` ("float" or "int8").

    Example:
        >>> model_path("int8").name
        'nanodet-g-416-int8.onnx'
    """
    return INT8_MODEL_PATH if precision == "int8" else MODEL_PATH


class NanoDetDetector:
    """NanoDet-g on the CPU.

    A 640 x 360 frame (input 416 x 256) takes about 32 ms of CPU with one thread on a busy
    2-core development VM, against 53 ms letterboxed square into 416 x 416 (44 % padding).
    With ``precision="int8"`` the statically quantised model beside it takes 13-16 ms against
    the float model's 28-30 ms and finds 91 % of its objects (all of its people) on kupol's
    sample clips; ``path`` overrides the file either way.

    Example:
        >>> import numpy as np
        >>> detector = NanoDetDetector(NanoDetConfig(classes=["person"]))
        >>> len(detector.detect(np.zeros((360, 640, 3), np.uint8)))
        0
    """

    def __init__(self, config: NanoDetConfig | None = None, *, path: Path | None = None) -> None:
        self._config = config or NanoDetConfig()
        if path is None:
            path = model_path(self._config.precision)
        self._session = open_session(path, threads=self._config.threads)
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        height, width = [*model_input.shape[2:], None, None][:2]
        # A model with a fixed input size (older kupol builds: 416 x 416) gets exactly that.
        self._fixed = (
            (width, height) if isinstance(width, int) and isinstance(height, int) else None
        )
        self._outputs = self._find_outputs(path)
        self._wanted = class_filter(self._config.classes, COCO_CLASSES)

    @property
    def names(self) -> tuple[str, ...]:
        """COCO's 80 class names."""
        return COCO_CLASSES

    def _find_outputs(self, path: Path) -> dict[int, tuple[str, str]]:
        # Outputs are told apart by channel count, not name: per stride (1, cells, 80) class
        # scores and (1, cells, 44) distribution logits; the finer the stride, the more cells.
        # Cell counts may be symbolic, so they are read from one small probe inference.
        outputs = self._session.get_outputs()
        width, height = self._fixed or (2 * STRIDES[-1], 3 * STRIDES[-1])
        probe = np.zeros((1, 3, height, width), np.float32)
        try:
            values = self._session.run([o.name for o in outputs], {self._input: probe})
        except Exception as exc:  # ONNX Runtime raises bare RuntimeError subclasses
            raise ConfigError(f"{path} is not a NanoDet-g model: {exc}") from exc
        found: dict[int, list[tuple[int, str]]] = {len(COCO_CLASSES): [], 4 * (REG_MAX + 1): []}
        for output, value in zip(outputs, values, strict=True):
            if value.ndim == 3 and value.shape[2] in found:
                found[value.shape[2]].append((value.shape[1], output.name))
        scores = sorted(found[len(COCO_CLASSES)], reverse=True)
        logits = sorted(found[4 * (REG_MAX + 1)], reverse=True)
        expected = [(height // s) * (width // s) for s in STRIDES]
        if [n for n, _ in scores] != expected or [n for n, _ in logits] != expected:
            raise ConfigError(f"{path} is not a NanoDet-g model (no head for strides {STRIDES})")
        return {s: (a, b) for s, (_, a), (_, b) in zip(STRIDES, scores, logits, strict=True)}

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """The COCO objects in ``image`` (BGR ``uint8``, H x W x 3), boxes in its pixels."""
        height, width = image.shape[:2]
        shape = self._fixed or input_size(width, height, size=self._config.input_size)
        tensor, letterbox = preprocess(image, shape=shape)
        names = [name for pair in self._outputs.values() for name in pair]
        values = iter(self._session.run(names, {self._input: tensor}))
        head = {stride: (next(values)[0], next(values)[0]) for stride in self._outputs}
        xyxy, scores, class_id = decode(
            head,
            min_confidence=self._config.min_confidence,
            wanted=self._wanted,
            width=letterbox.input_width,
            height=letterbox.input_height,
        )
        return suppress(
            xyxy,
            scores,
            class_id,
            letterbox=letterbox,
            iou_threshold=self._config.iou_threshold,
        )
