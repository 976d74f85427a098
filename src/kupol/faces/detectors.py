"""Face detectors: BlazeFace on ONNX Runtime (default) and dlib's HOG, chosen by ``type``.

Both take a BGR picture of any size and give :class:`FaceBox` es in its pixels, best first,
boxes drawn as dlib's HOG detector draws them (brows to chin), so face sizes, the 5-point
landmark model and the quality thresholds behave the same whichever detector found the face.

The default is **BlazeFace short range with kupol's pyramid** (``BlazeFaceConfig()``), chosen
by ``bench/face_detectors.py`` on ``../shared/data/faces`` (2-core development VM, one
thread, 2026-11-25; details in ``docs/faces-performance.md``):

- photos: it finds a face in every picture, like dlib's HOG: deepface 64/64, face_recognition
  examples 14/14, AT&T 300/300 (BlazeFace full range: 299/300 even with the zoomed-out level);
- small faces in 1280 x 720 frames (real faces scaled down onto a street scene): all faces
  from 32 px wide, 62 % at 24 px, 21-24 ms per frame; HOG at upsample 0 finds none below
  56 px (58 ms), at upsample 1 all from 32 px but takes 230-260 ms; BlazeFace full range with
  the same pyramid finds 96 % at 24 px but takes 46-66 ms;
- a handful of false faces: 4 on ~550 faces' frames; on the photos its 7 false boxes (a logo,
  blurred backgrounds) scored 0.65-0.76 and its 385 real faces 0.808 or more, hence the face
  engine's default floor of 0.78 for analysis (``FaceEngineConfig.min_score``);
- identification on AT&T through the face engine: rank-1 1.000 (HOG 1.000; full range 0.953,
  its scores on faces filling the picture falling under the engine's floor).

dlib's HOG stays for what it does well (frontal faces above 80 px, no false faces, no ONNX).
"""

from __future__ import annotations

import math
import threading
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from kupol.faces.blazeface import (
    ALIGN,
    MODELS_BY_NAME,
    anchor_centres,
    decode,
    preprocess,
    shrunk,
    to_dlib_box,
    weighted_nms,
)
from kupol.faces.types import FaceBox, FaceDetector, Image
from kupol.vision.detectors.base import Letterbox, open_session

ZOOM_OUT = 0.5
"""The picture is also run at half the native scale: faces filling it (close-ups, mugshots)
are larger than the models were trained on (the full-range model found 248 of the 300 AT&T
faces without this level, 299 with it)."""
MIN_INPUT_FACE = {"short": 20.0, "full": 26.0}
"""Smallest face side (input pixels) each BlazeFace model finds reliably (measured)."""
HOG_AT_THRESHOLD = 0.25
"""dlib HOG score = 1 / (1 + this * exp(-margin)): 0.8 at margin 0."""
PYRAMID_STEP = 3.0
"""Scale between pyramid levels: each level finds faces over a span of about 3x in size."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlazeFaceConfig(_Section):
    """MediaPipe's BlazeFace (shipped as ONNX): fast, six keypoints, any face size."""

    type: Literal["blazeface"] = Field("blazeface", description="MediaPipe's BlazeFace.")
    model: Literal["short", "full"] = Field(
        "short",
        description="short: 128 px input, trained on faces within about 2 m; full: 192 px, "
        "trained on faces up to about 5 m (finds smaller faces, a little slower).",
    )
    min_score: float | None = Field(
        None, gt=0, lt=1, description="Candidate threshold; default MediaPipe's (0.5 / 0.6)."
    )
    min_face_px: float = Field(
        40.0,
        ge=0,
        le=4096,
        description="Smallest face width (source pixels) searched for: the picture is also "
        "run at larger scales so such faces reach the model's own minimum. 0: the whole "
        "picture at the model's native size only (faces above ~15 % of the picture).",
    )
    max_input_side: int = Field(
        1024,
        ge=128,
        le=8192,
        description="Longest side of the largest scale run; bounds the cost on huge photos "
        "(their smallest findable face grows instead).",
    )
    iou_threshold: float = Field(
        0.3, gt=0, lt=1, description="Weighted non-maximum suppression overlap (MediaPipe's)."
    )
    threads: int = Field(1, ge=1, le=64, description="ONNX Runtime intra-op threads.")


