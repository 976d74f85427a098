"""Operator-supplied YOLO-family ONNX models (YOLOv5/v7, YOLOv8/v11, or exported with NMS).

The output layout is recognised from the first output's shape (see :func:`output_layout`);
the input is the image letterboxed to a square (grey padding), RGB, scaled to 0..1, NCHW.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from kupol.core.errors import ConfigError
from kupol.vision.detections import COCO_CLASSES, Detections
from kupol.vision.detectors.base import (
    Letterbox,
    OnnxYoloConfig,
    class_filter,
    open_session,
    suppress,
)

LayoutKind = Literal["yolov5", "yolov8", "nms"]
PAD_GREY = 114
_Candidates = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]


@dataclass(frozen=True, kw_only=True)
class OutputLayout:
    """How to read a YOLO model's output tensor."""

    kind: LayoutKind
    channels_first: bool
    """Rows are the tensor's last axis: (1, values, boxes), as YOLOv8 exports it."""
    num_classes: int | None
    """Classes scored per box; ``None`` for NMS output, which names one class per row."""


def output_layout(
    shape: Sequence[int], *, num_names: int, hint: str = "auto"
) -> OutputLayout | None:
    """The layout of a (1, a, b) output, or ``None`` when it is none kupol knows.

    Boxes outnumber values per box, which tells (1, 4+C, N) from (1, N, 5+C). A last axis of 6
    is NMS output unless ``num_names`` says one class with objectness (YOLOv5) or two without
    (YOLOv8, transposed); ``hint`` settles it when both could be true.

    Example:
        >>> output_layout((1, 84, 8400), num_names=80).kind
        'yolov8'
        >>> output_layout((1, 25200, 85), num_names=80).kind
        'yolov5'
        >>> output_layout((1, 300, 6), num_names=80).kind
        'nms'
    """
    if len(shape) != 3 or shape[0] != 1:
        return None
    _, a, b = shape
    channels_first = a < b
    values = a if channels_first else b
    guesses: list[OutputLayout] = []
    if not channels_first and values == 6:
        guesses.append(OutputLayout(kind="nms", channels_first=False, num_classes=None))
    if values > 5 and not channels_first:
        guesses.append(OutputLayout(kind="yolov5", channels_first=False, num_classes=values - 5))
    if values > 4:
        guesses.append(
            OutputLayout(kind="yolov8", channels_first=channels_first, num_classes=values - 4)
        )
    if hint != "auto":
        return next((g for g in guesses if g.kind == hint), None)
    if channels_first:
        return guesses[0] if guesses else None
    matching = [g for g in guesses if g.num_classes == num_names]
    if values == 6 and not matching:
        return guesses[0]  # NMS output
    return matching[0] if len(matching) == 1 else None


def metadata_names(session: ort.InferenceSession) -> list[str] | None:
    """Class names from the model's ``names`` metadata (Ultralytics writes a dict's repr)."""
    raw = session.get_modelmeta().custom_metadata_map.get("names")
    return None if raw is None else metadata_names_from(raw)


def metadata_names_from(raw: str) -> list[str]:
    """Names from the text of a ``names`` metadata entry: a dict by index, or a list.

    Example:
        >>> metadata_names_from("{0: 'person', 1: 'bicycle'}")
        ['person', 'bicycle']
    """
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, dict) and all(isinstance(k, int) for k in value):
        return [str(value[k]) for k in sorted(value)]
    if isinstance(value, list | tuple) and value:
        return [str(v) for v in value]
    raise ConfigError(f"the model's `names` metadata is unreadable ({raw[:60]!r}): set `names`")


