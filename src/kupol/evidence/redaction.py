"""Redaction of a clip: faces (the face detector) and plates (the plate reader's locator) found
on frames sampled through the clip, followed from sample to sample as tracks, plus regions an
officer adds by hand, minus tracks they keep visible; then every frame is re-encoded with
those regions pixelated beyond recognition.

A track is a list of samples ``(t seconds, (x0, y0, x1, y1) as fractions of the frame)``;
between samples its box is interpolated, and it reaches half a sampling interval past its
first and last sample, plus the margin, so a face is covered on the frames between
detections. The redacted copy has no audio track (speech is not redacted here), which the
custody entry says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from kupol.core.errors import InvalidInputError
from kupol.faces.privacy import blur_boxes

Box = tuple[float, float, float, float]
LINK_IOU = 0.2


BoxFinder = Callable[[Any], list[tuple[float, float, float, float]]]
"""Pixel boxes of what to hide in a BGR image."""


@dataclass
class Track:
    """Something to hide (or keep) through part of a clip."""

    id: str
    kind: str
    """face, plate or manual."""
    samples: list[tuple[float, Box]] = field(default_factory=list)

    def box_at(self, t: float, reach_s: float) -> Box | None:
        """The box at ``t`` (interpolated), or ``None`` outside the track's reach."""
        first, last = self.samples[0][0], self.samples[-1][0]
        if t < first - reach_s or t > last + reach_s:
            return None
        if t <= first:
            return self.samples[0][1]
        if t >= last:
            return self.samples[-1][1]
        for (t0, a), (t1, b) in zip(self.samples, self.samples[1:], strict=False):
            if t0 <= t <= t1:
                w = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (
                    a[0] + (b[0] - a[0]) * w,
                    a[1] + (b[1] - a[1]) * w,
                    a[2] + (b[2] - a[2]) * w,
                    a[3] + (b[3] - a[3]) * w,
                )
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "samples": [[round(t, 3), [round(v, 5) for v in box]] for t, box in self.samples],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            samples=[(float(t), _box(box)) for t, box in data["samples"]],
        )


def manual_track(track_id: str, t0: float, t1: float, box: Box) -> Track:
    """A region an officer draws: a fixed box from ``t0`` to ``t1`` seconds.

    Raises:
        InvalidInputError: the times or the box make no sense.
    """
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise InvalidInputError("a region is x0 < x1 and y0 < y1, fractions of the frame (0 to 1)")
    if not 0 <= t0 <= t1:
        raise InvalidInputError("a region runs from t0 to t1 seconds, t0 <= t1")
    return Track(id=track_id, kind="manual", samples=[(t0, box), (t1, box)])


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    fps: float
    duration_s: float
    frames: int