class DlibHogConfig(_Section):
    """dlib's HOG + linear SVM frontal face detector (the face_recognition library's)."""

    type: Literal["dlib-hog"] = Field("dlib-hog", description="dlib's HOG detector.")
    upsample: int = Field(
        0,
        ge=0,
        le=3,
        description="Times the picture is doubled first; each finds faces half as small "
        "(80 px at 0, 40 px at 1) at about 4x the cost.",
    )
    max_side: int = Field(
        1280,
        ge=0,
        le=8192,
        description="Pictures are shrunk to this longest side first (0: never).",
    )
    adjust_threshold: float = Field(
        0.0, ge=-2, le=2, description="Added to the SVM's threshold; negative finds more."
    )


FaceDetectorChoice = Annotated[BlazeFaceConfig | DlibHogConfig, Field(discriminator="type")]


class BlazeFaceDetector:
    """BlazeFace over a pyramid: the whole picture letterboxed to the model's native square,
    then larger scales run fully convolutionally (a dense sliding window, no tile seams)
    until faces of ``min_face_px`` are found.

    Example:
        >>> detector = BlazeFaceDetector(BlazeFaceConfig())
        >>> detector.detect(np.zeros((720, 1280, 3), np.uint8))
        []
        >>> [(box.input_width, box.input_height) for box in detector.levels(1280, 720)]
        [(128, 128), (128, 128), (224, 128), (640, 384)]
    """

    def __init__(self, config: BlazeFaceConfig | None = None) -> None:
        self.config = config or BlazeFaceConfig()
        self._model = MODELS_BY_NAME[self.config.model]
        self.name = f"blazeface-{self._model.name}"
        self._session = open_session(self._model.path, threads=self.config.threads)
        self._min_score = self.config.min_score or self._model.min_score

    def levels(self, width: int, height: int) -> list[Letterbox]:
        """How a ``width`` x ``height`` picture is fitted into the model at each scale run."""
        size = self._model.size
        native = Letterbox.fit(width=width, height=height, size=size)
        levels = [shrunk(native, ZOOM_OUT), native] if ZOOM_OUT else [native]
        if not self.config.min_face_px:
            return levels
        longest = max(width, height)
        wanted = min(1.0, MIN_INPUT_FACE[self._model.name] / self.config.min_face_px)
        scale = min(wanted, self.config.max_input_side / longest)
        larger = []
        while scale > native.scale * 1.5:
            larger.append(scale)
            scale /= PYRAMID_STEP
        for scale in reversed(larger):
            levels.append(
                Letterbox.fit(
                    width=width,
                    height=height,
                    input_width=_aligned(width * scale),
                    input_height=_aligned(height * scale),
                )
            )
        return levels

    def detect(self, image: Image) -> list[FaceBox]:
        """Faces in ``image`` (BGR), best first; six keypoints each."""
        height, width = image.shape[:2]
        found: list[tuple[NDArray[np.float32], ...]] = []
        for box in self.levels(width, height):
            raw, logits = self._session.run(None, {"image": preprocess(image, box)})
            anchors = anchor_centres(self._model.name, box.input_width, box.input_height)
            boxes, scores, points = decode(
                raw[0], logits[0, :, 0], anchors, min_score=self._min_score
            )
            offset = np.array([box.pad_x, box.pad_y], np.float32)
            scale = np.float32(box.scale)
            boxes = ((boxes.reshape(-1, 2, 2) - offset) / scale).reshape(-1, 4)
            found.append((boxes, scores, (points - offset) / scale))
        boxes, scores, points = (np.concatenate(parts) for parts in zip(*found, strict=True))
        boxes, scores, points = weighted_nms(
            boxes, scores, points, iou_threshold=self.config.iou_threshold
        )
        keep = uncontained(boxes, scores)
        boxes = to_dlib_box(boxes[keep], self._model.dlib_box)
        scores, points = scores[keep], points[keep]
        limit = np.array([width, height, width, height], np.float32)
        boxes = np.clip(boxes, 0, limit)
        return [
            FaceBox(box=_box(b), score=float(s), landmarks=p.astype(np.float32))
            for b, s, p in zip(boxes, scores, points, strict=True)
            if b[2] - b[0] >= 1 and b[3] - b[1] >= 1
        ]


