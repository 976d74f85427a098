"""Synthetic plates: deterministic, shaped like their style, and degradable."""

from __future__ import annotations

import doctest
import re
from types import ModuleType

import numpy as np
import pytest

from kupol.plates import augment as augment_module
from kupol.plates import render as render_module
from kupol.plates.augment import degrade, place_in_scene
from kupol.plates.render import (
    PLATE_SIZE,
    PlateStyle,
    available_fonts,
    render_plate,
    sample_text,
)

FONTS = available_fonts()


def _render(style: PlateStyle, seed: int) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    plate = render_plate(sample_text(style, rng), style=style, rng=rng, font=FONTS)
    return plate.text, plate.image


def test_a_font_is_available_to_draw_with() -> None:
    assert FONTS and all(path.exists() for path in FONTS)


@pytest.mark.parametrize("style", list(PlateStyle))
def test_the_same_seed_draws_the_same_bytes(style: PlateStyle) -> None:
    first, second = _render(style, 11), _render(style, 11)
    assert first[0] == second[0]
    assert first[1].tobytes() == second[1].tobytes()
    assert _render(style, 12)[1].tobytes() != first[1].tobytes()


def test_plates_of_no_one_country_vary_their_size() -> None:
    sizes = {_render(PlateStyle.GENERIC, seed)[1].shape[:2] for seed in range(8)}
    assert len(sizes) > 1
    assert all(100 <= h <= 150 and 300 <= w <= 520 for h, w in sizes)


@pytest.mark.parametrize("style", [s for s in PlateStyle if s is not PlateStyle.GENERIC])
def test_each_style_has_its_own_size_and_aspect(style: PlateStyle) -> None:
    _, image = _render(style, 3)
    width, height = PLATE_SIZE[style]
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8
    expected = {
        "kz_individual": 4.6,
        "kz_organisation": 4.6,
        "kz_foreign": 4.6,
        "eu": 4.7,
        "kz_two_line": 1.7,
        "us": 2.0,
    }[style.value]
    assert width / height == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("seed", range(30))
def test_kazakh_individual_text_is_three_digits_three_letters_and_a_region(seed: int) -> None:
    text, _ = _render(PlateStyle.KZ_INDIVIDUAL, seed)
    assert re.fullmatch(r"\d{3}[A-Z]{3}(0[1-9]|1\d|20)", text)


@pytest.mark.parametrize("seed", range(30))
def test_kazakh_organisation_text_has_two_letters(seed: int) -> None:
    text, _ = _render(PlateStyle.KZ_ORGANISATION, seed)
    assert re.fullmatch(r"\d{3}[A-Z]{2}(0[1-9]|1\d|20)", text)


@pytest.mark.parametrize("seed", range(30))
def test_foreign_owned_plates_are_f_or_h_four_digits_and_a_region_on_yellow(seed: int) -> None:
    text, image = _render(PlateStyle.KZ_FOREIGN, seed)
    assert re.fullmatch(r"[FH]\d{4}(0[1-9]|1\d|20)", text)
    b, g, r = np.median(image.reshape(-1, 3), axis=0)
    assert r > 200 and g > 160 and b < 90  # yellow paper (BGR)


def test_letters_issued_since_2018_are_drawn() -> None:
    rng = np.random.default_rng(0)
    letters = {c for _ in range(300) for c in sample_text(PlateStyle.KZ_INDIVIDUAL, rng)[4:7]}
    assert {"I", "J", "Q", "G"} <= letters


def test_the_label_drops_the_spaces_and_marks_two_line_plates() -> None:
    rng = np.random.default_rng(0)
    plate = render_plate("123 abc 02", style=PlateStyle.KZ_TWO_LINE, rng=rng, font=FONTS[0])
    assert plate.text == "123ABC02"
    assert plate.two_line
    assert not render_plate(
        "123ABC02", style=PlateStyle.KZ_INDIVIDUAL, rng=rng, font=FONTS
    ).two_line


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("12 ABC 02", PlateStyle.KZ_INDIVIDUAL),
        ("123 ABC 02", PlateStyle.KZ_ORGANISATION),
        ("123 AB-02", PlateStyle.KZ_ORGANISATION),
    ],
)
def test_a_text_that_does_not_fit_the_style_is_refused(text: str, style: PlateStyle) -> None:
    with pytest.raises(ValueError, match="is not a"):
        render_plate(text, style=style, rng=np.random.default_rng(0), font=FONTS)


def test_the_plate_is_dark_ink_on_light_paper() -> None:
    _, image = _render(PlateStyle.KZ_INDIVIDUAL, 5)
    grey = image.mean(axis=2)
    assert np.median(grey) > 200
    assert grey.min() < 60


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_degrading_keeps_the_shape_and_type(strength: float) -> None:
    _, image = _render(PlateStyle.KZ_INDIVIDUAL, 1)
    for seed in range(10):
        out = degrade(image, np.random.default_rng(seed), strength=strength)
        assert out.shape == image.shape
        assert out.dtype == np.uint8
    assert image.tobytes() == _render(PlateStyle.KZ_INDIVIDUAL, 1)[1].tobytes()


def test_degrading_is_deterministic_and_stronger_means_further_from_clean() -> None:
    _, image = _render(PlateStyle.EU, 2)
    a = degrade(image, np.random.default_rng(4), strength=0.8)
    assert a.tobytes() == degrade(image, np.random.default_rng(4), strength=0.8).tobytes()

    def distance(strength: float) -> float:
        outs = [degrade(image, np.random.default_rng(s), strength=strength) for s in range(20)]
        return float(np.mean([np.abs(o.astype(float) - image).mean() for o in outs]))

    assert distance(0.0) < distance(1.0)


def test_degrading_refuses_what_is_not_a_bgr_image() -> None:
    with pytest.raises(ValueError, match="BGR"):
        degrade(np.zeros((10, 10), np.uint8), np.random.default_rng(0))


@pytest.mark.parametrize("style", list(PlateStyle))
def test_a_scene_crop_holds_the_plate_with_a_margin(style: PlateStyle) -> None:
    _, image = _render(style, 6)
    crop = place_in_scene(image, np.random.default_rng(1), strength=0.0)
    h, w = image.shape[:2]
    assert crop.dtype == np.uint8 and crop.ndim == 3
    assert h * 1.06 <= crop.shape[0] <= h * 1.72  # up to 35 % each side when it has a frame
    assert w * 1.06 <= crop.shape[1] <= w * 1.32


@pytest.mark.parametrize("style", list(PlateStyle))
def test_a_tilted_scene_crop_is_deterministic(style: PlateStyle) -> None:
    _, image = _render(style, 6)
    crop = place_in_scene(image, np.random.default_rng(1), strength=1.0)
    again = place_in_scene(image, np.random.default_rng(1), strength=1.0)
    assert crop.tobytes() == again.tobytes()
    assert crop.shape[0] > image.shape[0] * 0.85 and crop.shape[1] > image.shape[1] * 0.85


def test_a_scene_crop_can_come_from_a_given_background() -> None:
    _, image = _render(PlateStyle.US, 0)
    background = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    crop = place_in_scene(image, np.random.default_rng(2), background, strength=0.0)
    assert crop.shape[0] > image.shape[0] and crop.shape[1] > image.shape[1]
    small = place_in_scene(image, np.random.default_rng(2), background[:50, :50], strength=0.0)
    assert small.shape == crop.shape


@pytest.mark.parametrize("module", [render_module, augment_module])
def test_the_docstring_examples_run(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0
