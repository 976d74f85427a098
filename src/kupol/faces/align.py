"""Five landmarks and the aligned face chip the embedder sees, exactly as dlib makes them.

dlib's 5-point shape predictor (``face_recognition_models``) places two corners of each eye
and the base of the nose inside a detector's box; :func:`dlib.get_face_chip` rotates and
scales the face so those points land on dlib's template, 150 x 150 pixels with 25 % padding.
That chip is what dlib's ResNet was trained on (``compute_face_descriptor(image, shape)``
makes the same chip internally: kupol's test checks the descriptors are identical).

Both dlib functions are indifferent to channel order (the predictor works on the mean of the
channels, the chip is a geometric warp), so BGR pictures go in as they are and the chips come
out BGR, like every :data:`~kupol.faces.types.Image`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kupol.faces.types import Image

CHIP_SIZE = 150
CHIP_PADDING = 0.25

_lock = threading.Lock()
_predictor: Any = None


def _shape_predictor() -> Any:
    """dlib's 5-point model, loaded once per process (about 9 MB)."""
    global _predictor
    with _lock:
        if _predictor is None:
            import dlib  # type: ignore[import-untyped, unused-ignore]
            import face_recognition_models  # type: ignore[import-untyped, unused-ignore]

            _predictor = dlib.shape_predictor(
                face_recognition_models.pose_predictor_five_point_model_location()
            )
        return _predictor


def landmarks(image: Image, box: tuple[float, float, float, float]) -> NDArray[np.float32]:
    """The five points (5, 2) in ``image``'s pixels: points 0-1 are the corners (outer,
    inner) of the eye on the picture's right, 2-3 those of the other eye, 4 the base of the
    nose.

    ``box`` is ``x1, y1, x2, y2`` as kupol's detectors give it (dlib's HOG convention:
    brows to chin, ``x2``/``y2`` exclusive).

    Example:
        >>> points = landmarks(np.zeros((100, 100, 3), np.uint8), (20, 20, 80, 80))
        >>> points.shape, points.dtype
        ((5, 2), dtype('float32'))
    """
    shape = _shape(image, box)
    return np.array([(p.x, p.y) for p in shape.parts()], np.float32)


def chip(image: Image, points: NDArray[np.float32]) -> Image:
    """The aligned face (150 x 150 x 3, same channel order as ``image``) for five
    :func:`landmarks`; ``dlib.get_face_chip(image, shape, size=150, padding=0.25)``.

    Example:
        >>> picture = np.zeros((100, 100, 3), np.uint8)
        >>> chip(picture, landmarks(picture, (20, 20, 80, 80))).shape
        (150, 150, 3)
    """
    import dlib

    parts = dlib.points([dlib.point(round(float(x)), round(float(y))) for x, y in points])
    left, top = np.floor(points.min(axis=0)).astype(int)
    right, bottom = np.ceil(points.max(axis=0)).astype(int)
    shape = dlib.full_object_detection(
        dlib.rectangle(int(left), int(top), int(right), int(bottom)), parts
    )
    face: Image = dlib.get_face_chip(_rgb_like(image), shape, CHIP_SIZE, CHIP_PADDING)
    return face


def _shape(image: Image, box: tuple[float, float, float, float]) -> Any:
    import dlib

    x1, y1, x2, y2 = box
    rect = dlib.rectangle(
        round(x1), round(y1), max(round(x1), round(x2) - 1), max(round(y1), round(y2) - 1)
    )
    return _shape_predictor()(_rgb_like(image), rect)


def _rgb_like(image: Image) -> Image:
    """``image`` as the 3-channel, C-contiguous uint8 array dlib's bindings accept."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image, dtype=np.uint8)
