"""The plate stage of a camera's pipeline: plates read on tracked vehicles a few times a second,
voted over each vehicle's frames, reported as :class:`PlateObserved` with the best crop.

A vehicle's plate is reported once: as soon as ``decide_reads`` reads agree on a Kazakh plate
(a hotlist hit must not wait for the vehicle to leave), else when its track ends, after
``max_reads`` reads or after ``max_track_s``. The sighting's time is that of the last frame
that voted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from kupol.faces.files import FaceFiles, encode_jpeg
from kupol.plates.config import CameraPlatesConfig
from kupol.plates.formats import PlateKind, fit_to_kazakh_format, parse_plate, within_one
from kupol.plates.messages import PlateObserved
from kupol.plates.readers import Image, PlateRead, PlateReader
from kupol.plates.voting import TrackRead, vote

log = logging.getLogger(__name__)
Box = tuple[float, float, float, float]


@dataclass(frozen=True, kw_only=True)
class TrackedVehicle:
    """A vehicle the tracker follows on this frame (box in the analysed frame's pixels)."""

    track_id: int
    box: Box
    vehicle_class: str


_DECIDED_EARLY = frozenset(
    {PlateKind.KZ_INDIVIDUAL, PlateKind.KZ_ORGANISATION, PlateKind.KZ_FOREIGN, PlateKind.KZ_1993}
)
"""Plates a vehicle is reported by before it leaves. Not a scooter's number (a letter and up
to five digits): a box that cut a car plate's digits off reads like one (``C02`` of
``123ABC02``), and the car's whole plate would never be read; a scooter is voted on when its
track ends, or after ``max_reads``."""


@dataclass(kw_only=True)
class _Vehicle:
    """What one vehicle's frames gave so far."""

    first_s: float
    last_s: float
    last_try_s: float = -1e9
    key: str | None = None
    vehicle_class: str | None = None
    colour: str | None = None
    path: list[tuple[float, float]] = field(default_factory=list)
    """Box centres, as shares of the frame's width and height."""
    reads: list[TrackRead] = field(default_factory=list)
    crops: dict[int, Image] = field(default_factory=dict)
    times: dict[int, datetime] = field(default_factory=dict)
    text: str = ""
    """The latest read (whole-frame reading groups reads by it)."""


class PlateStage:
    """Reads, votes and reports plates for one camera; called from its worker thread."""

    def __init__(
        self,
        *,
        camera_id: str,
        config: CameraPlatesConfig,
        reader: PlateReader,
        files: FaceFiles,
    ) -> None:
        self.camera_id = camera_id
        self.config = config
        self._reader = reader
        self._files = files
        self._vehicles: dict[int, _Vehicle] = {}
        self._done: set[int] = set()
        self._next_group = -1  # whole-frame plates are grouped under negative ids
        self._reported: dict[str, float] = {}
        """Whole-frame plates reported, with when they were last read (not reported again
        while they stay in view)."""
        self._last_whole = -1e9
        self._reads = 0
        self.plates_reported = 0

    def process(
        self,
        image: Image,
        *,
        pts_s: float,
        occurred: datetime,
        vehicles: Sequence[TrackedVehicle] = (),
        ended: Sequence[int] = (),
        track_key: Callable[[int], str] | None = None,
        full: Callable[[], Image] | None = None,
    ) -> list[PlateObserved]:
        """Plates decided on this frame.

        ``image`` is the analysed frame (vehicle boxes are in its pixels); ``full`` gives the
        decoded frame at full resolution, where plates are read when there is one; ``ended``
        are the tracks that ended on this frame.
        """
        if self.config.whole_frame:
            return self._whole_frame(image, pts_s=pts_s, occurred=occurred, full=full)
        config = self.config
        height, width = image.shape[:2]
        for vehicle in vehicles:
            state = self._vehicles.get(vehicle.track_id)
            if state is None:
                if vehicle.track_id in self._done:
                    continue
                state = self._vehicles[vehicle.track_id] = _Vehicle(first_s=pts_s, last_s=pts_s)
            x1, y1, x2, y2 = vehicle.box
            state.last_s = pts_s
            state.vehicle_class = vehicle.vehicle_class
            state.key = track_key(vehicle.track_id) if track_key else None
            state.path.append(((x1 + x2) / 2 / width, (y1 + y2) / 2 / height))
        due = [
            v
            for v in vehicles
            if v.track_id in self._vehicles
            and pts_s - self._vehicles[v.track_id].last_try_s >= config.interval_s
        ][: config.max_vehicles]
        messages: list[PlateObserved] = []
        if due:
            sharp = full() if full is not None else image
            scale = sharp.shape[1] / max(1, width)
            regions = {
                v.track_id: _padded(_scaled(v.box, scale), config.padding, sharp.shape) for v in due
            }
            reads = self._read_regions(sharp, list(regions.values()))
            for vehicle in due:
                state = self._vehicles[vehicle.track_id]
                state.last_try_s = pts_s
                crop = _cut(sharp, regions[vehicle.track_id])
                if crop.size == 0:
                    continue
                if config.colour and state.colour is None:
                    state.colour = dominant_colour(crop)
                mine = [r for r in reads if _owner(r, regions, len(due)) == vehicle.track_id]
                found = best_plate(mine)
                if found is not None:
                    self._add_read(state, found, crop, occurred)
                if self._decided(state):
                    messages += self._report(vehicle.track_id, occurred)
        for track_id in ended:
            messages += self._report(track_id, occurred)
        for track_id, state in list(self._vehicles.items()):
            if pts_s - state.first_s >= config.max_track_s:
                messages += self._report(track_id, occurred)
        return messages

    def finish(self, occurred: datetime) -> list[PlateObserved]:
        """Report every vehicle still in view (the end of a file or a stopped camera)."""
        messages: list[PlateObserved] = []
        for track_id in list(self._vehicles):
            messages += self._report(track_id, occurred)
        return messages

    def _whole_frame(
        self, image: Image, *, pts_s: float, occurred: datetime, full: Callable[[], Image] | None
    ) -> list[PlateObserved]:
        """Every plate in the picture; reads of one plate (within a character) are grouped as
        one vehicle until it has not been read for ``forget_s``."""
        config = self.config
        messages: list[PlateObserved] = []
        if pts_s - self._last_whole >= config.interval_s:
            self._last_whole = pts_s
            sharp = full() if full is not None else image
            for found in plates_in(self._reader.read_photo(sharp)):
                text = fit_to_kazakh_format(found.text)
                known = next((t for t in self._reported if within_one(t, text)), None)
                if known is not None:
                    self._reported[known] = pts_s
                    continue
                group = next(
                    (g for g, v in self._vehicles.items() if within_one(v.text, text)), None
                )
                if group is None:
                    group, self._next_group = self._next_group, self._next_group - 1
                    self._vehicles[group] = _Vehicle(first_s=pts_s, last_s=pts_s)
                state = self._vehicles[group]
                state.last_s = pts_s
                crop = padded_crop(sharp, found.box or (0, 0, 0, 0), 1.0)
                self._add_read(state, found, crop if crop.size else sharp, occurred)
                if self._decided(state):
                    messages += self._report(group, occurred)
        for group, state in list(self._vehicles.items()):
            if pts_s - state.last_s >= config.forget_s or pts_s - state.first_s >= (
                config.max_track_s
            ):
                messages += self._report(group, occurred)
        self._reported = {t: s for t, s in self._reported.items() if pts_s - s < config.forget_s}
        for message in messages:
            self._reported.setdefault(message.plate, pts_s)
        return messages

    def _read_regions(self, image: Image, regions: Sequence[Box]) -> list[PlateRead]:
        """One reader call for every region (a reader's cost is mostly per call), its boxes
        mapped back to the frame's pixels."""
        left = min(r[0] for r in regions)
        top = min(r[1] for r in regions)
        right = max(r[2] for r in regions)
        bottom = max(r[3] for r in regions)
        crop = _cut(image, (left, top, right, bottom))
        if crop.size == 0:
            return []
        ox, oy = int(left), int(top)
        return [
            PlateRead(
                text=r.text,
                confidence=r.confidence,
                box=None
                if r.box is None
                else (r.box[0] + ox, r.box[1] + oy, r.box[2] + ox, r.box[3] + oy),
            )
            for r in self._reader.read_photo(crop)
        ]

    def _add_read(self, state: _Vehicle, found: PlateRead, crop: Image, at: datetime) -> None:
        self._reads += 1
        state.reads.append(
            TrackRead(text=found.text, confidence=found.confidence, frame=self._reads)
        )
        state.crops[self._reads] = crop
        state.times[self._reads] = at
        state.text = fit_to_kazakh_format(found.text)

    def _decided(self, state: _Vehicle) -> bool:
        if len(state.reads) >= self.config.max_reads:
            return True
        if len(state.reads) < self.config.decide_reads:
            return False
        voted = vote(state.reads)
        return (
            voted is not None
            and parse_plate(voted.text).kind in _DECIDED_EARLY
            and _confidence(voted.confidence, state.reads) >= self.config.min_confidence
        )

    def _report(self, track_id: int, occurred: datetime) -> list[PlateObserved]:
        """The vehicle's voted plate, once; the vehicle is forgotten either way."""
        state = self._vehicles.pop(track_id, None)
        if state is None:
            return []
        if track_id >= 0:
            self._done.add(track_id)
            if len(self._done) > 10_000:
                self._done = set(sorted(self._done)[-1000:])
        voted = vote(state.reads)
        if voted is None:
            return []
        confidence = _confidence(voted.confidence, state.reads)
        if confidence < self.config.min_confidence or parse_plate(voted.text).kind in (
            PlateKind.INVALID,
        ):
            log.debug(
                "camera %s: plate %s not reported (%.2f)", self.camera_id, voted.text, confidence
            )
            return []
        seen_at = max(state.times.values(), default=occurred)
        stored = self._files.save(
            encode_jpeg(state.crops[voted.best_frame]),
            folder=f"{self.camera_id}/plates/{seen_at:%Y/%m/%d}",
        )
        self.plates_reported += 1
        return [
            PlateObserved(
                camera_id=self.camera_id,
                plate=voted.text,
                seen_at=seen_at,
                confidence=round(confidence, 4),
                direction=self._direction(state.path),
                vehicle_class=state.vehicle_class,
                vehicle_colour=state.colour,
                track=state.key,
                crop_uri=stored.uri,
                crop_sha256=stored.sha256,
            )
        ]

    def _direction(self, path: Sequence[tuple[float, float]]) -> str | None:
        way = direction_of(path)
        return None if way is None else getattr(self.config.directions, way)


def _confidence(agreement: float, reads: Sequence[TrackRead]) -> float:
    """How sure the vehicle's plate is: the reads' agreement times their mean confidence."""
    return agreement * float(np.mean([r.confidence for r in reads])) if reads else 0.0


def plate_score(read: PlateRead) -> tuple[int, int, float]:
    """How plate-like a read is: a Kazakh format first, then letters mixed with digits.

    Example:
        >>> plate_score(PlateRead(text="123ABC02", confidence=0.9))
        (2, 1, 7.2)
    """
    text = fit_to_kazakh_format(read.text)
    kazakh = int(parse_plate(text).kazakh)
    mixed = int(any(c.isdigit() for c in text) and any(c.isalpha() for c in text))
    fits = 4 <= len(text) <= 10
    return (kazakh + int(bool(mixed) and fits), mixed, read.confidence * len(text))


def plates_in(reads: Sequence[PlateRead]) -> list[PlateRead]:
    """The plate-like text on each line of a photo's reads.

    A reader may split a plate into pieces (``123 ABC`` and the region cell ``02``): the reads
    on one line are joined in turn, left to right, and the most plate-like run is the line's.

    Example:
        >>> reads = [PlateRead(text="02", confidence=0.9, box=(90, 10, 110, 30)),
        ...          PlateRead(text="123ABC", confidence=0.8, box=(10, 10, 85, 30)),
        ...          PlateRead(text="KZ", confidence=0.9, box=(0, 60, 20, 70))]
        >>> [r.text for r in plates_in(reads)]
        ['123ABC02']
    """
    boxed = sorted((r for r in reads if r.box is not None), key=lambda r: r.box[0])  # type: ignore[index]
    lines: list[list[PlateRead]] = []
    for read in boxed:
        line = next((ln for ln in lines if _same_line(ln[-1], read)), None)
        if line is None:
            lines.append([read])
        else:
            line.append(read)
    lines += [[r] for r in reads if r.box is None]
    found = []
    for line in lines:
        runs = [_joined(line[i:j]) for i in range(len(line)) for j in range(i + 1, len(line) + 1)]
        best = max(runs, key=plate_score)
        if plate_score(best)[0] > 0:
            found.append(best)
    return found


def best_plate(reads: Sequence[PlateRead]) -> PlateRead | None:
    """The most plate-like text in a vehicle's crop, or ``None``."""
    found = plates_in(reads)
    return max(found, key=plate_score) if found else None


def _same_line(a: PlateRead, b: PlateRead) -> bool:
    assert a.box is not None and b.box is not None
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    smaller = min(a.box[3] - a.box[1], b.box[3] - b.box[1])
    gap = b.box[0] - a.box[2]
    return smaller > 0 and overlap >= 0.5 * smaller and gap <= 1.5 * smaller


def _joined(run: Sequence[PlateRead]) -> PlateRead:
    if len(run) == 1:
        return run[0]
    boxes = [r.box for r in run if r.box is not None]
    return PlateRead(
        text="".join(r.text for r in run),
        confidence=min(r.confidence for r in run),
        box=(
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ),
    )


def padded_crop(image: Image, box: Box, padding: float) -> Image:
    """``box`` widened by ``padding`` of its size on each side, clipped to the image.

    Example:
        >>> padded_crop(np.zeros((100, 200, 3), np.uint8), (50, 40, 150, 60), 0.1).shape
        (24, 120, 3)
    """
    return _cut(image, _padded(box, padding, image.shape))


def _padded(box: Box, padding: float, shape: tuple[int, ...]) -> Box:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (
        float(int(max(0, x1 - padding * w))),
        float(int(max(0, y1 - padding * h))),
        float(int(min(shape[1], x2 + padding * w))),
        float(int(min(shape[0], y2 + padding * h))),
    )


def _cut(image: Image, box: Box) -> Image:
    x1, y1, x2, y2 = (int(v) for v in box)
    return np.ascontiguousarray(image[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)])


