"""A road clip with Kazakh plates: real cars from a public video, each given a rendered plate.

The demo and the live plate test use it: public data holds road video but no Kazakh plates,
so the clip is composed (at run time, never committed) from ``../shared/data/video`` and the
plate renderer. The real NanoDet detector and tracker run over the source frames once; each
car track gets its own plate, drawn on the lower middle of the car's box on every frame the
car is tracked, lightly degraded frame by frame (noise, blur, JPEG), then the clip is
encoded as H.264, as a camera would send it.

The plates are larger than life (half the car's width): the source is 768 × 432 and seen
from above, where a true-to-scale plate would be a dozen pixels high.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from kupol.core.errors import InvalidInputError
from kupol.plates.augment import degrade
from kupol.plates.formats import normalise
from kupol.plates.render import PlateStyle, available_fonts, render_plate
from kupol.vision.detectors.base import Detector, NanoDetConfig
from kupol.vision.plugins import detector_for
from kupol.vision.tracking import ByteTracker

WIDTH, HEIGHT = 1280, 720
DEMO_PLATES = ("123ABC02", "505KZA01", "777GG17", "248DAR09", "901TEN05", "316MAX14")
"""Plates given to the cars in turn (individuals' and an organisation's)."""
PLATE_SCALE = 0.5
"""A plate's width as a share of its car's box width."""
MIN_BOX = (0.12, 0.25)
"""Least (width, height) of a car's box, as shares of the frame: NanoDet also reports road
markings and fragments of cars at the frame's edge, which get no plate."""

BGR = NDArray[np.uint8]


@dataclass(frozen=True, kw_only=True)
class PlatedVehicle:
    """A car in the clip and the plate drawn on it."""

    plate: str
    first_s: float
    last_s: float
    frames: int
    """Frames the plate is drawn on."""


@dataclass(frozen=True, kw_only=True)
class PlatesClip:
    """The composed clip and what is on it."""

    path: Path
    vehicles: tuple[PlatedVehicle, ...]


