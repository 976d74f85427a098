"""Plate candidates: a rendered plate on a busy background is found, an empty image is not."""

from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest

from kupol.plates import locate as locate_module
from kupol.plates.augment import degrade
from kupol.plates.locate import PlateCandidate, crop_candidate, locate_plates
from kupol.plates.render import PlateStyle, available_fonts, render_plate, sample_text

FONTS = available_fonts()


def _scene(style: PlateStyle, seed: int, *, width: int = 160, angle: float = 0.0):
    """A 640 x 480 street-like background with one plate of ``width`` pixels on it."""
    rng = np.random.default_rng(seed)
    scene = np.full((480, 640, 3), 90, np.uint8)
    scene[:] = np.linspace(60, 160, 480, dtype=np.uint8)[:, None, None]
    for _ in range(25):  # clutter: bars and blocks with edges of their own
        x, y = int(rng.integers(0, 600)), int(rng.integers(0, 440))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.rectangle(
            scene, (x, y), (x + int(rng.integers(5, 120)), y + int(rng.integers(3, 60))), colour, -1
        )
    scene = np.clip(scene + rng.normal(0, 6, scene.shape), 0, 255).astype(np.uint8)
    plate = render_plate(sample_text(style, rng), style=style, rng=rng, font=FONTS).image
    plate = degrade(plate, rng, strength=0.2, geometry=False)
    height = round(plate.shape[0] * width / plate.shape[1])
    plate = cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA)
    x, y = 240, 300
    if angle:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        mask = cv2.warpAffine(np.full(plate.shape[:2], 255, np.uint8), matrix, (width, height))
        plate = cv2.warpAffine(plate, matrix, (width, height))
        spot = scene[y : y + height, x : x + width]
        spot[mask > 128] = plate[mask > 128]
    else:
        scene[y : y + height, x : x + width] = plate
    return scene, (x, y, x + width, y + height)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union


@pytest.mark.parametrize(
    ("style", "width"),
    [
        (PlateStyle.KZ_INDIVIDUAL, 160),
        (PlateStyle.KZ_INDIVIDUAL, 90),
        (PlateStyle.KZ_INDIVIDUAL, 320),
        (PlateStyle.KZ_ORGANISATION, 140),
        (PlateStyle.KZ_TWO_LINE, 100),
        (PlateStyle.KZ_TWO_LINE, 180),
    ],
)
def test_a_rendered_plate_on_a_busy_background_is_among_the_first_candidates(
    style: PlateStyle, width: int
) -> None:
    for seed in range(3):
        scene, truth = _scene(style, seed, width=width)
        candidates = locate_plates(scene, max_candidates=5)
        assert max((_iou(c.box, truth) for c in candidates), default=0.0) >= 0.5, (seed, truth)


def test_a_tilted_plate_is_found_and_its_crop_is_deskewed() -> None:
    scene, truth = _scene(PlateStyle.KZ_INDIVIDUAL, 4, width=200, angle=8.0)
    candidates = locate_plates(scene, max_candidates=5)
    best = max(candidates, key=lambda c: _iou(c.box, truth))
    assert _iou(best.box, truth) >= 0.4
    assert best.quad is not None
    crop = crop_candidate(scene, best, out_h=48)
    assert crop.shape[0] == 48 and crop.shape[1] > 3 * 48


def test_candidates_are_padded_around_the_plate_best_first_and_within_the_image() -> None:
    scene, truth = _scene(PlateStyle.KZ_INDIVIDUAL, 7, width=200)
    candidates = locate_plates(scene)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    best = max(candidates, key=lambda c: _iou(c.box, truth))
    x0, _, x1, _ = best.box
    assert x0 < truth[0] + 8 and x1 > truth[2] - 8  # the whole plate is inside, give or take
    assert all(
        0 <= c.box[0] < c.box[2] <= 640 and 0 <= c.box[1] < c.box[3] <= 480 for c in candidates
    )


def test_a_blank_image_gives_no_candidates_and_noise_gives_few() -> None:
    assert locate_plates(np.full((480, 640, 3), 128, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert len(locate_plates(noise)) <= 3


def test_max_candidates_and_min_width_limit_the_answer() -> None:
    scene, _ = _scene(PlateStyle.KZ_INDIVIDUAL, 1, width=160)
    assert len(locate_plates(scene, max_candidates=1)) == 1
    assert all(c.box[2] - c.box[0] >= 200 for c in locate_plates(scene, min_width=200))


def test_a_grey_image_is_accepted_like_a_colour_one() -> None:
    scene, _ = _scene(PlateStyle.KZ_INDIVIDUAL, 2)
    grey = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)
    assert [c.box for c in locate_plates(grey)] == [c.box for c in locate_plates(scene)]


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((100, 100, 3), np.float32),
        np.zeros((100, 100, 4), np.uint8),
        np.zeros((0, 100, 3), np.uint8),
        np.zeros((4, 100, 3), np.uint8),
        [[0, 0], [0, 0]],
    ],
    ids=["float", "four-channel", "empty", "too-small", "not-an-array"],
)
def test_what_is_not_an_image_is_refused_with_a_clear_error(image: object) -> None:
    with pytest.raises(ValueError, match="image"):
        locate_plates(image)  # type: ignore[arg-type]


def test_asking_for_no_candidates_is_refused() -> None:
    with pytest.raises(ValueError, match="max_candidates"):
        locate_plates(np.zeros((100, 100, 3), np.uint8), max_candidates=0)


def test_a_crop_is_the_candidate_box_scaled_to_the_height_asked() -> None:
    image = np.arange(100 * 200 * 3, dtype=np.uint32).reshape(100, 200, 3).astype(np.uint8)
    candidate = PlateCandidate(box=(20.0, 10.0, 120.0, 35.0), score=1.0)
    assert crop_candidate(image, candidate).shape == (25, 100, 3)
    assert crop_candidate(image, candidate, out_h=50).shape == (50, 200, 3)
    with pytest.raises(ValueError, match="outside"):
        crop_candidate(image, PlateCandidate(box=(300.0, 10.0, 400.0, 35.0), score=1.0))


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(locate_module).failed == 0


def test_a_widened_candidate_grows_along_a_tilted_plate_and_stays_in_the_image() -> None:
    from kupol.plates.locate import widened

    flat = widened(PlateCandidate((100, 50, 200, 80), 2.0), (300, 400, 3), 0.1)
    assert flat.box == (90.0, 50.0, 210.0, 80.0) and flat.score == 2.0 and flat.quad is None
    quad = ((100.0, 50.0), (200.0, 60.0), (200.0, 90.0), (100.0, 80.0))
    tilted = widened(PlateCandidate((100, 50, 200, 90), 1.0, quad), (300, 400, 3), 0.5)
    assert tilted.quad is not None
    (x0, y0), (x1, y1) = tilted.quad[0], tilted.quad[1]
    assert (x0, y0) == (50.0, 45.0) and (x1, y1) == (250.0, 65.0)  # along the top edge
    edge = widened(PlateCandidate((5, 5, 395, 40), 1.0), (300, 400, 3), 0.5)
    assert edge.box[0] == 0.0 and edge.box[2] == 400.0