class OnnxYoloDetector:
    """A YOLO-family ONNX model on the CPU.

    Raises :class:`ConfigError` when the file is missing or not ONNX, the output layout is
    unknown, or the class names do not match the model.
    """

    def __init__(self, config: OnnxYoloConfig) -> None:
        self._config = config
        self._session = open_session(config.path, threads=config.threads)
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        self._input_type = np.float16 if model_input.type == "tensor(float16)" else np.float32
        self._size = self._input_size(model_input.shape)
        self._output = self._session.get_outputs()[0].name
        self._names: tuple[str, ...] = tuple(
            config.names or metadata_names(self._session) or COCO_CLASSES
        )
        self._layout: OutputLayout | None = None
        # A named batch axis is 1 here; other named axes wait for the first frame.
        declared = self._session.get_outputs()[0].shape
        shape = [1 if i == 0 and not isinstance(d, int) else d for i, d in enumerate(declared)]
        if all(isinstance(d, int) for d in shape):
            self._layout = self._resolve(shape)
        self._wanted = class_filter(config.classes, self._names)

    @property
    def names(self) -> tuple[str, ...]:
        """The model's class names, by class id."""
        return self._names

    def _input_size(self, shape: Sequence[int | str | None]) -> int:
        height, width = (shape[2], shape[3]) if len(shape) == 4 else (None, None)
        if isinstance(height, int) and isinstance(width, int):
            if height != width:
                raise ConfigError(f"{self._config.path}: only square inputs, not {height}x{width}")
            return height
        return self._config.input_size

    def _resolve(self, shape: Sequence[int]) -> OutputLayout:
        layout = output_layout(shape, num_names=len(self._names), hint=self._config.output_layout)
        if layout is None:
            raise ConfigError(
                f"{self._config.path}: output shape {tuple(shape)} with {len(self._names)} class "
                "names is not a YOLO layout kupol knows ((1, N, 5+C) YOLOv5/v7, (1, 4+C, N) "
                "YOLOv8/v11, (1, N, 6) exported with NMS); set `names` or `output_layout`"
            )
        if layout.num_classes is not None and layout.num_classes != len(self._names):
            raise ConfigError(
                f"{self._config.path}: the model scores {layout.num_classes} classes but "
                f"{len(self._names)} names are known; set `names`"
            )
        return layout

    def preprocess(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.generic], Letterbox]:
        """The model input for a BGR image, and how the image was fitted into it."""
        letterbox = Letterbox.fit(width=image.shape[1], height=image.shape[0], size=self._size)
        planes = letterbox.apply(image, fill=PAD_GREY)[:, :, ::-1].transpose(2, 0, 1)
        tensor = np.ascontiguousarray(planes, dtype=np.float32)
        tensor *= np.float32(1 / 255)
        return tensor[None].astype(self._input_type, copy=False), letterbox

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """The objects in ``image`` (BGR ``uint8``, H x W x 3), boxes in its pixels."""
        tensor, letterbox = self.preprocess(image)
        (output,) = self._session.run([self._output], {self._input: tensor})
        output = np.asarray(output, np.float32)
        layout = self._layout or self._resolve(output.shape)
        rows = output[0].T if layout.channels_first else output[0]
        if layout.kind == "nms":
            xyxy, scores, class_id = self._nms_rows(rows)
        else:
            xyxy, scores, class_id = self._scored_rows(rows, objectness=layout.kind == "yolov5")
        return suppress(
            np.clip(xyxy, 0, self._size).astype(np.float32),
            scores.astype(np.float32),
            class_id,
            letterbox=letterbox,
            iou_threshold=self._config.iou_threshold,
        )

    def _nms_rows(self, rows: NDArray[np.float32]) -> _Candidates:
        """Rows of x1, y1, x2, y2, score, class above the confidence, of the wanted classes."""
        scores = rows[:, 4]
        class_id = rows[:, 5].round().astype(np.int32)
        keep = scores >= self._config.min_confidence
        if self._wanted is not None:
            known = (class_id >= 0) & (class_id < len(self._wanted))
            keep &= known & self._wanted[np.where(known, class_id, 0)]
        return rows[keep, :4], scores[keep], class_id[keep]

    def _scored_rows(self, rows: NDArray[np.float32], *, objectness: bool) -> _Candidates:
        """Rows of cx, cy, w, h, [objectness,] class scores: each box's best wanted class."""
        class_scores = rows[:, 5:] * rows[:, 4:5] if objectness else rows[:, 4:]
        if self._wanted is not None:
            class_scores = np.where(self._wanted, class_scores, -1.0)
        class_id = class_scores.argmax(axis=1).astype(np.int32)
        scores = class_scores[np.arange(len(rows)), class_id]
        keep = scores >= self._config.min_confidence
        centre, size = rows[keep, :2], rows[keep, 2:4]
        xyxy = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        return xyxy, scores[keep], class_id[keep]
