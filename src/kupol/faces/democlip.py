"""A walk-by clip made of real face photos: each person's photo passes the camera in turn.

The demo and the live-matching test use it: public data holds face photos but no video of
the same people, so the clip is composed (at run time, never committed) from the photos in
``../shared/data/faces``. People do not stand still in front of a camera: each photo slides
across the frame while it grows, as a person walking towards a door camera would.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from kupol.core.errors import InvalidInputError

WIDTH, HEIGHT = 1280, 720


def write_walkby_clip(
    photos: Sequence[Path],
    path: Path,
    *,
    seconds_each: float = 3.0,
    fps: int = 10,
    gap_s: float = 0.5,
) -> Path:
    """Write an MP4 (H.264) where each photo in ``photos`` walks past, one after another.

    Raises:
        InvalidInputError: a photo cannot be read, or none was given.
    """
    if not photos:
        raise InvalidInputError("a walk-by clip needs at least one photo")
    images = []
    for photo in photos:
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        if image is None:
            raise InvalidInputError(f"{photo}: not a readable image")
        images.append(image)
    background = _background()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part.mp4")
    with av.open(str(temporary), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for image in images:
            frames = int(seconds_each * fps)
            for i in range(frames):
                t = i / max(1, frames - 1)
                frame = background.copy()
                _paste(frame, image, t)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                    container.mux(packet)
            for _ in range(int(gap_s * fps)):
                blank = av.VideoFrame.from_ndarray(background, format="bgr24")
                for packet in stream.encode(blank):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    temporary.replace(path)
    return path


def _background() -> np.ndarray:
    """A plain corridor: a floor, a wall and a door frame (deterministic)."""
    frame = np.full((HEIGHT, WIDTH, 3), (170, 175, 180), np.uint8)
    frame[int(HEIGHT * 0.72) :, :] = (110, 115, 120)
    cv2.rectangle(frame, (60, 60), (260, int(HEIGHT * 0.72)), (90, 80, 70), 8)
    cv2.rectangle(frame, (700, 90), (900, 300), (200, 200, 200), -1)
    return frame


def _paste(frame: np.ndarray, image: np.ndarray, t: float) -> None:
    """Place ``image`` at progress ``t`` (0..1): sliding right, growing as it comes closer."""
    target_h = int(HEIGHT * (0.45 + 0.3 * t))
    scale = target_h / image.shape[0]
    width = int(image.shape[1] * scale)
    if width > WIDTH * 0.6:
        width = int(WIDTH * 0.6)
        target_h = int(image.shape[0] * width / image.shape[1])
    resized = cv2.resize(image, (width, target_h), interpolation=cv2.INTER_AREA)
    x = int(80 + (WIDTH - width - 160) * t)
    y = max(0, int(HEIGHT * 0.72) - target_h)
    frame[y : y + target_h, x : x + width] = resized
