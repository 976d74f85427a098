"""kupol's own plate reader: a small CRNN trained on rendered plates, run with onnxruntime.

The model (``models/plate-crnn.onnx``, made by ``make plate-model`` from a seed) reads one
32 x 128 grey line of a plate into characters with CTC. A crop that may hold a two-line plate
(squarer than 2.8 : 1) is read both as one line and as its two halves side by side, and the
more plausible read wins: one that fits a plate layout of the deployment's countries (Kazakhstan
by default) first, then the higher confidence. Look-alike characters (``O``/``0``, ``B``/``8``,
``I``/``1`` …) are swapped where such a layout says a digit or a letter must stand. A read
less than ``sure`` is read again in two more views of the crop, and the views vote.

In a whole photo, :func:`kupol.plates.locate.locate_plates` proposes plate-like boxes; each is
read (a plate-shaped read that fits no layout again through a wider box, and a wider one
still, in case the box cut the plate short), and a box is a plate when its read is confident
enough — a read that fits a layout needs less — and plate-shaped (4 to 10 characters, digits
in it). The reader is what verifies the locator's guesses. With ``vehicles`` set, the locator
also looks inside each vehicle the COCO detector finds (:mod:`kupol.plates.vehicles`), where a
far plate is larger.

Example:
    >>> reader = CrnnPlateReader()
    >>> reader.read_crop(np.full((40, 160, 3), 255, np.uint8)).text
    ''
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kupol.plates.crnn_input import decode, plate_order, to_input
from kupol.plates.detector import DetectorSettings, PlateDetector
from kupol.plates.formats import fit_to_countries, fits_countries
from kupol.plates.layout_read import mend_reads
from kupol.plates.locate import (
    PlateCandidate,
    crop_candidate,
    locate_plates,
    shifted,
    widened,
)
from kupol.plates.readers import Box, PlateRead
from kupol.plates.vehicles import Region, VehicleRegions, VehicleRegionSettings
from kupol.vision.detectors.base import open_session

MODEL_PATH = Path(__file__).with_name("models") / "plate-crnn.onnx"

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, kw_only=True)
class CrnnSettings:
    """Knobs of :class:`CrnnPlateReader`.

    Attributes:
        min_confidence: A photo's candidate box counts as a plate only when its read weighs
            at least this much: its confidence (the least sure character's probability), plus
            ``layout_bonus`` when it fits a layout of ``countries``.
        layout_bonus: Added to the confidence of a photo's read laid out as a plate of
            ``countries`` (the layout is evidence of its own) before it is held against
            ``min_confidence`` and against overlapping reads.
        max_candidates: Boxes from the locator read per photo (each costs one model run).
        two_line_below: Crops narrower than this width-to-height ratio are also read as
            two-line plates.
        threads: ONNX Runtime intra-op threads.
        variants: Views of each crop that vote: 1 (as given), 2 (and shaved by a few per cent
            on each side), 3 (and contrast-equalised).
        sure: A first read at least this confident (its least sure character) is not read
            again in the other views: most clear plates take one model run.
        countries: Whose plate layouts correct look-alikes in a read (``O``/``0``, ``B``/``8``
            …; at most two swaps) and win over reads that fit none (keys of
            :data:`kupol.plates.formats.COUNTRY_LAYOUTS`).
        vehicles: In a whole photo, also look for plates inside each vehicle that kupol's
            COCO detector finds (:mod:`kupol.plates.vehicles`): a far plate at several times
            the resolution, for about 30 ms more a photo and a few more model runs. Off for
            cameras, whose plate stage already reads inside vehicle tracks.
        detector: In a whole photo, also read the places kupol's learned plate detector
            (:mod:`kupol.plates.detector`) finds, besides the classical locator's.
        mend: When no view of a crop reads a text in a layout of ``countries``, its one-line
            reads are mended to the text one character away that fits one, when the model's
            own probabilities nearly support it (:mod:`kupol.plates.layout_read`: a dropped
            character, a region code that does not exist); a mended read is less sure than
            the read it mends. In a photo, a box keeps its read when the mended one is too
            unsure to be reported.
    """

    countries: tuple[str, ...] = ("kz",)
    min_confidence: float = 0.5
    layout_bonus: float = 0.2
    max_candidates: int = 10
    two_line_below: float = 2.8
    threads: int = 1
    variants: int = 3
    sure: float = 0.6
    vehicles: bool = False
    detector: bool = True
    mend: bool = True


class CrnnPlateReader:
    """Reads plates with the shipped CRNN; see the module docstring."""

    name = "kupol"

    def __init__(
        self,
        settings: CrnnSettings | None = None,
        *,
        path: Path = MODEL_PATH,
        vehicles: Callable[[Image], list[Region]] | None = None,
        detector: Callable[[Image], list[PlateCandidate]] | None = None,
    ) -> None:
        """``vehicles`` finds the regions of a photo to look in besides the whole of it (by
        default :class:`~kupol.plates.vehicles.VehicleRegions` when ``settings.vehicles``);
        ``detector`` proposes plate places beside the classical locator's (by default
        :class:`~kupol.plates.detector.PlateDetector` when ``settings.detector``)."""
        self.settings = settings or CrnnSettings()
        self._session = open_session(path, threads=self.settings.threads)
        self._input = self._session.get_inputs()[0].name
        # Both load on the first whole photo: a reader of crops never needs them.
        self._vehicles = vehicles
        self._detector = detector

    def read_crops(self, crops: list[Image], *, mend: bool | None = None) -> list[PlateRead]:
        """One read per crop, in at most two model runs.

        Each crop is first read as given; a read at least ``settings.sure`` confident stands.
        The other crops are also read shaved a little and with their contrast equalised (as
        ``settings.variants`` asks), and all their reads vote: a text's votes are the sum of
        its confidences, a read that fits a plate layout of ``settings.countries`` beating one
        that fits none. ``mend`` (by default ``settings.mend``): when no view's read of a crop
        fits a layout, its one-line reads are mended (:mod:`kupol.plates.layout_read`) and the
        mended reads vote instead — all the crops' together, after the views are read.
        """
        mend = self.settings.mend if mend is None else mend
        if not crops:
            return []
        votes = [_Tally() for _ in crops]
        self._vote(crops, [[crop] for crop in crops], votes, mend=mend)
        unsure = [i for i, tally in enumerate(votes) if not self._sure(tally)]
        if unsure and self.settings.variants > 1:
            # The other views are made only for the crops that need them (one in ten).
            self._vote(
                [crops[i] for i in unsure],
                [_views(crops[i], self.settings.variants)[1:] for i in unsure],
                [votes[i] for i in unsure],
                mend=mend,
            )
        countries = self.settings.countries
        unfit = [
            t for t in votes if t.unfit and not any(fits_countries(r, countries) for r in t.reads)
        ]
        reads = [read for tally in unfit for read in tally.unfit]
        mended = iter(mend_reads(reads, countries) if reads else [])
        for tally in unfit:
            for _ in tally.unfit:
                if (read := next(mended)) is not None:
                    tally.mended.setdefault(read[0], []).append(read[1])
        return [self._decide(tally) for tally in votes]

    def _vote(
        self,
        crops: list[Image],
        views: list[list[Image]],
        votes: list[_Tally],
        *,
        mend: bool,
    ) -> None:
        """Read every view of every crop in one model run; add each read to its crop's tally."""
        inputs: list[npt.NDArray[np.float32]] = []
        owners: list[tuple[int, bool]] = []
        for i, (crop, crop_views) in enumerate(zip(crops, views, strict=True)):
            squarish = crop.shape[1] < crop.shape[0] * self.settings.two_line_below
            for view in crop_views:
                inputs.append(to_input(view, two_line=False))
                owners.append((i, False))
                if squarish:
                    inputs.append(to_input(view, two_line=True))
                    owners.append((i, True))
        if not inputs:
            return
        batch = np.stack(inputs)[:, None, :, :]
        probs = np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)
        countries = self.settings.countries
        for (i, two_line), p in zip(owners, probs, strict=True):
            raw, confidence = decode(p)
            text = fit_to_countries(plate_order(raw, two_line=two_line), countries)
            votes[i].reads.setdefault(text, []).append(confidence)
            if mend and not two_line and not fits_countries(text, countries):
                votes[i].unfit.append((p, text))

    def _weight(self, read: PlateRead) -> float:
        """A photo's read's weight: its confidence, and a bonus for fitting a layout."""
        fits = fits_countries(read.text, self.settings.countries)
        return read.confidence + self.settings.layout_bonus * fits

    def _decide(self, tally: _Tally) -> PlateRead:
        countries = self.settings.countries
        reads = tally.reads
        if tally.mended and not any(fits_countries(t, countries) for t in reads):
            reads = tally.mended
        text = max(reads, key=lambda t: (fits_countries(t, countries), sum(reads[t])))
        return PlateRead(text=text, confidence=max(reads[text]) if text else 0.0)

    def _sure(self, tally: _Tally) -> bool:
        return self._decide(tally).confidence >= self.settings.sure

    def read_crop(self, image: Image) -> PlateRead:
        """The text of one plate that fills ``image`` (an empty read when nothing is legible)."""
        return self.read_crops([image])[0]

    def _load_finders(self) -> None:
        """The learned detector and the vehicle regions the settings ask for, once."""
        if self._detector is None and self.settings.detector:
            self._detector = PlateDetector(DetectorSettings(threads=self.settings.threads)).find
        if self._vehicles is None and self.settings.vehicles:
            self._vehicles = VehicleRegions(VehicleRegionSettings(threads=self.settings.threads))

    def read_photo(self, image: Image) -> list[PlateRead]:
        """Plates in a whole photo (or a vehicle's crop), with boxes, the heaviest read first."""
        countries = self.settings.countries
        self._load_finders()
        candidates = self._detector(image) if self._detector is not None else []
        candidates += locate_plates(image, max_candidates=self.settings.max_candidates)
        if self._vehicles is not None:
            for x0, y0, x1, y1 in self._vehicles(image):
                inside = locate_plates(
                    image[y0:y1, x0:x1], max_candidates=self.settings.max_candidates
                )
                candidates += [shifted(c, x0, y0) for c in inside]
        first = self.read_crops([crop_candidate(image, c) for c in candidates], mend=False)

        def fragments() -> list[int]:
            """The boxes whose read is plate-shaped but fits no layout."""
            return [
                i
                for i, r in enumerate(first)
                if _plate_shaped(r.text) and not fits_countries(r.text, countries)
            ]

        # A box that cut a plate's first or last characters off reads a fragment that fits no
        # layout: such reads get a second look through a wider box, then a wider one still.
        for by in _WIDEN:
            again = fragments()
            wider = [widened(candidates[i], image.shape, by) for i in again]
            second = self.read_crops([crop_candidate(image, c) for c in wider], mend=False)
            for i, c, r in zip(again, wider, second, strict=True):
                if fits_countries(r.text, countries):
                    candidates[i], first[i] = c, r
        # Only then are the reads that still fit no layout mended (a mended fragment would
        # have stopped the wider looks that find the whole plate; one more model run for
        # each such box). A mended read too unsure to be reported leaves the read as it was.
        if self.settings.mend:
            again = fragments()
            mended = self.read_crops([crop_candidate(image, candidates[i]) for i in again])
            for i, r in zip(again, mended, strict=True):
                if fits_countries(r.text, countries) and (
                    self._weight(r) >= self.settings.min_confidence
                ):
                    first[i] = r
        reads = [
            PlateRead(text=r.text, confidence=r.confidence, box=c.box)
            for c, r in zip(candidates, first, strict=True)
            if _plate_shaped(r.text) and self._weight(r) >= self.settings.min_confidence
        ]
        # The heavier read wins its place: a read laid out as a plate of the deployment's
        # countries gets a bonus over one that is not (a box that cut a plate short reads a
        # confident fragment).
        reads.sort(key=lambda r: -self._weight(r))
        chosen: list[PlateRead] = []
        for read in reads:  # one read per place: the best of overlapping boxes
            if all(_overlap(read.box, c.box) < 0.3 for c in chosen):
                chosen.append(read)
        return chosen


