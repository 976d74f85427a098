"""Video sources through FFmpeg (PyAV): files and streams, sampled at an analysis frame rate.

Only the frames that are analysed are converted; others are decoded and dropped, which is
what keeps a CPU-only server ahead of many cameras.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import SourceError

ANALYSIS_WIDTH = 160
STREAM_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://")


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One analysed frame: a small grey image for analysis and the decoder frame for snapshots.

    Attributes:
        index: position among analysed frames, from 0.
        pts_s: the frame's time in the video, in seconds.
        gray: ``uint8`` array (height, width), ``ANALYSIS_WIDTH`` wide.
        source: the full-resolution PyAV frame, for evidence snapshots.
    """

    index: int
    pts_s: float
    gray: NDArray[np.uint8]
    source: av.VideoFrame


def check_source(path: str) -> None:
    """Raise :class:`SourceError` with a clear message when ``path`` cannot be a video source."""
    if path.startswith(STREAM_PREFIXES):
        return
    file = Path(path.removeprefix("file://"))
    if not file.exists():
        raise SourceError(f"video file not found: {file}")
    if not file.is_file():
        raise SourceError(f"not a file: {file}")


def read_frames(path: str, *, analysis_fps: float) -> Iterator[Frame]:
    """Yield frames of ``path`` at about ``analysis_fps``.

    Example:
        >>> frames = read_frames("missing.mp4", analysis_fps=5)
        >>> next(frames)
        Traceback (most recent call last):
        ...
        kupol.core.errors.SourceError: video file not found: missing.mp4
    """
    check_source(path)
    try:
        container = av.open(path.removeprefix("file://"), timeout=10)
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
        height = max(
            2,
            round(ANALYSIS_WIDTH * stream.codec_context.height / max(1, stream.codec_context.width))
            // 2
            * 2,
        )
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else index * step
                if t + 1e-6 < next_t:
                    continue
                next_t = t + step
                gray = np.asarray(
                    frame.to_ndarray(format="gray", width=ANALYSIS_WIDTH, height=height), np.uint8
                )
                yield Frame(index=index, pts_s=t, gray=gray, source=frame)
                index += 1
        except av.error.FFmpegError as exc:
            raise SourceError(f"error while decoding {path}: {exc}") from None
