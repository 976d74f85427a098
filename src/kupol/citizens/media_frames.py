"""What a citizen's photo or video shows: the frames to read plates on, the plates read (voted
across a video's frames), and a preview to show back to the citizen with every face blurred.

A photo is one frame, turned upright by its EXIF orientation. A video gives up to ``max_frames``
frames, one from each of as many equal slices of it, found by seeking to the key frame before
each slice's middle and decoding forward into the slice: a phone's clip (a key frame every
second or two) costs ``max_frames`` short decodes, not a full one; a clip with no key frame
between two slices is decoded forward instead (about a full decode). Measured on two CPU
cores, 1080p H.264: 0.3 s for a 10 s clip with a key frame a second, 1.0 s with one key frame,
0.2–0.5 s for 60 s clips. A frame is turned upright by the rotation of the display matrix a
phone writes (a mirror flip in it is ignored). Every frame is downscaled so that its longest
side is at most ``max_side``.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (4000, 3000), "grey").save(buffer, "JPEG")
    >>> (frame,) = frames_of(buffer.getvalue(), "image/jpeg")
    >>> frame.index, frame.at_s, frame.image.shape
    (0, 0.0, (1200, 1600, 3))
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from kupol.core.errors import InvalidInputError
from kupol.faces.files import MAX_PIXELS, encode_jpeg
from kupol.faces.privacy import blur_boxes
from kupol.plates.formats import normalise, parse_plate, within_one
from kupol.plates.readers import Box, PlateRead, PlateReader
from kupol.plates.voting import TrackRead, vote

MAX_GUESSES = 3
PREVIEW_QUALITY = 85

FaceFinder = Callable[[NDArray[np.uint8]], list[Box]]
"""Face boxes (x1, y1, x2, y2) in a BGR image's pixels."""


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One picture of a citizen's media: the photo itself, or a sampled frame of a video."""

    index: int
    """Its place among the sampled frames (0 for a photo): what ``preview(frame=…)`` takes."""
    at_s: float
    """Seconds into the video (0 for a photo)."""
    image: NDArray[np.uint8]
    """BGR, upright, its longest side at most the ``max_side`` asked for."""


@dataclass(frozen=True, kw_only=True)
class PlateGuess:
    """A plate the media show, voted over the frames it was read on."""

    text: str
    confidence: float
    """The reads' agreement on ``text`` times the best agreeing read's confidence (0–1)."""
    frames: int
    """Sampled frames it was read on."""
    best_frame: int
    """The :attr:`Frame.index` of its most confident agreeing read."""
    box: Box | None
    """Where the plate is in that frame."""


@dataclass(frozen=True, kw_only=True)
class Preview:
    """A JPEG (no metadata) to show the citizen, faces blurred."""

    jpeg: bytes
    faces_blurred: int
    width: int
    height: int


def frames_of(
    data: bytes, media_type: str, *, max_frames: int = 8, max_side: int = 1600
) -> list[Frame]:
    """The frames of a photo (one) or a video (up to ``max_frames``, evenly spread), upright
    and downscaled to ``max_side``; see the module.

    Args:
        data: the file's bytes.
        media_type: ``image/…`` (JPEG, PNG; anything PIL reads) or ``video/…`` (MP4,
            QuickTime; anything FFmpeg reads); parameters such as ``; charset`` are ignored.
        max_frames: most frames taken from a video.
        max_side: longest side of a returned image, in pixels.

    Raises:
        InvalidInputError: An unknown media type, bad limits, or a file that cannot be read as
            the media type says.
    """
    if max_frames < 1 or max_side < 16:
        raise InvalidInputError("max_frames must be at least 1 and max_side at least 16")
    return _decode(data, media_type, max_frames=max_frames, max_side=max_side, choose=range)


def read_plates(
    frames: Sequence[Frame], reader: PlateReader, *, min_confidence: float = 0.5,
    limit: int = MAX_GUESSES,
) -> list[PlateGuess]:  # fmt: skip
    """The plates read on ``frames``, at most three, the most often read first.

    Each frame is read whole; reads less sure than ``min_confidence`` or not in a Kazakh
    format (:func:`kupol.plates.formats.parse_plate`) are dropped. Reads of the same text, or
    within one character of a group's best read and near it in the picture, are one plate;
    each group is voted (:func:`kupol.plates.voting.vote`). Sorted by frames read on, then
    confidence, then text.
    """
    reads: list[tuple[Frame, PlateRead]] = []
    for frame in frames:
        for read in reader.read_photo(frame.image):
            text = normalise(read.text)
            if read.confidence >= min_confidence and parse_plate(text).kazakh:
                reads.append(
                    (frame, PlateRead(text=text, confidence=read.confidence, box=read.box))
                )
    reads.sort(key=lambda fr: (-fr[1].confidence, fr[0].index, fr[1].text))
    groups: list[list[tuple[Frame, PlateRead]]] = []
    for frame, read in reads:
        for group in groups:
            best = group[0][1]
            if read.text == best.text or (
                within_one(read.text, best.text) and _near(read.box, best.box)
            ):
                group.append((frame, read))
                break
        else:
            groups.append([(frame, read)])
    guesses = [guess for group in groups if (guess := _guess(group)) is not None]
    guesses.sort(key=lambda g: (-g.frames, -g.confidence, g.text))
    return guesses[:limit]


