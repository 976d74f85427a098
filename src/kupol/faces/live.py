"""The face stage of a camera's pipeline: faces on the heads of tracked people, a few times a
second per person, turned into :class:`FaceObserved` messages with a crop as evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from kupol.faces.config import CameraFacesConfig
from kupol.faces.files import FaceFiles
from kupol.faces.messages import FaceObserved
from kupol.faces.types import Face, FaceAnalyzer, Image

Box = tuple[float, float, float, float]
CROP_MARGIN = 0.35


@dataclass(frozen=True, kw_only=True)
class TrackedPerson:
    """A person the tracker follows on this frame."""

    track_id: int
    box: Box


class FaceStage:
    """Finds, embeds and reports faces for one camera; called from its worker thread."""

    def __init__(
        self,
        *,
        camera_id: str,
        config: CameraFacesConfig,
        analyzer: FaceAnalyzer,
        files: FaceFiles,
        model_name: str,
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        self._analyzer = analyzer
        self._files = files
        self._model = model_name
        self._last_try: dict[int, float] = {}
        self._last_whole = -1e9
        self.faces_seen = 0

    def process(
        self,
        image: Image,
        *,
        pts_s: float,
        occurred: datetime,
        people: list[TrackedPerson],
        track_key: Callable[[int], str],
        full: Callable[[], Image] | None = None,
    ) -> list[FaceObserved]:
        """Faces on this frame worth reporting (usable ones only).

        ``image`` is the analysed frame (people's boxes are in its pixels); ``full`` gives
        the decoded frame at full resolution, where faces are looked for when there is one:
        objects are found at the analysis width, faces need every pixel the camera has.
        """
        config = self.config
        if config.whole_frame:
            if pts_s - self._last_whole < config.interval_s:
                return []
            self._last_whole = pts_s
            sharp = full() if full is not None else image
            faces = _matchable(self._analyzer.analyze(sharp))
            return [self._message(sharp, f, occurred, None) for f in faces[: config.max_faces]]
        due = [
            p for p in people if pts_s - self._last_try.get(p.track_id, -1e9) >= config.interval_s
        ][: config.max_faces]
        if not due:
            return []
        for person in due:
            self._last_try[person.track_id] = pts_s
        live = {p.track_id for p in people}
        self._last_try = {k: v for k, v in self._last_try.items() if k in live}
        sharp = full() if full is not None else image
        scale = sharp.shape[1] / max(1, image.shape[1])
        regions = [
            head_region(_scaled(p.box, scale), sharp.shape[1], sharp.shape[0], config.head_fraction)
            for p in due
        ]
        faces = _matchable(self._analyzer.analyze(sharp, regions=regions))
        messages = []
        for face in faces:
            owner = _owner(face, due, regions)
            messages.append(
                self._message(
                    sharp, face, occurred, track_key(owner) if owner is not None else None
                )
            )
        return messages

    def _message(
        self, image: Image, face: Face, occurred: datetime, track: str | None
    ) -> FaceObserved:
        crop = context_crop(image, face.box)
        stored = self._files.save_crop(crop, camera_id=self.camera_id, at=occurred)
        self.faces_seen += 1
        return FaceObserved(
            camera_id=self.camera_id,
            seen_at=occurred,
            track=track,
            box=tuple(float(v) for v in face.box),  # type: ignore[arg-type]
            quality=float(face.quality.score),
            template=tuple(float(v) for v in face.embedding),
            model=self._model,
            crop_uri=stored.uri,
            crop_sha256=stored.sha256,
        )


def head_region(box: Box, width: int, height: int, fraction: float) -> Box:
    """Where a standing person's face is: the top part of their box, a little widened.

    Example:
        >>> head_region((100, 100, 200, 400), 640, 480, 0.45)
        (85.0, 70.0, 215.0, 235.0)
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (
        max(0.0, x1 - 0.15 * w),
        max(0.0, y1 - 0.1 * h),
        min(float(width), x2 + 0.15 * w),
        min(float(height), y1 + fraction * h),
    )


def context_crop(image: Image, box: Box, margin: float = CROP_MARGIN) -> Image:
    """The face with some of its surroundings, for a human to judge."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    left = int(max(0, x1 - margin * w))
    top = int(max(0, y1 - margin * h))
    right = int(min(image.shape[1], x2 + margin * w))
    bottom = int(min(image.shape[0], y2 + margin * h))
    return np.ascontiguousarray(image[top:bottom, left:right])


def _scaled(box: Box, scale: float) -> Box:
    return (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)


def _matchable(faces: list[Face]) -> list[Face]:
    """Faces good enough to match: poor ones (small, blurred, turned away) are not reported,
    so they can neither raise a false hit nor fill the search pool with noise."""
    return [f for f in faces if f.quality.usable and f.embedding.size > 0]


def _owner(face: Face, people: list[TrackedPerson], regions: list[Box]) -> int | None:
    cx = (face.box[0] + face.box[2]) / 2
    cy = (face.box[1] + face.box[3]) / 2
    best: tuple[float, int] | None = None
    for person, (x1, y1, x2, y2) in zip(people, regions, strict=True):
        if x1 <= cx <= x2 and y1 <= cy <= y2:
            # The nearest head-region centre wins when regions overlap.
            d = (cx - (x1 + x2) / 2) ** 2 + (cy - (y1 + y2) / 2) ** 2
            if best is None or d < best[0]:
                best = (d, person.track_id)
    return None if best is None else best[1]