def write_plates_clip(
    source: Path,
    path: Path,
    *,
    plates: Sequence[str] = DEMO_PLATES,
    segments: Sequence[tuple[float, float]] | None = None,
    seed: int = 0,
    detector: Detector | None = None,
) -> PlatesClip:
    """Write ``path`` (MP4, 1280 × 720): ``source`` with a rendered plate on each car track.

    Args:
        source: a road video (``cars-intel.mp4``).
        path: the clip to write; a JSON file beside it (same name, ``.json``) lists the plates.
        plates: the plates given to the cars, in the order the cars appear (reused in turn
            when there are more cars).
        segments: parts of ``source`` to keep, as (start, end) seconds; all of it by default.
        seed: the plates' looks (font, wear) and frame-by-frame degradation.
        detector: the car detector (default: the shipped NanoDet).

    Raises:
        InvalidInputError: ``source`` cannot be read, or no car was found on it.
    """
    if not plates:
        raise InvalidInputError("a plates clip needs at least one plate")
    detector = detector or detector_for(NanoDetConfig())
    assert detector is not None
    fps = _rate(source)
    boxes = _car_boxes(source, detector, fps=float(fps), segments=segments)
    order = sorted(boxes, key=lambda track: min(boxes[track]))
    if not order:
        raise InvalidInputError(f"{source}: no car found to put a plate on")
    assigned = {track: normalise(plates[i % len(plates)]) for i, track in enumerate(order)}
    rng = np.random.default_rng(seed)
    fonts = available_fonts(extra_dirs=())  # the system's fonts: the same clip on every machine
    drawn = {
        track: render_plate(
            _spaced(text),
            style=PlateStyle.KZ_ORGANISATION if len(text) == 7 else PlateStyle.KZ_INDIVIDUAL,
            rng=rng,
            font=fonts,
        ).image
        for track, text in assigned.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part.mp4")
    shown: dict[int, list[float]] = defaultdict(list)
    with av.open(str(temporary), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        # A key frame a second, as cameras send: a source that falls behind skips to one.
        stream.options = {"crf": "20", "preset": "veryfast", "g": str(max(1, round(fps)))}
        for index, pts_s, image in _frames(source, segments):
            frame = np.asarray(
                cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC), np.uint8
            )
            sx, sy = WIDTH / image.shape[1], HEIGHT / image.shape[0]
            for track, by_frame in boxes.items():
                box = by_frame.get(index)
                if box is None:
                    continue
                x1, y1, x2, y2 = box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy
                if _paste_plate(frame, drawn[track], (x1, y1, x2, y2), rng):
                    shown[track].append(pts_s)
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
            for packet in stream.encode(video):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    temporary.replace(path)
    vehicles = tuple(
        PlatedVehicle(
            plate=assigned[track],
            first_s=round(min(shown[track]), 3),
            last_s=round(max(shown[track]), 3),
            frames=len(shown[track]),
        )
        for track in order
        if shown[track]
    )
    _listing(path).write_text(json.dumps([asdict(v) for v in vehicles], indent=1), encoding="utf-8")
    return PlatesClip(path=path, vehicles=vehicles)


def read_plates_clip(path: Path) -> PlatesClip | None:
    """A clip written before, with its plates (``None`` when it or its listing is missing)."""
    listing = _listing(path)
    if not path.is_file() or not listing.is_file():
        return None
    rows = json.loads(listing.read_text(encoding="utf-8"))
    return PlatesClip(path=path, vehicles=tuple(PlatedVehicle(**row) for row in rows))


def _listing(path: Path) -> Path:
    return path.with_suffix(".json")


def _spaced(text: str) -> str:
    """``123ABC02`` as the renderer groups it: ``123 ABC 02``."""
    return f"{text[:3]} {text[3:-2]} {text[-2:]}"


def _rate(source: Path) -> Fraction:
    try:
        with av.open(str(source)) as container:
            rate = container.streams.video[0].average_rate
    except (av.error.FFmpegError, IndexError) as exc:
        raise InvalidInputError(f"{source}: not a readable video ({exc})") from None
    return Fraction(rate) if rate else Fraction(25)


def _frames(
    source: Path, segments: Sequence[tuple[float, float]] | None
) -> Iterator[tuple[int, float, BGR]]:
    """(index, time, BGR image) of every decoded frame inside ``segments``."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            base = stream.time_base
            pts_s = float(frame.pts * base) if frame.pts is not None and base else 0.0
            if segments is None or any(a <= pts_s < b for a, b in segments):
                yield index, pts_s, np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)


def _car_boxes(
    source: Path,
    detector: Detector,
    *,
    fps: float,
    segments: Sequence[tuple[float, float]] | None,
) -> dict[int, dict[int, tuple[float, float, float, float]]]:
    """Each car track's box (source pixels) on each frame it is tracked."""
    tracker = ByteTracker(fps=fps, min_hits=2, lost_seconds=0.5)
    boxes: dict[int, dict[int, tuple[float, float, float, float]]] = defaultdict(dict)
    last_pts: float | None = None
    offset = 0  # track ids of a later segment follow those of the earlier ones
    for index, pts_s, image in _frames(source, segments):
        if last_pts is not None and pts_s - last_pts > 1.0:
            # A cut between segments: nothing carries over.
            offset = max(boxes, default=0)
            tracker = ByteTracker(fps=fps, min_hits=2, lost_seconds=0.5)
        last_pts = pts_s
        height, width = image.shape[:2]
        tracked = tracker.update(detector.detect(image), frame_index=index, pts_s=pts_s)
        for box, track in zip(tracked.xyxy, tracked.tracker_id, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            big = x2 - x1 >= MIN_BOX[0] * width and y2 - y1 >= MIN_BOX[1] * height
            if track >= 0 and big:
                boxes[offset + int(track)][index] = (x1, y1, x2, y2)
    return {track: by_frame for track, by_frame in boxes.items() if len(by_frame) >= 3}


def _paste_plate(
    frame: BGR, plate: BGR, box: tuple[float, float, float, float], rng: np.random.Generator
) -> bool:
    """Draw ``plate`` on the lower middle of ``box``; whether it fitted in the frame."""
    x1, y1, x2, y2 = box
    width = int((x2 - x1) * PLATE_SCALE)
    height = int(width * plate.shape[0] / plate.shape[1])
    left = int((x1 + x2) / 2 - width / 2)
    top = int(y2 - 0.06 * (y2 - y1)) - height
    if width < 20 or left < 0 or top < 0 or left + width > frame.shape[1]:
        return False
    if top + height > frame.shape[0] - 2:
        return False  # the car's end is still outside the picture
    small = cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA)
    worn = degrade(np.asarray(small, np.uint8), rng, strength=0.15, geometry=False)
    frame[top : top + height, left : left + width] = worn
    return True