@dataclass
class _Tally:
    """One crop's votes: each text read, with the confidence of each view that read it; the
    one-line reads that fit no layout, with the model's columns (to be mended); and the
    mended reads, which count only when no view's own read fits a layout."""

    reads: dict[str, list[float]] = field(default_factory=dict)
    unfit: list[tuple[npt.NDArray[np.float32], str]] = field(default_factory=list)
    mended: dict[str, list[float]] = field(default_factory=dict)


_WIDEN = (0.15, 0.4)
"""How much wider (of the box's width, at each end) the second and third looks at a fragment
are."""

_LOCAL = threading.local()


def _clahe() -> cv2.CLAHE:
    """This thread's contrast equaliser: an OpenCV CLAHE object keeps state while it works,
    so the cameras sharing one reader must not share it (they corrupted each other's
    images and crashed it)."""
    clahe: cv2.CLAHE | None = getattr(_LOCAL, "clahe", None)
    if clahe is None:
        clahe = _LOCAL.clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8))
    return clahe


def _views(crop: Image, variants: int) -> list[Image]:
    """The crop, then a slightly tighter crop, then its contrast equalised (grey)."""
    views = [crop]
    h, w = crop.shape[:2]
    if variants >= 2 and h >= 12 and w >= 24:
        dy, dx = max(1, h * 6 // 100), max(1, w * 4 // 100)
        views.append(np.ascontiguousarray(crop[dy : h - dy, dx : w - dx]))
    if variants >= 3:
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        views.append(np.asarray(_clahe().apply(np.asarray(grey, np.uint8)), np.uint8))
    return views


def _plate_shaped(text: str) -> bool:
    return 4 <= len(text) <= 10 and any(c.isdigit() for c in text)


def _overlap(a: Box | None, b: Box | None) -> float:
    """Intersection over the smaller box's area."""
    if a is None or b is None:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / max(smaller, 1e-6))