def _owner(read: PlateRead, regions: dict[int, Box], due: int) -> int | None:
    """The vehicle whose region holds the read's centre (the nearest centre when regions
    overlap); a read without a box belongs to the only vehicle read, if there is one."""
    if read.box is None:
        return next(iter(regions)) if due == 1 else None
    cx, cy = (read.box[0] + read.box[2]) / 2, (read.box[1] + read.box[3]) / 2
    best: tuple[float, int] | None = None
    for track_id, (x1, y1, x2, y2) in regions.items():
        if x1 <= cx <= x2 and y1 <= cy <= y2:
            d = (cx - (x1 + x2) / 2) ** 2 + (cy - (y1 + y2) / 2) ** 2
            if best is None or d < best[0]:
                best = (d, track_id)
    return None if best is None else best[1]


def direction_of(path: Sequence[tuple[float, float]], min_move: float = 0.05) -> str | None:
    """Which way a vehicle moved across the picture: ``up``, ``down``, ``left``, ``right``,
    or ``None`` when it barely moved (centres as shares of the frame).

    Example:
        >>> direction_of([(0.5, 0.8), (0.52, 0.5), (0.5, 0.2)])
        'up'
    """
    if len(path) < 2:
        return None
    dx = path[-1][0] - path[0][0]
    dy = path[-1][1] - path[0][1]
    if max(abs(dx), abs(dy)) < min_move:
        return None
    if abs(dy) >= abs(dx):
        return "down" if dy > 0 else "up"
    return "right" if dx > 0 else "left"


_HUES = ((10, "red"), (22, "orange"), (34, "yellow"), (85, "green"), (130, "blue"),
         (160, "purple"), (180, "red"))  # fmt: skip


def dominant_colour(crop: Image) -> str | None:
    """The vehicle's colour in a word, from the middle of its crop (windows and road at the
    edges are left out): white, silver, grey, black, or a hue when the paint is saturated.

    Example:
        >>> dominant_colour(np.full((40, 40, 3), (30, 30, 200), np.uint8))
        'red'
    """
    h, w = crop.shape[:2]
    if h < 4 or w < 4:
        return None
    middle = crop[h // 4 : h - h // 4, w // 4 : w - w // 4]
    hsv = cv2.cvtColor(middle, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.float32)
    saturated = hsv[(hsv[:, 1] > 90) & (hsv[:, 2] > 60)]
    if len(saturated) > 0.3 * len(hsv):
        hue = float(np.median(saturated[:, 0]))
        return next(name for limit, name in _HUES if hue < limit)
    value = float(np.median(hsv[:, 2]))
    if value > 190:
        return "white"
    if value > 120:
        return "silver"
    return "grey" if value > 60 else "black"


def _scaled(box: Box, scale: float) -> Box:
    return (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
