"""Video clips around events: a short memory of recent frames, and WebM (VP8) export.

A camera keeps its last ``before_s`` seconds of analysed frames as JPEG; when an alert fires,
the clip goes on recording for ``after_s`` more and is then written as WebM, a format every
browser plays and no patent encumbers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, kw_only=True)
class ClipFrame:
    """One frame of a clip: its time and JPEG bytes."""

    pts_s: float
    jpeg: bytes


class RecentFrames:
    """The last ``seconds`` of frames as JPEG, at most one per ``every_s``.

    Cameras keep one for clips (every analysed frame, a few seconds) and the pipeline one for
    evidence of what happened before an alert (a frame a second, two minutes).

    Example:
        >>> import numpy as np
        >>> memory = RecentFrames(seconds=60, every_s=1.0)
        >>> for t in range(10):
        ...     _ = memory.add(t / 5, np.zeros((48, 64, 3), np.uint8))
        >>> [f.pts_s for f in memory.since(0)]
        [0.0, 1.0]
        >>> memory.at(0.8)[0]
        1.0
    """

    def __init__(self, *, seconds: float, every_s: float = 0.0) -> None:
        self.seconds = seconds
        self._every = every_s
        self._frames: deque[ClipFrame] = deque()

    def add(self, pts_s: float, image: NDArray[np.uint8]) -> ClipFrame | None:
        """Keep a frame (unless the last one kept is younger than ``every_s``); returns it."""
        if self._frames and pts_s - self._frames[-1].pts_s < self._every:
            return None
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        frame = ClipFrame(pts_s=pts_s, jpeg=jpeg.tobytes() if ok else b"")
        self._frames.append(frame)
        while self._frames and pts_s - self._frames[0].pts_s > self.seconds:
            self._frames.popleft()
        return frame

    def since(self, pts_s: float) -> list[ClipFrame]:
        """The kept frames from ``pts_s`` on."""
        return [f for f in self._frames if f.pts_s >= pts_s]

    def at(self, pts_s: float) -> tuple[float, NDArray[np.uint8]] | None:
        """The kept frame nearest ``pts_s``, decoded (BGR)."""
        usable = [f for f in self._frames if f.jpeg]
        if not usable:
            return None
        nearest = min(usable, key=lambda f: abs(f.pts_s - pts_s))
        image = cv2.imdecode(np.frombuffer(nearest.jpeg, np.uint8), cv2.IMREAD_COLOR)
        return nearest.pts_s, np.asarray(image, np.uint8)


@dataclass(kw_only=True)
class PendingClip:
    """A clip still recording its ``after`` part."""

    until_s: float
    frames: list[ClipFrame] = field(default_factory=list)

    def add(self, frame: ClipFrame) -> bool:
        """Take a frame; True once the clip is complete."""
        if frame.pts_s <= self.until_s:
            self.frames.append(frame)
        return frame.pts_s >= self.until_s


def write_clip(frames: list[ClipFrame], path: Path, *, fps: float) -> Path:
    """Encode ``frames`` as a VP8 WebM file at ``fps`` (frames are placed by their times).

    Example:
        >>> import numpy as np, tempfile, pathlib
        >>> recent = RecentFrames(seconds=5)
        >>> frames = [recent.add(t / 5, np.zeros((48, 64, 3), np.uint8)) for t in range(10)]
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> write_clip(frames, folder / "clip.webm", fps=5).stat().st_size > 0
        True
    """
    usable = [f for f in frames if f.jpeg]
    if not usable:
        raise ValueError("a clip needs at least one frame")
    path.parent.mkdir(parents=True, exist_ok=True)
    first = cv2.imdecode(np.frombuffer(usable[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    if first is None:
        raise ValueError("the clip's first frame is not a JPEG")
    height, width = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    rate = Fraction(round(fps * 1000), 1000)
    with av.open(str(path), mode="w", format="webm") as container:
        # cpu-used 4: a sixth of the default's time for the same bitrate (the default
        # searches hardest, 1.5 s a five-second clip here).
        stream = container.add_stream("libvpx", rate=rate, options={"cpu-used": "4"})
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_000_000
        stream.codec_context.time_base = Fraction(1, 1000)
        # One encoder thread: libvpx's threads wait for each other by spinning, which on a
        # machine busy with other cameras burnt 7x the CPU the clip needs (bench/traffic.py).
        stream.codec_context.thread_count = 1
        start = usable[0].pts_s
        last_pts = -1
        for clip_frame in usable:
            decoded = cv2.imdecode(np.frombuffer(clip_frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
            if decoded is None:
                continue
            image = np.ascontiguousarray(np.asarray(decoded, np.uint8)[:height, :width])
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            pts = max(last_pts + 1, round((clip_frame.pts_s - start) * 1000))
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            last_pts = pts
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
