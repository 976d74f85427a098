"""Video sources: files and streams through FFmpeg (PyAV), MJPEG over HTTP, and image folders.

Frames are sampled at the camera's analysis rate; only sampled frames are converted (scaled
and turned into BGR by FFmpeg's swscale), the rest are decoded and dropped. A live source
that falls behind asks the decoder to skip non-key frames until it has caught up, so a slow
server degrades to fewer analysed frames instead of an ever-growing lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kupol.core.errors import SourceError

ANALYSIS_WIDTH = 160
"""Width of the small grey image that motion detection works on."""
STREAM_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "srt://")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
BEHIND_S = 1.0
"""A live source this far behind real time skips non-key frames until it catches up."""


@dataclass(eq=False, kw_only=True)
class Frame:
    """One analysed frame.

    Attributes:
        index: position among analysed frames, from 0.
        pts_s: the frame's time in the video, in seconds.
        image: ``uint8`` BGR array (height, width, 3) at the analysis width.
        source_index: the frame's position among all decoded frames (for clip export).
        full: a callable that returns the full-resolution image as RGB PIL image, for evidence.
    """

    index: int
    pts_s: float
    image: NDArray[np.uint8]
    source_index: int = 0
    full: Callable[[], Image.Image] | None = field(default=None, repr=False)

    @cached_property
    def gray(self) -> NDArray[np.uint8]:
        """A small grey image (``ANALYSIS_WIDTH`` wide) for motion detection."""
        h, w = self.image.shape[:2]
        height = max(2, round(ANALYSIS_WIDTH * h / max(1, w)) // 2 * 2)
        small = cv2.resize(self.image, (ANALYSIS_WIDTH, height), interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)

    def full_image(self) -> Image.Image:
        """The frame at full resolution (or the analysed image when that is all there is)."""
        if self.full is not None:
            return self.full()
        return Image.fromarray(np.ascontiguousarray(self.image[:, :, ::-1]))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysed image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def is_stream(path: str) -> bool:
    """Whether ``path`` is a network stream rather than a file or folder."""
    return path.startswith(STREAM_PREFIXES)


def check_source(path: str) -> None:
    """Raise :class:`SourceError` with a clear message when ``path`` cannot be a video source."""
    if is_stream(path):
        return
    file = Path(path.removeprefix("file://"))
    if not file.exists():
        raise SourceError(f"video file not found: {file}")
    if file.is_dir():
        if not _images_in(file):
            raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {file}")
        return
    if not file.is_file():
        raise SourceError(f"not a file: {file}")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _scaled_size(width: int, height: int, target: int | None) -> tuple[int, int]:
    if target is None or width <= target:
        return width // 2 * 2, height // 2 * 2
    return target, max(2, round(target * height / max(1, width)) // 2 * 2)


def read_frames(
    path: str,
    *,
    analysis_fps: float,
    width: int | None = 640,
    realtime: bool = False,
    input_format: str | None = None,
    folder_fps: float = 5.0,
    stop: Callable[[], bool] | None = None,
) -> Iterator[Frame]:
    """Yield frames of ``path`` at about ``analysis_fps``, scaled to ``width`` pixels.

    ``path`` is a file, a stream URL (``input_format="mpjpeg"`` for a multipart MJPEG HTTP
    camera) or a folder of images played at ``folder_fps``. With ``realtime`` the frames are
    paced as a live camera would deliver them and a source that falls behind skips non-key
    frames. ``stop`` is polled between frames.

    Example:
        >>> frames = read_frames("missing.mp4", analysis_fps=5)
        >>> next(frames)
        Traceback (most recent call last):
        ...
        kupol.core.errors.SourceError: video file not found: missing.mp4
    """
    check_source(path)
    local = Path(path.removeprefix("file://"))
    if not is_stream(path) and local.is_dir():
        yield from _read_folder(
            local, analysis_fps=analysis_fps, width=width, folder_fps=folder_fps, stop=stop
        )
        return
    yield from _read_av(
        path,
        analysis_fps=analysis_fps,
        width=width,
        realtime=realtime,
        input_format=input_format,
        stop=stop,
    )


def _read_av(
    path: str,
    *,
    analysis_fps: float,
    width: int | None,
    realtime: bool,
    input_format: str | None,
    stop: Callable[[], bool] | None,
) -> Iterator[Frame]:
    options = {"rtsp_transport": "tcp"} if path.startswith(("rtsp://", "rtsps://")) else {}
    try:
        container = av.open(
            path.removeprefix("file://"), format=input_format, options=options, timeout=10
        )
    except (av.error.FFmpegError, OSError) as exc:
        raise SourceError(f"cannot open video {path}: {exc}") from None
    with container:
        if not container.streams.video:
            raise SourceError(f"no video stream in {path}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        step = 1.0 / analysis_fps
        next_t = 0.0
        index = 0
        size: tuple[int, int] | None = None
        started = time.monotonic()
        first_t: float | None = None
        skipping = False
        try:
            for decoded, frame in enumerate(container.decode(stream)):
                if stop is not None and stop():
                    return
                t = float(frame.time) if frame.time is not None else decoded / 25.0
                if first_t is None:
                    first_t = t
                    next_t = t
                if realtime:
                    lag = (time.monotonic() - started) - (t - first_t)
                    if lag < 0:
                        time.sleep(min(-lag, 1.0))
                    behind = lag > BEHIND_S
                    if behind != skipping:
                        skipping = behind
                        stream.codec_context.skip_frame = "NONKEY" if behind else "DEFAULT"
                if t + 1e-6 < next_t:
                    continue
                next_t = max(next_t + step, t + step / 2)
                if size is None:
                    size = _scaled_size(frame.width, frame.height, width)
                image = np.asarray(
                    frame.to_ndarray(format="bgr24", width=size[0], height=size[1]), np.uint8
                )
                yield Frame(
                    index=index,
                    pts_s=t,
                    image=image,
                    source_index=decoded,
                    full=_full_of(frame),
                )
                index += 1
        except av.error.FFmpegError as exc:
            raise SourceError(f"error while decoding {path}: {exc}") from None


def _full_of(frame: av.VideoFrame) -> Callable[[], Image.Image]:
    def full() -> Image.Image:
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
        return image

    return full


def _open_image(file: Path) -> Callable[[], Image.Image]:
    def full() -> Image.Image:
        return Image.open(file).convert("RGB")

    return full


def _read_folder(
    folder: Path,
    *,
    analysis_fps: float,
    width: int | None,
    folder_fps: float,
    stop: Callable[[], bool] | None,
) -> Iterator[Frame]:
    step = max(1, round(folder_fps / analysis_fps))
    index = 0
    for position, file in enumerate(_images_in(folder)):
        if stop is not None and stop():
            return
        if position % step:
            continue
        raw = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if raw is None:
            raise SourceError(f"cannot read image {file}")
        w, h = _scaled_size(raw.shape[1], raw.shape[0], width)
        image = (
            cv2.resize(raw, (w, h), interpolation=cv2.INTER_AREA)
            if (w, h) != raw.shape[1::-1]
            else raw
        )
        yield Frame(
            index=index,
            pts_s=position / folder_fps,
            image=np.asarray(image, np.uint8),
            source_index=position,
            full=_open_image(file),
        )
        index += 1
