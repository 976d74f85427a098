"""What every object detector plug-in shares: the protocol, the configs, letterboxing, sessions.

A detector turns one analysed frame (BGR ``uint8``, H x W x 3) into :class:`Detections` in
that frame's pixels. Plug-ins are chosen by the ``type`` key of their config, Frigate style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kupol.core.errors import ConfigError
from kupol.vision.detections import COCO_CLASSES, Detections, nms

MAX_CANDIDATES = 1000
"""Boxes kept for non-maximum suppression, best first (its cost grows with their square)."""
MAX_DETECTIONS = 100
"""Objects reported per frame at most."""


class Detector(Protocol):
    """Finds objects in one frame."""

    @property
    def names(self) -> Sequence[str]:
        """Class names, indexed by the ``class_id`` the detector returns."""
        ...

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """The objects in ``image`` (BGR ``uint8``, H x W x 3), boxes in its pixels."""
        ...


class _DetectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(
        0.35, ge=0.0, le=1.0, description="Objects scored below this are dropped."
    )
    iou_threshold: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Non-maximum suppression: a box overlapping a better one of its class by "
        "more than this intersection-over-union is dropped.",
    )
    threads: int = Field(
        1, ge=1, le=64, description="CPU threads one inference may use (ONNX Runtime intra-op)."
    )
    classes: list[str] | None = Field(
        None,
        min_length=1,
        description="Report only these class names (e.g. [person, car]); all when unset.",
    )


class NanoDetConfig(_DetectorConfig):
    """The built-in offline COCO detector: NanoDet-g (416 px on its long side), shipped."""

    type: Literal["nanodet"] = Field("nanodet", description="The built-in NanoDet-g detector.")
    precision: Literal["float", "int8"] = Field(
        "float",
        description="float: the published weights (float16 stored, float32 computed); int8: "
        "the statically quantised variant shipped beside it, about twice as fast on the CPU "
        "but finding somewhat different objects (see the models' PROVENANCE.md).",
    )
    input_size: int = Field(
        416,
        ge=160,
        le=640,
        multiple_of=32,
        description="The model input's longer side in pixels (the model was trained at 416). "
        "320 costs about 0.6 of 416 and finds fewer small, far objects: for cameras whose "
        "objects are large in the picture (enforcement cameras near the stop line).",
    )

    @field_validator("classes")
    @classmethod
    def _classes_are_coco(cls, classes: list[str] | None) -> list[str] | None:
        unknown = sorted(set(classes or ()) - set(COCO_CLASSES))
        if unknown:
            raise ValueError(f"not COCO class names: {', '.join(unknown)}")
        return classes


class OnnxYoloConfig(_DetectorConfig):
    """An operator-supplied YOLO-family ONNX model (YOLOv5/v7/v8/v11, or exported with NMS)."""

    type: Literal["onnx-yolo"] = Field(
        "onnx-yolo", description="A YOLO-family model in an ONNX file."
    )
    path: Path = Field(description="The .onnx file.")
    input_size: int = Field(
        640,
        ge=32,
        le=4096,
        description="Square input side in pixels; the model's own wins when its input is fixed.",
    )
    names: list[str] | None = Field(
        None,
        min_length=1,
        description="Class names by index; default: the model's `names` metadata, else COCO.",
    )
    output_layout: Literal["auto", "yolov5", "yolov8", "nms"] = Field(
        "auto",
        description="auto: from the output's shape and the number of names; yolov5: (1, N, 5+C) "
        "with objectness (also v7); yolov8: (1, 4+C, N) (also v11); nms: (1, N, 6) rows of "
        "x1, y1, x2, y2, score, class from a model exported with NMS.",
    )


@dataclass(frozen=True, kw_only=True)
class Letterbox:
    """How an image was scaled and padded into a model input of ``input_width`` x ``input_height``.

    ``model = original * scale + (pad_x, pad_y)``.

    Example:
        >>> import numpy as np
        >>> box = Letterbox.fit(width=640, height=360, size=416)
        >>> box.scale, box.pad_x, box.pad_y
        (0.65, 0.0, 91.0)
        >>> box.to_original(np.array([[0, 91, 416, 325]], np.float32)).tolist()
        [[0.0, 0.0, 640.0, 360.0]]
        >>> wide = Letterbox.fit(width=640, height=360, input_width=416, input_height=256)
        >>> wide.scale, wide.pad_x, wide.pad_y
        (0.65, 0.0, 11.0)
    """

    scale: float
    pad_x: float
    pad_y: float
    width: int
    """Original image width in pixels."""
    height: int
    """Original image height in pixels."""
    input_width: int
    """Model input width in pixels."""
    input_height: int
    """Model input height in pixels."""

    @classmethod
    def fit(
        cls,
        *,
        width: int,
        height: int,
        size: int | None = None,
        input_width: int | None = None,
        input_height: int | None = None,
    ) -> Letterbox:
        """The largest scale that fits the image in the model input, centred on padding.

        The input is ``size`` x ``size``, or ``input_width`` x ``input_height`` when given.
        """
        input_width = input_width or size
        input_height = input_height or size
        if input_width is None or input_height is None:
            raise ValueError("Letterbox.fit needs size, or input_width and input_height")
        scale = min(input_width / width, input_height / height)
        new_w, new_h = round(width * scale), round(height * scale)
        return cls(
            scale=scale,
            pad_x=float((input_width - new_w) // 2),
            pad_y=float((input_height - new_h) // 2),
            width=width,
            height=height,
            input_width=input_width,
            input_height=input_height,
        )

    def apply(self, image: NDArray[np.uint8], *, fill: int) -> NDArray[np.uint8]:
        """``image`` resized and padded with ``fill`` to the model's input."""
        new_w = round(self.width * self.scale)
        new_h = round(self.height * self.scale)
        canvas = np.full((self.input_height, self.input_width, image.shape[2]), fill, np.uint8)
        x, y = int(self.pad_x), int(self.pad_y)
        interpolation = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR
        canvas[y : y + new_h, x : x + new_w] = cv2.resize(
            image, (new_w, new_h), interpolation=interpolation
        )
        return canvas

    def to_original(self, xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
        """Boxes in model-input pixels mapped back to the original image, clipped to it."""
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        boxes = (xyxy.astype(np.float32) - pad) / np.float32(self.scale)
        limit = np.array([self.width, self.height, self.width, self.height], np.float32)
        mapped: NDArray[np.float32] = np.clip(boxes, 0, limit).astype(np.float32)
        return mapped


def open_session(path: Path, *, threads: int) -> ort.InferenceSession:
    """An ONNX Runtime CPU session for ``path``; :class:`ConfigError` when it cannot load.

    Sequential execution with ``threads`` intra-op threads, so several cameras' detectors
    share the CPU predictably.
    """
    if not path.is_file():
        raise ConfigError(f"detector model file {path} does not exist")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ONNX Runtime raises bare RuntimeError subclasses for bad files
        raise ConfigError(
            f"detector model file {path} is not a loadable ONNX model: {exc}"
        ) from exc


def class_filter(classes: Sequence[str] | None, names: Sequence[str]) -> NDArray[np.bool_] | None:
    """A mask over ``names`` of the classes to report, or ``None`` for all.

    Raises :class:`ConfigError` for a class the model does not know.

    Example:
        >>> class_filter(["car"], ["person", "bicycle", "car"]).tolist()
        [False, False, True]
    """
    if classes is None:
        return None
    unknown = sorted(set(classes) - set(names))
    if unknown:
        raise ConfigError(f"the detector has no classes named {', '.join(unknown)}")
    return np.isin(np.asarray(names, dtype=object), list(classes))


def suppress(
    xyxy: NDArray[np.float32],
    scores: NDArray[np.float32],
    class_id: NDArray[np.int32],
    *,
    letterbox: Letterbox,
    iou_threshold: float,
) -> Detections:
    """Per-class non-maximum suppression of candidate boxes in model-input pixels, then the
    survivors (best first) in the original image's pixels.

    Example:
        >>> import numpy as np
        >>> box = Letterbox.fit(width=832, height=832, size=416)
        >>> found = suppress(
        ...     np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32),
        ...     np.array([0.5, 0.9], np.float32),
        ...     np.array([0, 0], np.int32),
        ...     letterbox=box,
        ...     iou_threshold=0.5,
        ... )
        >>> found.xyxy.tolist()  # the better box, twice as large in the original
        [[2.0, 2.0, 20.0, 20.0]]
    """
    best = np.argsort(-scores, kind="stable")[:MAX_CANDIDATES]
    xyxy, scores, class_id = xyxy[best], scores[best], class_id[best]
    keep = nms(xyxy, scores, class_id, iou_threshold=iou_threshold)[:MAX_DETECTIONS]
    return Detections(
        xyxy=letterbox.to_original(xyxy[keep]),
        confidence=scores[keep],
        class_id=class_id[keep],
    )


class ScriptedConfig(BaseModel):
    """No model: the road users of kupol's simulated intersection (the traffic demo and its
    tests), read from the script at each frame's time. Only for the clip the simulation
    writes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["scripted"] = Field("scripted", description="The simulation's truth.")
    scenario: Literal["intersection"] = Field("intersection", description="Which script.")
