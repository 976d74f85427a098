"""A face engine stand-in for the domain tests: photos encode who is on them.

A test photo is a small PNG whose first pixel says the identity and the number of faces
(B = identity, G = faces, R = 255 when the face is too poor to match). The fake returns that
many faces with the identity's template, so services are tested without loading models;
the real engine has its own tests on real photos.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from kupol.faces.types import Face, FaceBox, Image, Quality


def template(identity: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """The unit template of ``identity``, optionally a noisy sample of it."""
    base = np.random.default_rng(identity).standard_normal(128).astype(np.float32)
    if noise:
        base += noise * np.random.default_rng(1000 + seed).standard_normal(128).astype(np.float32)
    return (base / np.linalg.norm(base)).astype(np.float32)


def photo(identity: int, *, faces: int = 1, poor: bool = False) -> bytes:
    """PNG bytes of a test photo."""
    image = np.zeros((64, 64, 3), np.uint8)
    image[0, 0] = (identity, faces, 255 if poor else 0)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


class FakeAnalyzer:
    """Reads the identity back from a test photo."""

    def __init__(self) -> None:
        self.calls = 0

    def analyze(
        self,
        image: Image,
        *,
        regions: Sequence[tuple[float, float, float, float]] | None = None,
        embed_unusable: bool = False,
    ) -> list[Face]:
        self.calls += 1
        identity, count, poor = (int(v) for v in image[0, 0])
        quality = Quality(
            score=0.2 if poor else 0.9,
            face_px=20 if poor else 120,
            sharpness=10.0,
            yaw=0.0,
            usable=not poor,
            reasons=("too_small",) if poor else (),
        )
        return [
            Face(
                box=(4.0 * i, 4.0, 4.0 * i + 30, 34.0),
                score=0.99,
                landmarks=np.zeros((5, 2), np.float32),
                chip=np.full((150, 150, 3), identity, np.uint8),
                quality=quality,
                embedding=template(identity),
            )
            for i in range(count)
        ]

    def detect(self, image: Image) -> list[FaceBox]:
        return [FaceBox(box=f.box, score=f.score) for f in self.analyze(image)]
