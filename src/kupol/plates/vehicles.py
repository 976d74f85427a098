"""Where a whole photo's vehicles are, so that plates are looked for inside them too.

The classical locator (:mod:`kupol.plates.locate`) works on a photo shrunk to a fixed number of
pixels: on a large photo a plate far from the camera is left a few pixels tall. Looking again
inside each vehicle that kupol's COCO detector (NanoDet-g, shipped) finds gives the locator
the plate at several times the resolution, with less clutter around it. Cameras do not need
this (their plate stage already reads inside vehicle tracks); ``kupol eval plates`` turns it on
for its whole photos, and any other caller can (``CrnnSettings(vehicles=True)``; citizens'
photos and redaction do not yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kupol.vision.detectors.base import NanoDetConfig
from kupol.vision.detectors.nanodet import NanoDetDetector

Region = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in whole pixels of the photo."""

VEHICLE_CLASSES = ["car", "truck", "bus", "motorcycle"]


@dataclass(frozen=True, kw_only=True)
class VehicleRegionSettings:
    """Knobs of :class:`VehicleRegions`.

    Attributes:
        min_confidence: Detector score a vehicle needs.
        max_vehicles: The largest this many vehicles of a photo are looked in.
        min_width: Vehicles narrower than this (pixels) carry no legible plate.
        min_height: Regions lower than this (pixels; a vehicle cut off by the photo's edge)
            are left out.
        max_share: A vehicle covering more than this share of the photo is the photo itself:
            looking again would find what the whole photo gave.
        skip_top: This share of a vehicle's height, from its top (roof and windows), holds no
            plate and is left out — fewer pixels, so the locator shrinks the rest less.
        pad: Each side of a region grows by this share of the vehicle's size.
        threads: ONNX Runtime threads for the detector.
    """

    min_confidence: float = 0.3
    max_vehicles: int = 4
    min_width: int = 48
    min_height: int = 16
    max_share: float = 0.8
    skip_top: float = 0.3
    pad: float = 0.05
    threads: int = 1


class VehicleRegions:
    """The parts of a photo where its vehicles' plates may be, largest vehicle first.

    Example:
        >>> VehicleRegions()(np.zeros((360, 640, 3), np.uint8))
        []
    """

    def __init__(self, settings: VehicleRegionSettings | None = None) -> None:
        self.settings = settings or VehicleRegionSettings()
        self._detector = NanoDetDetector(
            NanoDetConfig(
                classes=VEHICLE_CLASSES,
                min_confidence=self.settings.min_confidence,
                threads=self.settings.threads,
            )
        )

    def __call__(self, image: npt.NDArray[np.uint8]) -> list[Region]:
        """Regions of ``image`` (BGR) to look for plates in."""
        found = self._detector.detect(image)
        return regions_of(found.xyxy, image.shape, self.settings)


def regions_of(
    xyxy: npt.NDArray[np.float32], shape: tuple[int, ...], settings: VehicleRegionSettings
) -> list[Region]:
    """Vehicle boxes (pixels) to regions to look in: the largest first, none twice (the
    detector reports one vehicle as a car and a truck at times), too small and too large ones
    left out, the roof cut off, padded and kept inside the photo (a region left too low by the
    photo's edge is dropped).

    Example:
        >>> boxes = np.array([[0, 0, 100, 100], [2, 1, 101, 99], [300, 300, 320, 310]], np.float32)
        >>> regions_of(boxes, (400, 400, 3), VehicleRegionSettings())
        [(0, 25, 105, 105)]
    """
    height, width = shape[:2]
    sizes = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    chosen: list[tuple[float, float, float, float]] = []
    regions: list[Region] = []
    for k in np.argsort(-sizes, kind="stable"):
        x0, y0, x1, y1 = (float(v) for v in xyxy[k])
        w, h = x1 - x0, y1 - y0
        if len(chosen) >= settings.max_vehicles:
            break
        if w < settings.min_width or w * h > settings.max_share * width * height:
            continue
        if any(_same(b, (x0, y0, x1, y1)) for b in chosen):
            continue
        chosen.append((x0, y0, x1, y1))
        top = y0 + settings.skip_top * h
        region = (
            int(max(0.0, x0 - settings.pad * w)),
            int(max(0.0, top - settings.pad * h)),
            int(min(float(width), x1 + settings.pad * w)),
            int(min(float(height), y1 + settings.pad * h)),
        )
        if region[3] - region[1] >= settings.min_height and region[2] - region[0] > 0:
            regions.append(region)
    return regions


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes are one vehicle (intersection over union above 0.7)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return union > 0 and inter / union > 0.7
