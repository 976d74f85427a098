"""Real photos for the face engine's tests (skipped, with the reason, without the data)."""

from __future__ import annotations

import cv2
import numpy as np

from tests.conftest import need_data


def photo(*relative: str) -> np.ndarray:
    """A BGR photo under ``../shared/data/faces``."""
    image = cv2.imread(str(need_data("faces", *relative)), cv2.IMREAD_COLOR)
    assert image is not None, relative
    return image


def portrait() -> np.ndarray:
    """deepface's img1.jpg: one woman, face about 650 px wide in a 1382 x 1868 photo."""
    return photo("deepface", "img1.jpg")


def small_faces_frame(width: int, *, faces: int = 3) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """A 1280 x 720 grey frame with the portrait's face ``width`` px wide at ``faces`` places,
    and where each face is (the face box as dlib's HOG detector draws it, scaled)."""
    picture = portrait()
    x1, y1, x2, y2 = 397.0, 336.0, 1053.0, 991.0  # the portrait's face (dlib box convention)
    margin = 0.6 * (x2 - x1)
    left, top = max(0, int(x1 - margin)), max(0, int(y1 - margin))
    crop = picture[top : int(y2 + margin), left : int(x2 + margin)]
    scale = width / (x2 - x1)
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 90, np.uint8)
    truths = []
    for index in range(faces):
        ox, oy = 100 + index * 1000 // faces, 200 + 150 * (index % 2)
        h, w = crop.shape[:2]
        frame[oy : oy + h, ox : ox + w] = crop
        truths.append(
            ((x1 - left) * scale + ox, (y1 - top) * scale + oy,
             (x2 - left) * scale + ox, (y2 - top) * scale + oy)
        )  # fmt: skip
    return frame, truths


def near(box: tuple[float, ...], truth: tuple[float, ...], *, tolerance: float = 0.35) -> bool:
    """Whether ``box`` is ``truth`` within ``tolerance`` of its width on every side."""
    width = truth[2] - truth[0]
    return all(abs(a - b) <= tolerance * width for a, b in zip(box, truth, strict=True))