class DlibHogDetector:
    """dlib's frontal HOG detector. Scores are the SVM margins through a logistic shifted so
    the detector's own threshold (margin 0) scores 0.8, above the face engine's default floor
    (0.78): what HOG reports at its own threshold is analysed and matched, as on photos it
    reports almost no false faces; a negative ``adjust_threshold`` adds weaker ones below.

    dlib holds the GIL while it runs: one detection blocks the process's other threads.

    Example:
        >>> DlibHogDetector(DlibHogConfig(upsample=1)).detect(np.zeros((240, 320, 3), np.uint8))
        []
    """

    def __init__(self, config: DlibHogConfig | None = None) -> None:
        import dlib  # type: ignore[import-untyped, unused-ignore]

        self.config = config or DlibHogConfig()
        self.name = f"dlib-hog-{self.config.upsample}"
        self._detector = dlib.get_frontal_face_detector()
        self._lock = threading.Lock()  # dlib's detector object is not documented thread-safe

    def detect(self, image: Image) -> list[FaceBox]:
        """Faces in ``image`` (BGR), best first; no keypoints."""
        height, width = image.shape[:2]
        scale = 1.0
        limit = self.config.max_side
        if limit and max(width, height) > limit:
            scale = limit / max(width, height)
            size = (round(width * scale), round(height * scale))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        with self._lock:
            rects, margins, _ = self._detector.run(
                rgb, self.config.upsample, self.config.adjust_threshold
            )
        faces = []
        for rect, margin in zip(rects, margins, strict=True):
            x1, y1 = max(0.0, rect.left() / scale), max(0.0, rect.top() / scale)
            x2 = min(float(width), (rect.right() + 1) / scale)
            y2 = min(float(height), (rect.bottom() + 1) / scale)
            score = 1.0 / (1.0 + HOG_AT_THRESHOLD * math.exp(-margin))
            faces.append(FaceBox(box=(x1, y1, x2, y2), score=score))
        return sorted(faces, key=lambda face: -face.score)


def build_face_detector(config: BlazeFaceConfig | DlibHogConfig) -> FaceDetector:
    """The detector ``config`` describes (models load here; share it, it is thread-safe)."""
    if isinstance(config, DlibHogConfig):
        return DlibHogDetector(config)
    return BlazeFaceDetector(config)


def uncontained(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], *, share: float = 0.5
) -> NDArray[np.int64]:
    """Indices of the faces that do not overlap a better-scored face by more than ``share`` of
    the smaller of the two boxes.

    Weighted NMS merges boxes of similar size; this also removes a box around or inside a
    better one: across scales the short-range model takes the eyes or mouth of a big face, or
    a large area around a small face, for a face (measured on kupol's synthetic frames).

    Example:
        >>> boxes = np.array([[0, 0, 100, 100], [10, 10, 40, 40], [90, 90, 150, 150]], np.float32)
        >>> uncontained(boxes, np.array([0.9, 0.6, 0.8], np.float32)).tolist()
        [0, 2]
    """
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    top_left = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    smaller = np.maximum(np.minimum(area[:, None], area[None, :]), 1e-6)
    covered = (overlap / smaller > share) & (scores[None, :] > scores[:, None])
    return np.flatnonzero(~covered.any(axis=1))


def _aligned(side: float) -> int:
    return max(ALIGN, math.ceil(side / ALIGN) * ALIGN)


def _box(values: Any) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)