def probe(path: Path) -> ClipInfo:
    """The clip's size, rate and length (InvalidInputError if it is not a video)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidInputError("the file has no video track")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else float(container.duration or 0) / 1e6
            )
            return ClipInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                fps=fps,
                duration_s=duration,
                frames=stream.frames,
            )
    except av.FFmpegError as exc:
        raise InvalidInputError(f"the file is not a video this server can read: {exc}") from None


def frames(path: Path, *, from_s: float = 0.0) -> Iterator[tuple[float, np.ndarray]]:
    """Every frame of the clip (from about ``from_s``, by seeking to the key frame before it):
    (seconds, BGR image). A file that is not a readable video is InvalidInputError."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidInputError("the file has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            origin = float(stream.start_time * base) if stream.start_time and base else 0.0
            if from_s > 1.0 and base:
                target = int((origin + from_s) / base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is None or frame.time_base is None:
                    continue
                yield float(frame.pts * frame.time_base) - origin, frame.to_ndarray(format="bgr24")
    except av.FFmpegError as exc:
        raise InvalidInputError(f"the clip could not be decoded: {exc}") from None


def frame_at(path: Path, t: float) -> np.ndarray:
    """The frame at (or just after) ``t`` seconds."""
    last = None
    for at, image in frames(path, from_s=t):
        last = image
        if at >= t - 1e-3:
            return image
    if last is None:
        raise InvalidInputError("the clip has no frames")
    return last


def detect_tracks(
    path: Path,
    finders: dict[str, BoxFinder],
    *,
    every_s: float,
    progress: Callable[[float], None] | None = None,
) -> list[Track]:
    """Sample the clip every ``every_s`` seconds, find boxes with each finder, and link each
    kind's boxes from sample to sample into tracks."""
    info = probe(path)
    tracks: list[Track] = []
    open_: dict[str, list[Track]] = {kind: [] for kind in finders}
    next_sample = 0.0
    for t, image in frames(path):
        if t + 1e-6 < next_sample:
            continue
        next_sample = t + every_s
        height, width = image.shape[:2]
        for kind, find in finders.items():
            boxes = [_normalised(b, width, height) for b in find(image)]
            still: list[Track] = []
            for box in boxes:
                best = max(
                    (tr for tr in open_[kind] if t - tr.samples[-1][0] <= 2.5 * every_s),
                    key=lambda tr: _iou(tr.samples[-1][1], box),
                    default=None,
                )
                if (
                    best is not None
                    and _iou(best.samples[-1][1], box) >= LINK_IOU
                    and best not in still
                ):
                    best.samples.append((t, box))
                    still.append(best)
                else:
                    track = Track(id=f"{kind[0]}{len(tracks) + 1}", kind=kind, samples=[(t, box)])
                    tracks.append(track)
                    still.append(track)
            open_[kind] = still + [
                tr
                for tr in open_[kind]
                if tr not in still and t - tr.samples[-1][0] <= 2.5 * every_s
            ]
        if progress is not None and info.duration_s:
            progress(min(1.0, t / info.duration_s))
    return tracks


def render(
    source: Path,
    target: Path,
    tracks: Sequence[Track],
    *,
    every_s: float,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Write ``target`` (MP4, H.264, no audio): ``source`` with every track's region
    pixelated on every frame it covers; how many frames."""
    info = probe(source)
    reach = every_s * 0.75
    temporary = target.with_suffix(".part.mp4")
    try:
        return _encode(source, temporary, target, tracks, info, reach, progress)
    finally:
        temporary.unlink(missing_ok=True)


def _encode(
    source: Path,
    temporary: Path,
    target: Path,
    tracks: Sequence[Track],
    info: ClipInfo,
    reach: float,
    progress: Callable[[float], None] | None,
) -> int:
    count = 0
    with av.open(str(temporary), mode="w") as out:
        stream = out.add_stream("libx264", rate=Fraction(round(info.fps * 1000), 1000))
        stream.width, stream.height = info.width - info.width % 2, info.height - info.height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "21", "preset": "veryfast"}
        for t, image in frames(source):
            image = image[: stream.height, : stream.width]
            for track in tracks:
                box = track.box_at(t, reach)
                if box is not None:
                    pixelate(image, box)
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            ):
                out.mux(packet)
            count += 1
            if progress is not None and info.duration_s:
                progress(min(1.0, t / info.duration_s))
        for packet in stream.encode():
            out.mux(packet)
    temporary.replace(target)
    return count


def pixelate(image: np.ndarray, box: Box) -> None:
    """Hide a region (fractions of the frame) of ``image`` in place, as the face exports do:
    a few coarse blocks, blurred, over the box widened by a quarter."""
    height, width = image.shape[:2]
    pixels = (box[0] * width, box[1] * height, box[2] * width, box[3] * height)
    image[:] = blur_boxes(image, [pixels])


def draw(
    image: np.ndarray, tracks: Sequence[tuple[Track, bool]], t: float, every_s: float
) -> np.ndarray:
    """A frame with each track's box drawn: red to hide, green kept visible, with its id."""
    out = image.copy()
    height, width = out.shape[:2]
    for track, kept in tracks:
        box = track.box_at(t, every_s * 0.75)
        if box is None:
            continue
        colour = (60, 180, 60) if kept else (40, 40, 220)
        p0 = (int(box[0] * width), int(box[1] * height))
        p1 = (int(box[2] * width), int(box[3] * height))
        cv2.rectangle(out, p0, p1, colour, 2)
        cv2.putText(
            out,
            track.id,
            (p0[0], max(12, p0[1] - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            colour,
            1,
            cv2.LINE_AA,
        )
    return out


def _normalised(box: Box, width: int, height: int) -> Box:
    return (
        max(0.0, box[0] / width),
        max(0.0, box[1] / height),
        min(1.0, box[2] / width),
        min(1.0, box[3] / height),
    )


def _iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _box(values: Sequence[Any]) -> Box:
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)
