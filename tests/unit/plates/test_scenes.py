"""The plate detector's training recipe (kupol.plates.scenes): pictures and where the plates are."""

from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest

from kupol.plates import scenes
from kupol.plates.render import available_fonts
from kupol.plates.scenes import SIZE, STRIDE, make_scene

FONTS = available_fonts()


def test_a_scene_is_the_same_byte_for_byte_from_its_seed_and_index() -> None:
    a = make_scene(seed=3, index=11, fonts=FONTS, backgrounds=[])
    b = make_scene(seed=3, index=11, fonts=FONTS, backgrounds=[])
    c = make_scene(seed=3, index=12, fonts=FONTS, backgrounds=[])
    assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
    assert a.image.tobytes() != c.image.tobytes()


@pytest.mark.parametrize("index", range(12))
def test_the_mask_marks_the_plates_drawn_and_nothing_else(index: int) -> None:
    scene = make_scene(seed=5, index=index, fonts=FONTS, backgrounds=[])
    assert scene.image.shape == (SIZE, SIZE, 3) and scene.mask.shape == (SIZE // STRIDE,) * 2
    drawn = np.zeros((SIZE, SIZE), np.uint8)
    for quad in scene.quads:
        cv2.fillConvexPoly(drawn, np.round(np.array(quad)).astype(np.int32), 1)
    expected = cv2.resize(drawn.astype(np.float32), (SIZE // STRIDE,) * 2, cv2.INTER_AREA)
    # The same cells, but for the rim of each outline where a cell is half plate.
    differs = np.abs(scene.mask.astype(np.float32) - (expected >= 0.5)).sum()
    assert differs <= 0.15 * max(1.0, float((expected > 0).sum())) + 4
    if scene.quads:
        assert scene.mask.sum() > 0
    else:
        assert scene.mask.sum() == 0


def test_plates_do_not_overlap_and_lie_inside_the_picture() -> None:
    for index in range(30):
        scene = make_scene(seed=9, index=index, fonts=FONTS, backgrounds=[])
        masks = []
        for quad in scene.quads:
            points = np.array(quad)
            assert points.min() >= 0 and points.max() <= SIZE
            one = np.zeros((SIZE, SIZE), np.uint8)
            cv2.fillConvexPoly(one, np.round(points).astype(np.int32), 1)
            masks.append(one)
        if len(masks) > 1:
            assert np.max(np.sum(masks, axis=0)) == 1


def test_real_backgrounds_are_used_when_given() -> None:
    plain = np.full((400, 600, 3), (10, 200, 30), np.uint8)
    scenes_with = [make_scene(seed=2, index=i, fonts=FONTS, backgrounds=[plain]) for i in range(8)]
    # Most scenes start from the given picture (70 %): green dominates them.
    greenish = [s for s in scenes_with if np.median(s.image[..., 1]) > np.median(s.image[..., 2])]
    assert len(greenish) >= 3


def test_the_examples_in_the_docstrings_hold() -> None:
    assert doctest.testmod(scenes).failed == 0
