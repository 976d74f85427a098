"""A generated test video (moving blocks on a noisy street-like background).

Used by the demo when the real sample videos are absent and by tests that need a video
whose motion is known exactly.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_synthetic_video(
    path: Path,
    *,
    seconds: float = 20.0,
    fps: int = 10,
    width: int = 320,
    height: int = 180,
    seed: int = 7,
) -> Path:
    """Write an MPEG-4 video where a block crosses the frame every 4 seconds.

    Block ``k`` enters at ``4k + 1`` s and takes 2 s to cross; the rest is still
    background with sensor noise, so a motion detector should report one episode per block.
    """
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    background = np.full((height, width, 3), 90, np.uint8)
    background[height // 2 :, :, :] = 60  # "road"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            t = i / fps
            image = background.copy()
            noise = rng.integers(-4, 5, size=image.shape, dtype=np.int16)
            image = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
            phase = (t - 1.0) % 4.0
            if t >= 1.0 and phase < 2.0:
                x = int(phase / 2.0 * (width + 60)) - 60
                x1, x2 = max(0, x), min(width, x + 60)
                if x2 > x1:
                    image[height // 2 + 10 : height // 2 + 50, x1:x2] = (230, 230, 240)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
