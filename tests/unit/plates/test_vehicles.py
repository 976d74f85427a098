"""Where a whole photo's vehicles are, to look for their plates in (kupol.plates.vehicles)."""

from __future__ import annotations

import numpy as np

from kupol.plates.vehicles import VehicleRegions, VehicleRegionSettings, regions_of

SETTINGS = VehicleRegionSettings()


def _boxes(*boxes: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(boxes, np.float32).reshape(-1, 4)


def test_the_largest_vehicle_comes_first_without_its_roof_and_padded() -> None:
    small = (600, 100, 700, 200)  # 100 x 100
    large = (100, 100, 300, 300)  # 200 x 200
    regions = regions_of(_boxes(small, large), (1000, 1000, 3), SETTINGS)
    # The top 30 % is roof and windows; 5 % of the vehicle's size added on each side.
    assert regions == [(90, 150, 310, 310), (595, 125, 705, 205)]


def test_one_vehicle_reported_twice_is_looked_in_once() -> None:
    car, truck = (100, 100, 300, 300), (104, 98, 302, 296)
    assert len(regions_of(_boxes(car, truck), (1000, 1000, 3), SETTINGS)) == 1


def test_too_small_and_photo_filling_vehicles_are_left_out() -> None:
    tiny = (10, 10, 40, 40)  # under min_width: no legible plate
    whole = (0, 0, 990, 990)  # the photo itself: the whole-photo pass has looked there
    assert regions_of(_boxes(tiny, whole), (1000, 1000, 3), SETTINGS) == []


def test_a_vehicle_cut_off_by_the_photos_edge_leaves_no_sliver_to_look_in() -> None:
    at_the_bottom = (10, 395, 200, 400)  # 5 pixels of it in the photo
    assert regions_of(_boxes(at_the_bottom), (400, 400, 3), SETTINGS) == []


def test_at_most_max_vehicles_and_every_region_inside_the_photo() -> None:
    boxes = _boxes(*[(i * 150.0 - 20, 900.0, i * 150 + 120, 1030.0) for i in range(7)])
    regions = regions_of(boxes, (1000, 1000, 3), VehicleRegionSettings(max_vehicles=3))
    assert len(regions) == 3
    for x0, y0, x1, y1 in regions:
        assert 0 <= x0 < x1 <= 1000 and 0 <= y0 < y1 <= 1000


def test_no_vehicles_in_an_empty_picture() -> None:
    assert VehicleRegions()(np.zeros((480, 640, 3), np.uint8)) == []


def test_the_examples_in_the_docstrings_hold() -> None:
    import doctest

    from kupol.plates import vehicles

    assert doctest.testmod(vehicles).failed == 0
