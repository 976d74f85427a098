"""The face engine: detect, align, assess and embed the faces of a picture, in one call.

One engine per configuration is shared by every camera and request (:func:`shared_engine`):
the models load once. Figures behind the defaults are in ``docs/faces-performance.md``.

Example:
    >>> engine = shared_engine(FaceEngineConfig())
    >>> engine.analyze(np.zeros((360, 640, 3), np.uint8))
    []
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kupol.core.errors import ConfigError
from kupol.faces import align
from kupol.faces.detectors import BlazeFaceConfig, FaceDetectorChoice, build_face_detector
from kupol.faces.embedders import EMBEDDERS, embedder_for
from kupol.faces.quality import QualityThresholds, assess
from kupol.faces.types import Face, FaceBox, FaceDetector, FaceEmbedder, Image
from kupol.vision.detections import box_iou

Region = tuple[float, float, float, float]

DUPLICATE_IOU = 0.5
"""Faces found in two overlapping regions are one face when their boxes overlap this much."""


class FaceEngineConfig(BaseModel):
    """Which models find and describe faces, and what a face needs to be matched."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: FaceDetectorChoice = Field(
        default_factory=BlazeFaceConfig,
        description="The face detector, chosen by its type: blazeface (default) or dlib-hog.",
    )
    embedder: str = Field(
        "dlib-onnx",
        description="The embedder by name (kupol.faces.embedders.EMBEDDERS): dlib-onnx, dlib's "
        "ResNet as ONNX (default: the same descriptors within 2.2e-4, 20x faster), or dlib, "
        "run by dlib itself. Both make the same templates.",
    )
    quality: QualityThresholds = Field(
        default_factory=QualityThresholds,
        description="What a face needs to be usable for matching.",
    )
    min_score: float = Field(
        0.78,
        ge=0,
        le=1,
        description="Boxes the detector scores lower are left out of analyze() altogether: "
        "on kupol's photos BlazeFace's false boxes scored at most 0.76, real faces at least "
        "0.808; detect() (blurring) keeps them.",
    )
    max_faces: int = Field(
        20, ge=1, le=500, description="Most faces analysed per picture, best scored first."
    )

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, name: str) -> str:
        if name not in EMBEDDERS:
            raise ValueError(f"unknown embedder {name!r}; known: {', '.join(sorted(EMBEDDERS))}")
        return name


def engine_config(values: Mapping[str, Any]) -> FaceEngineConfig:
    """``values`` as a :class:`FaceEngineConfig`; :class:`ConfigError` naming each bad field.

    Example:
        >>> engine_config({"detector": {"type": "dlib-hog", "upsample": 1}}).detector.upsample
        1
        >>> engine_config({"detector": {"type": "mtcnn"}})
        Traceback (most recent call last):
        ...
        kupol.core.errors.ConfigError: invalid face engine configuration: detector: ...
    """
    try:
        return FaceEngineConfig.model_validate(dict(values))
    except ValidationError as exc:
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid face engine configuration: {summary}") from None


