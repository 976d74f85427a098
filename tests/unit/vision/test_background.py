"""The dual background: what stays is static foreground; what left or shifted is not."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kupol.vision.background import DualBackground

FPS = 5.0


def pavement(seed: int = 1) -> NDArray[np.uint8]:
    """A textured grey floor, 320x180, with a little sensor noise per call."""
    rng = np.random.default_rng(seed)
    base = rng.integers(90, 140, (18, 32), dtype=np.uint8).repeat(10, 0).repeat(10, 1)
    return np.repeat(base[:, :, None], 3, axis=2)


def noisy(image: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    return np.clip(image.astype(np.int16) + rng.integers(-3, 4, image.shape), 0, 255).astype(
        np.uint8
    )


def run(model: DualBackground, image: NDArray[np.uint8], seconds: float, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    view = None
    for _ in range(int(seconds * FPS)):
        view = model.update(noisy(image, rng))
    return view


def with_bag(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    bag = image.copy()
    bag[120:140, 200:215] = 25  # a dark bag with a lighter strap
    bag[125:127, 200:215] = 200
    return bag


def test_an_object_set_down_becomes_a_static_blob_where_it_lies() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=5)
    floor = pavement()
    run(model, floor, 5)

    early = run(model, with_bag(floor), 3)
    later = run(model, with_bag(floor), 20)

    assert early is not None and early.static_blobs == ()
    assert later is not None and len(later.static_blobs) == 1
    blob = later.static_blobs[0]
    assert 195 <= blob.x <= 202 and 115 <= blob.y <= 122
    assert blob.static_s > 5


def test_a_moving_object_is_motion_not_static() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=2)
    floor = pavement()
    run(model, floor, 5)
    view = None
    for step in range(60):
        frame = floor.copy()
        x = 10 + step * 5
        frame[60:120, x : x + 20] = 30
        view = model.update(frame)
    assert view is not None
    assert view.motion > 0.005
    assert view.static_blobs == ()


def test_an_object_taken_away_leaves_no_ghost() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=3)
    bag = with_bag(pavement())
    run(model, bag, 5)  # the bag was there when the camera started

    view = run(model, pavement(), 20)

    assert view is not None and view.static_blobs == ()


def test_a_change_of_exposure_is_not_an_object() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=3)
    floor = pavement()
    run(model, floor, 5)
    brighter = np.clip(floor.astype(np.float32) * 1.2, 0, 255).astype(np.uint8)

    view = run(model, brighter, 20)

    assert view is not None and view.static_blobs == ()


def test_background_nudged_by_a_few_pixels_is_not_an_object() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=3)
    floor = pavement()
    before = floor.copy()
    before[40:100, 150:156] = 240  # a bright pole (a table leg)
    run(model, before, 5)
    bumped = floor.copy()
    bumped[40:100, 153:159] = 240  # the table was bumped three pixels to the right

    view = run(model, bumped, 20)

    assert view is not None and view.static_blobs == ()


def test_the_scene_behind_a_person_on_the_first_frame_is_learnt_when_they_leave() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=3)
    floor = pavement()
    floor[60:130, 110:116] = 240  # a table leg, hidden behind the person at first
    person_there = floor.copy()
    person_there[40:140, 100:130] = 20
    first = model.update(person_there)
    assert first.fresh
    model.mark_unknown([(100.0, 40.0, 130.0, 140.0)], first.scale)
    run(model, person_there, 3)

    view = run(model, floor, 20)  # they walked away: the floor behind them shows

    assert view is not None and view.static_blobs == ()


def test_a_whole_new_picture_starts_the_model_again() -> None:
    model = DualBackground(fps=FPS, width=320, static_after_s=3)
    run(model, pavement(1), 5)

    view = model.update(np.full_like(pavement(1), 250))

    assert view.fresh
    assert view.static_blobs == ()
