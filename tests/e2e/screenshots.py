"""Comparing page screenshots with the committed baselines in tests/e2e/screenshots/.

A pixel "differs notably" when any colour channel moves by more than ``PIXEL_THRESHOLD``;
a screenshot fails when more than ``MAX_DIFF_RATIO`` of its pixels do (anti-aliasing and
font hinting move a few pixels a little, a real change moves many a lot). With
KUPOL_UPDATE_SCREENSHOTS=1 the baselines are rewritten instead. On failure the actual
image, the baseline and a diff (differences in red) are written to test-artifacts/.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

BASELINES = Path(__file__).parent / "screenshots"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PIXEL_THRESHOLD = 40
MAX_DIFF_RATIO = 0.01


def updating() -> bool:
    """Whether this run regenerates the baselines."""
    return os.environ.get("KUPOL_UPDATE_SCREENSHOTS") == "1"


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """The outcome of comparing one screenshot with its baseline."""

    name: str
    ok: bool
    message: str


def compare(name: str, png: bytes) -> Comparison:
    """Compare ``png`` with the baseline ``name``.png (or write it when updating)."""
    baseline = BASELINES / f"{name}.png"
    actual = Image.open(io.BytesIO(png)).convert("RGB")
    if updating():
        BASELINES.mkdir(parents=True, exist_ok=True)
        actual.save(baseline, optimize=True)
        return Comparison(name=name, ok=True, message="baseline written")
    if not baseline.is_file():
        _keep(name, actual, None, None)
        return Comparison(
            name=name,
            ok=False,
            message=(
                f"no baseline {baseline.name}; run with KUPOL_UPDATE_SCREENSHOTS=1 to create it"
            ),
        )
    expected = Image.open(baseline).convert("RGB")
    if expected.size != actual.size:
        _keep(name, actual, expected, None)
        return Comparison(
            name=name, ok=False, message=f"size {actual.size} differs from baseline {expected.size}"
        )
    diff = ImageChops.difference(actual, expected)
    channels = diff.split()
    strongest = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    mask = strongest.point(lambda v: 255 if v > PIXEL_THRESHOLD else 0)
    changed = mask.histogram()[255]
    ratio = changed / (actual.width * actual.height)
    if ratio <= MAX_DIFF_RATIO:
        return Comparison(name=name, ok=True, message=f"{ratio:.3%} of pixels differ")
    _keep(name, actual, expected, mask)
    return Comparison(
        name=name,
        ok=False,
        message=(
            f"{ratio:.2%} of pixels differ (limit {MAX_DIFF_RATIO:.0%}); "
            f"see {ARTIFACTS / (name + '-diff.png')}"
        ),
    )


def _keep(
    name: str, actual: Image.Image, expected: Image.Image | None, mask: Image.Image | None
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    actual.save(ARTIFACTS / f"{name}-actual.png")
    if expected is not None:
        expected.save(ARTIFACTS / f"{name}-expected.png")
    if expected is not None and mask is not None:
        faded = Image.blend(expected, Image.new("RGB", expected.size, "white"), 0.6)
        faded.paste(Image.new("RGB", expected.size, (230, 0, 0)), mask=mask)
        faded.save(ARTIFACTS / f"{name}-diff.png")