class FaceEngine:
    """Detector, aligner, quality check and embedder for one configuration (thread-safe)."""

    def __init__(
        self,
        config: FaceEngineConfig | None = None,
        *,
        detector: FaceDetector | None = None,
        embedder: FaceEmbedder | None = None,
    ) -> None:
        self.config = config or FaceEngineConfig()
        self.detector = detector or build_face_detector(self.config.detector)
        self.embedder = embedder or embedder_for(self.config.embedder)

    def detect(self, image: Image) -> list[FaceBox]:
        """Every face box the detector finds in ``image``, best first, for blurring: also the
        weak ones :meth:`analyze` leaves out (a face blurred twice costs nothing)."""
        return self.detector.detect(image)

    def analyze(
        self,
        image: Image,
        *,
        regions: Sequence[Region] | None = None,
        embed_unusable: bool = False,
    ) -> list[Face]:
        """The faces in ``image`` (BGR), best scored first, aligned and quality-assessed;
        usable ones embedded, unusable ones too when ``embed_unusable`` (else their
        ``embedding`` is empty, shape ``(0,)``).

        With ``regions`` (``x1, y1, x2, y2`` boxes, e.g. the heads of tracked people) only
        those parts are searched; boxes are in ``image``'s pixels either way, and a face
        found in two overlapping regions is reported once.
        """
        boxes = self._find(image, regions)
        boxes = [b for b in boxes if b.score >= self.config.min_score][: self.config.max_faces]
        return self.describe(image, boxes, embed_unusable=embed_unusable)

    def describe(
        self, image: Image, boxes: Sequence[FaceBox], *, embed_unusable: bool = False
    ) -> list[Face]:
        """Align, assess and embed faces already found in ``image`` (in the given order);
        :meth:`analyze` without the detection, e.g. for a crop known to hold one face."""
        found = []
        for face in boxes:
            points = align.landmarks(image, face.box)
            chip = align.chip(image, points)
            quality = assess(
                box=face.box,
                score=face.score,
                points=points,
                chip=chip,
                thresholds=self.config.quality,
            )
            found.append((face, points, chip, quality))
        wanted = [i for i, item in enumerate(found) if embed_unusable or item[3].usable]
        vectors = self.embedder.embed([found[i][2] for i in wanted])
        embedding = dict(zip(wanted, vectors, strict=True))
        empty = np.zeros(0, np.float32)
        return [
            Face(
                box=face.box,
                score=face.score,
                landmarks=points,
                chip=chip,
                quality=quality,
                embedding=embedding.get(index, empty),
            )
            for index, (face, points, chip, quality) in enumerate(found)
        ]

    def _find(self, image: Image, regions: Sequence[Region] | None) -> list[FaceBox]:
        if regions is None:
            return self.detector.detect(image)
        height, width = image.shape[:2]
        found: list[FaceBox] = []
        for region in regions:
            x1, y1 = max(0, int(region[0])), max(0, int(region[1]))
            x2, y2 = min(width, int(np.ceil(region[2]))), min(height, int(np.ceil(region[3])))
            if x2 - x1 < 8 or y2 - y1 < 8:
                continue
            for face in self.detector.detect(image[y1:y2, x1:x2]):
                found.append(_shifted(face, x1, y1))
        return _distinct(found)


def _shifted(face: FaceBox, dx: float, dy: float) -> FaceBox:
    box = (face.box[0] + dx, face.box[1] + dy, face.box[2] + dx, face.box[3] + dy)
    points = None
    if face.landmarks is not None:
        points = (face.landmarks + np.array([dx, dy], np.float32)).astype(np.float32)
    return FaceBox(box=box, score=face.score, landmarks=points)


def _distinct(faces: list[FaceBox]) -> list[FaceBox]:
    """``faces`` best first, without the weaker of two boxes of one face."""
    faces = sorted(faces, key=lambda face: -face.score)
    kept: list[FaceBox] = []
    for face in faces:
        box = np.array([face.box], np.float32)
        if kept and box_iou(box, np.array([k.box for k in kept], np.float32)).max() > DUPLICATE_IOU:
            continue
        kept.append(face)
    return kept


def cosine(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> float:
    """Cosine similarity of two vectors (templates are unit length: their dot product).

    Example:
        >>> cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
        0.7071...
    """
    a64, b64 = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    norms = float(np.linalg.norm(a64) * np.linalg.norm(b64))
    return float(a64 @ b64 / norms) if norms > 0 else 0.0


_lock = threading.Lock()
_engines: dict[str, FaceEngine] = {}


def shared_engine(config: FaceEngineConfig | None = None) -> FaceEngine:
    """The one engine for ``config`` in this process, loaded on first use (thread-safe)."""
    config = config or FaceEngineConfig()
    key = config.model_dump_json()
    with _lock:
        if key not in _engines:
            _engines[key] = FaceEngine(config)
        return _engines[key]
