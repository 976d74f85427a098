"""The training-data recipe of kupol's plate reader, and its held-out twin.

One sample is a rendered plate (:mod:`kupol.plates.render`) scaled to a camera's size, put on a
car body with the margin a detector's box leaves, spoiled (:mod:`kupol.plates.augment`) and
cropped with a jittered box, exactly as the reader will later be given real crops. Sample
``index`` of seed ``seed`` is drawn from its own generator, so a data set is the same byte for
byte whatever order or how many processes make it.

The **held-out** recipe draws only Kazakh plates (single- and two-line), with fonts kept out of
training (``var/plate-fonts/heldout`` and DejaVu Sans Mono) and degradations the training recipe
never applies (pixelation, defocus disc blur, salt-and-pepper noise, gamma, colour casts, rain
streaks), so that its score says how the reader copes with what it has not seen.

Example:
    >>> from kupol.plates.render import available_fonts
    >>> sample = make_sample(seed=0, index=3, fonts=available_fonts())
    >>> sample.crop.dtype, sample.text.isalnum()
    (dtype('uint8'), True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kupol.plates.augment import place_in_scene
from kupol.plates.render import FONT_DIR, PlateStyle, render_plate, sample_text

BGRImage = npt.NDArray[np.uint8]

TRAINING_STYLES: dict[PlateStyle, float] = {
    PlateStyle.KZ_INDIVIDUAL: 0.22,
    PlateStyle.KZ_ORGANISATION: 0.08,
    PlateStyle.KZ_TWO_LINE: 0.14,
    PlateStyle.EU: 0.08,
    PlateStyle.US: 0.08,
    PlateStyle.GENERIC: 0.40,
}
"""How often each layout is drawn for training: Kazakh plates first, the rest to generalise."""

HELDOUT_STYLES: dict[PlateStyle, float] = {
    PlateStyle.KZ_INDIVIDUAL: 0.45,
    PlateStyle.KZ_ORGANISATION: 0.2,
    PlateStyle.KZ_TWO_LINE: 0.35,
}

FOREIGN_STYLES: dict[PlateStyle, float] = {PlateStyle.KZ_FOREIGN: 1.0}
"""Yellow foreign-owned plates (``F 1234 02``): never trained on, measured on their own."""

HELDOUT_FONT_DIR = FONT_DIR / "heldout"
_HELDOUT_SYSTEM_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),)


@dataclass(frozen=True)
class Sample:
    """A plate crop as a detector would hand it over, and what is written on it.

    Attributes:
        crop: BGR ``uint8`` crop of the plate with some of the car around it.
        text: The plate's characters, upper case, no separators, in plate order.
        two_line: Whether the characters stand in two rows.
    """

    crop: BGRImage
    text: str
    two_line: bool


def heldout_fonts() -> list[Path]:
    """Fonts that only the held-out set draws with (empty until the fonts are fetched)."""
    found = sorted(p for p in HELDOUT_FONT_DIR.glob("*.woff*")) if HELDOUT_FONT_DIR.is_dir() else []
    return found + [p for p in _HELDOUT_SYSTEM_FONTS if p.exists()]


def make_sample(
    *,
    seed: int,
    index: int,
    fonts: Sequence[Path],
    heldout: bool = False,
    styles: Mapping[PlateStyle, float] | None = None,
) -> Sample:
    """Sample ``index`` of the training (or held-out) recipe with ``seed``; ``styles`` draws
    other layouts than the recipe's (its degradations stay the same)."""
    rng = np.random.default_rng([seed, index, int(heldout)])
    weights = styles or (HELDOUT_STYLES if heldout else TRAINING_STYLES)
    drawn = list(weights)
    p = np.array(list(weights.values()))
    style = drawn[int(rng.choice(len(drawn), p=p / p.sum()))]
    plate = render_plate(sample_text(style, rng), style=style, rng=rng, font=fonts)
    image = plate.image
    # Character height on a roadside camera: about 10 to 45 px on one-line plates.
    lo, hi = (44, 110) if plate.two_line else (18, 72)
    height = int(rng.integers(lo, hi))
    width = max(8, round(image.shape[1] * height / image.shape[0] * rng.uniform(0.85, 1.15)))
    small = np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)
    if heldout:
        crop = _heldout_scene(small, rng)
    else:
        crop = place_in_scene(small, rng, strength=float(rng.uniform(0.05, 1.0)))
    return Sample(crop=_jitter(crop, rng), text=plate.text, two_line=plate.two_line)


def _jitter(crop: BGRImage, rng: np.random.Generator) -> BGRImage:
    """Move each edge of the crop in or out a little, as a detector's box would sit."""
    h, w = crop.shape[:2]
    cut = rng.uniform(-0.03, 0.06, 4) * np.array([w, h, w, h])
    x0, y0 = max(0, int(cut[0])), max(0, int(cut[1]))
    x1, y1 = min(w, w - int(cut[2])), min(h, h - int(cut[3]))
    if x1 - x0 < w // 2 or y1 - y0 < h // 2:
        return crop
    return np.ascontiguousarray(crop[y0:y1, x0:x1])


def _heldout_scene(plate: BGRImage, rng: np.random.Generator) -> BGRImage:
    """Degradations the training recipe never applies, on a flat noisy surround."""
    h, w = plate.shape[:2]
    m = int(rng.integers(2, max(3, h // 5)))
    colour = rng.integers(20, 200, 3).astype(np.float32)
    canvas = np.empty((h + 2 * m, w + 2 * m, 3), np.float32)
    canvas[:] = colour
    canvas += rng.normal(0, 5, canvas.shape)
    canvas[m : m + h, m : m + w] = plate
    out = canvas
    kind = rng.permutation(6)[: int(rng.integers(1, 4))]
    for k in kind:
        if k == 0:  # pixelation: a low-resolution sensor, upscaled
            f = rng.uniform(0.5, 0.8)
            small = cv2.resize(out, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            out = cv2.resize(small, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_NEAREST)
        elif k == 1:  # defocus: a disc kernel
            r = int(rng.integers(1, 3))
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
            kernel = disc.astype(np.float32) / disc.sum()
            out = cv2.filter2D(out, -1, kernel)
        elif k == 2:  # salt and pepper
            mask = rng.random(out.shape[:2])
            amount = rng.uniform(0.005, 0.03)
            out[mask < amount / 2] = 0
            out[mask > 1 - amount / 2] = 255
        elif k == 3:  # gamma
            out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** rng.uniform(0.5, 1.8)
        elif k == 4:  # colour cast (sodium street lights, blue hour)
            out = out * rng.uniform(0.7, 1.2, 3)
        else:  # rain streaks
            streaks = np.zeros(out.shape[:2], np.float32)
            for _ in range(int(rng.integers(5, 25))):
                x, y = int(rng.integers(0, out.shape[1])), int(rng.integers(0, out.shape[0]))
                cv2.line(streaks, (x, y), (x + int(rng.integers(-3, 4)), y + 8), 1.0, 1)
            out = out + streaks[:, :, None] * rng.uniform(40, 90)
    return np.asarray(np.clip(out, 0, 255), np.uint8)
