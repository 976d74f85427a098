"""The values the face stages pass between them, and the plug-in contracts for models.

Boxes are ``(x1, y1, x2, y2)`` in pixels of the image given to the stage. Templates
(embeddings) are float32 vectors of unit length, so cosine similarity is a dot product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
"""An image as OpenCV holds it: height × width × 3, BGR."""


@dataclass(frozen=True, kw_only=True)
class FaceBox:
    """A face found by a detector, before alignment."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: NDArray[np.float32] | None = None
    """Keypoints the detector gives (BlazeFace: 6), pixels, or ``None``."""


@dataclass(frozen=True, kw_only=True)
class Quality:
    """Whether a face is good enough to match, and why not."""

    score: float
    """0–1, higher is better."""
    face_px: float
    """Face width in pixels of the source image."""
    sharpness: float
    """Variance of the Laplacian on the aligned chip."""
    yaw: float
    """Estimated head turn, −1 (full left) … 0 (frontal) … 1 (full right)."""
    usable: bool
    reasons: tuple[str, ...] = ()
    """Why it is not usable: ``too_small``, ``blurred``, ``turned``, ``low_confidence``."""


@dataclass(frozen=True, kw_only=True)
class Face:
    """One face, aligned and embedded."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: NDArray[np.float32]
    """Five points (eye corners and nose, dlib's 5-point model), pixels."""
    chip: Image
    """The aligned face, BGR, as the embedder saw it."""
    quality: Quality
    embedding: NDArray[np.float32] = field(repr=False)
    """Unit-length template."""


class FaceDetector(Protocol):
    """Finds faces in an image."""

    name: str

    def detect(self, image: Image) -> list[FaceBox]:
        """Faces in ``image`` (BGR), best first."""
        ...


class FaceEmbedder(Protocol):
    """Turns aligned face chips into unit-length templates."""

    name: str
    dim: int

    def embed(self, chips: list[Image]) -> NDArray[np.float32]:
        """One row per chip, each of unit length; shape ``(len(chips), dim)``."""
        ...


class FaceAnalyzer(Protocol):
    """What the faces domain needs from the engine (:class:`kupol.faces.engine.FaceEngine`)."""

    def analyze(
        self,
        image: Image,
        *,
        regions: Sequence[tuple[float, float, float, float]] | None = None,
        embed_unusable: bool = False,
    ) -> list[Face]:
        """Faces in ``image``, aligned, quality-scored and (usable ones) embedded."""
        ...

    def detect(self, image: Image) -> list[FaceBox]:
        """Face boxes only (for blurring)."""
        ...
