"""Points in polygons, as zones in camera images use them."""

from __future__ import annotations

import pytest

from kupol.core.geo import point_in_polygon

SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
# An L shape: the square without its top-right quarter.
ELL = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]


@pytest.mark.parametrize(
    ("point", "polygon", "inside"),
    [
        ((0.5, 0.5), SQUARE, True),
        ((1.5, 0.5), SQUARE, False),
        ((-0.1, 0.5), SQUARE, False),
        ((0.5, 1.01), SQUARE, False),
        ((0.25, 0.25), ELL, True),
        ((0.75, 0.25), ELL, False),  # the cut-out corner
        ((0.75, 0.75), ELL, True),
    ],
)
def test_points_are_placed_inside_or_outside(
    point: tuple[float, float], polygon: list[tuple[float, float]], inside: bool
) -> None:
    assert point_in_polygon(point, polygon) is inside