def preview(
    data: bytes,
    media_type: str,
    find_faces: FaceFinder,
    *,
    frame: int | None = None,
    max_side: int = 1280,
) -> Preview:
    """The photo, or a video's ``frame``-th sampled frame (its middle one by default; the
    sampling of :func:`frames_of` with its defaults), downscaled to ``max_side``, with every
    box ``find_faces`` returns blurred (:func:`kupol.faces.privacy.blur_boxes`), as a JPEG of
    quality 85 encoded from the pixels: no EXIF, no GPS, nothing of the original file's
    metadata.

    Raises:
        InvalidInputError: The media cannot be read, or the video has no ``frame``-th frame.
        Exception: Whatever ``find_faces`` raises, unchanged: no preview is made from a
            picture whose faces could not be looked for.
    """
    if max_side < 16:
        raise InvalidInputError("max_side must be at least 16")

    def chosen(count: int) -> Iterable[int]:
        if frame is not None and not 0 <= frame < count:
            raise InvalidInputError(f"the media have {count} sampled frame(s), not a frame {frame}")
        return [count // 2 if frame is None else frame]

    (picture,) = _decode(data, media_type, max_frames=8, max_side=max_side, choose=chosen)
    boxes = find_faces(picture.image)  # raising here leaves no unblurred copy behind
    blurred = blur_boxes(picture.image, list(boxes))
    jpeg, (height, width) = encode_jpeg(blurred, quality=PREVIEW_QUALITY), blurred.shape[:2]
    return Preview(jpeg=jpeg, faces_blurred=len(boxes), width=width, height=height)


def _decode(
    data: bytes,
    media_type: str,
    *,
    max_frames: int,
    max_side: int,
    choose: Callable[[int], Iterable[int]],
) -> list[Frame]:
    """The chosen frames (``choose`` maps how many were sampled to which to keep)."""
    kind = media_type.split(";")[0].strip().lower()
    if not data:
        raise InvalidInputError("the file is empty")
    if kind.startswith("image/"):
        photo = Frame(index=0, at_s=0.0, image=_photo(data, max_side))
        return [photo for _ in choose(1)]
    if kind.startswith("video/"):
        return _video(data, max_frames, max_side, choose)
    raise InvalidInputError(f"not a photo or video: {media_type!r}")


def _photo(data: bytes, max_side: int) -> NDArray[np.uint8]:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise InvalidInputError(f"the photo has more than {MAX_PIXELS // 10**6} megapixels")
            # A JPEG decodes at 1/2–1/8 scale straight from its DCT when still ≥ max_side.
            scale = max_side / max(width, height)
            if scale < 1:
                opened.draft("RGB", (round(width * scale), round(height * scale)))
            rgb = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"), np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise InvalidInputError(f"the photo is not a readable image: {exc}") from exc
    return _fit(np.ascontiguousarray(rgb[:, :, ::-1]), max_side)


def _fit(image: NDArray[np.uint8], max_side: int) -> NDArray[np.uint8]:
    """``image`` shrunk so that its longest side is at most ``max_side``."""
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def _video(
    data: bytes, max_frames: int, max_side: int, choose: Callable[[int], Iterable[int]]
) -> list[Frame]:
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInputError("the video has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            start_s = float(stream.start_time * base) if stream.start_time and base else 0.0
            duration = float(stream.duration * base) if stream.duration and base else 0.0
            if not duration and container.duration:
                duration = container.duration / av.time_base
            # Moments in the middle of equal slices: the first frame from a quarter slice
            # before each is taken.
            slice_s = duration / max_frames if duration > 0 else 1.0
            sampled: list[tuple[float, av.VideoFrame]] = []
            decoded = container.decode(stream)
            last_s, position_s, seeking = -1.0, 0.0, base is not None
            for i in range(max_frames):
                target, after_seek = slice_s * (i + 0.5), False
                if seeking and base is not None and target - slice_s / 4 > position_s + 1.0:
                    # To the key frame before the moment rather than through every frame.
                    container.seek(int((start_s + target) / base), stream=stream)
                    decoded, after_seek = container.decode(stream), True
                for got in decoded:
                    at_s = float(got.time) - start_s if got.time is not None else position_s
                    if after_seek and at_s <= last_s:
                        seeking = False  # no key frame in between: decode forward from now on
                    after_seek, position_s = False, at_s
                    if at_s > last_s and at_s >= target - slice_s / 4:
                        sampled.append((at_s, got))
                        last_s = at_s
                        break
            if not sampled:
                raise InvalidInputError("the video has no decodable frames")
            return [
                Frame(index=i, at_s=sampled[i][0], image=_upright(sampled[i][1], max_side))
                for i in choose(len(sampled))
            ]
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"the video is not readable: {exc}") from exc


def _upright(frame: av.VideoFrame, max_side: int) -> NDArray[np.uint8]:
    """A decoded frame as BGR, shrunk to ``max_side``, turned as its display matrix says."""
    scale = min(1.0, max_side / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    image = frame.to_ndarray(format="bgr24", width=width, height=height, interpolation="AREA")
    turns = round(frame.rotation / 90) % 4  # counter-clockwise, as FFmpeg gives it
    return np.ascontiguousarray(np.rot90(np.asarray(image, np.uint8), turns))


def _near(a: Box | None, b: Box | None) -> bool:
    """Whether two boxes are about the same place (centres within one and a half widths)."""
    if a is None or b is None:
        return True
    reach = 1.5 * max(a[2] - a[0], b[2] - b[0], 1.0)
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    return bool(dx * dx + dy * dy <= reach * reach)


def _guess(group: list[tuple[Frame, PlateRead]]) -> PlateGuess | None:
    voted = vote([TrackRead(text=r.text, confidence=r.confidence, frame=f.index) for f, r in group])
    if voted is None:
        return None
    agreeing = [(f, r) for f, r in group if r.text == voted.text] or group
    frame, best = max(agreeing, key=lambda fr: (fr[1].confidence, -fr[0].index))
    frames = len({f.index for f, _ in group})
    return PlateGuess(text=voted.text, confidence=voted.confidence * best.confidence,
                      frames=frames, best_frame=frame.index, box=best.box)  # fmt: skip
