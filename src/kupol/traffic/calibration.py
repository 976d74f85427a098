"""A camera's calibration: the homography from image pixels to the road plane in metres.

An operator marks four or more points on a frame whose positions on the road are known
(lane markings, the ends of a stop line, a crosswalk's corners — in metres east and north of
a reference point, or as latitude/longitude converted by :func:`local_metres`). The fitted
homography maps any image point on the road to metres, so a vehicle's track becomes a path on
the ground and its speed a number in km/h. Points off the road plane (a plate, a roof) are
not on it: speeds use the ground contact point of a vehicle (its box's bottom centre).

Example:
    >>> marks = [MarkedPoint(image=(100, 400), ground=(0, 0)),
    ...          MarkedPoint(image=(500, 400), ground=(4, 0)),
    ...          MarkedPoint(image=(450, 100), ground=(4, 30)),
    ...          MarkedPoint(image=(150, 100), ground=(0, 30))]
    >>> calibration = Calibration.fit(marks)
    >>> [round(v, 2) for v in calibration.to_ground((300, 400))]
    [2.0, 0.0]
    >>> calibration.rms_m < 1e-6
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kupol.core.errors import InvalidInputError

WGS84_A = 6_378_137.0
WGS84_E2 = 0.00669437999014
_HORIZON = 1e-3
"""Image points whose homogeneous scale is this close to the horizon's are refused: near the
horizon one pixel spans hundreds of metres."""
Point = tuple[float, float]


@dataclass(frozen=True, kw_only=True)
class MarkedPoint:
    """A point marked on a camera's frame and where it lies on the road.

    Attributes:
        image: ``(x, y)`` in the frame's pixels.
        ground: ``(east, north)`` in metres from the calibration's reference point.
    """

    image: Point
    ground: Point


@dataclass(frozen=True)
class Calibration:
    """An image→ground homography and how well it fits the points it was made from.

    Attributes:
        matrix: 3 x 3 homography taking homogeneous image pixels to ground metres.
        rms_m: Root-mean-square distance, in metres, between the marked ground points and
            where the homography puts their image points. Four points always fit exactly (0):
            only a fifth mark or more can show a marking error.
    """

    matrix: tuple[tuple[float, ...], ...]
    rms_m: float
    side: float = 1.0
    """Sign of the homogeneous scale of the marked points: image points with the other sign
    lie beyond the horizon (the sky), where the road plane does not reach."""

    @classmethod
    def fit(cls, points: Sequence[MarkedPoint]) -> Calibration:
        """The least-squares homography through ``points`` (four or more).

        Raises:
            InvalidInputError: Fewer than four points, a point marked twice, a non-finite
                coordinate, or points that do not span the plane (three of any four on one
                line in the image or on the ground).
        """
        if len(points) < 4:
            raise InvalidInputError(
                f"a calibration needs 4 or more marked points, got {len(points)}"
            )
        image = np.array([p.image for p in points], dtype=np.float64)
        ground = np.array([p.ground for p in points], dtype=np.float64)
        if not (np.isfinite(image).all() and np.isfinite(ground).all()):
            raise InvalidInputError("marked points must have finite coordinates")
        for name, pts in (("image", image), ("ground", ground)):
            if len({tuple(p) for p in pts.round(6)}) < len(pts):
                raise InvalidInputError(f"two marked points share one {name} position")
            if not _spans_plane(pts):
                raise InvalidInputError(
                    f"the marked points lie (nearly) on one line in the {name}: mark points "
                    "across the road and along it"
                )
        matrix = _homography(image, ground)
        scale = np.hstack([image, np.ones((len(image), 1))]) @ matrix[2]
        if not (np.all(scale > 0) or np.all(scale < 0)):
            raise InvalidInputError(
                "the marked points do not lie on one road plane seen by one camera (some "
                "would be beyond the horizon): check that each mark's image point and road "
                "position belong together"
            )
        rms = float(np.sqrt(np.mean(np.sum((_apply(matrix, image) - ground) ** 2, axis=1))))
        rows = tuple(tuple(float(v) for v in row) for row in matrix)
        return cls(matrix=rows, rms_m=rms, side=float(np.sign(scale[0])))

    def to_ground(self, point: Point) -> Point:
        """Where an image point on the road lies, in metres.

        Raises:
            InvalidInputError: The point is at or beyond the road's horizon in the image.
        """
        x, y = self.to_ground_many([point])[0]
        return float(x), float(y)

    def to_ground_many(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """:meth:`to_ground` for an ``N x 2`` array of image points.

        Raises:
            InvalidInputError: A point is not finite, or at or beyond the road's horizon.
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(pts).all():
            raise InvalidInputError("image points must have finite coordinates")
        matrix = np.array(self.matrix)
        scale = (np.hstack([pts, np.ones((len(pts), 1))]) @ matrix[2]) * self.side
        if np.any(scale <= _HORIZON * np.abs(matrix[2, 2])):
            raise InvalidInputError(
                "an image point lies at or beyond the road's horizon: it is not on the road"
            )
        return _apply(matrix, pts)

    def to_image(self, ground: Point) -> Point:
        """Where a point of the road appears in the frame, in pixels."""
        inverse = np.linalg.inv(np.array(self.matrix))
        x, y = _apply(inverse, np.array([ground], dtype=np.float64))[0]
        return float(x), float(y)

    def distance_m(self, a: Point, b: Point) -> float:
        """Metres on the road between two image points."""
        (ax, ay), (bx, by) = self.to_ground(a), self.to_ground(b)
        return math.hypot(bx - ax, by - ay)


def local_metres(latitude: float, longitude: float, *, origin: Point) -> Point:
    """``(east, north)`` metres of a position from ``origin`` ``(latitude, longitude)``, on
    the plane tangent to the WGS84 ellipsoid there (its radii of curvature at the origin's
    latitude): within a few centimetres over the few hundred metres a camera sees.

    Example:
        >>> [round(v, 1) for v in local_metres(51.1290, 71.4305, origin=(51.1280, 71.4305))]
        [0.0, 111.3]
    """
    lat0, lon0 = origin
    sin2 = math.sin(math.radians(lat0)) ** 2
    meridian = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * sin2) ** 1.5
    normal = WGS84_A / math.sqrt(1 - WGS84_E2 * sin2)
    east = math.radians(longitude - lon0) * normal * math.cos(math.radians(lat0))
    north = math.radians(latitude - lat0) * meridian
    return east, north


def _spans_plane(pts: npt.NDArray[np.float64]) -> bool:
    """Whether no three of the points' four most spread ones are (nearly) collinear."""
    centred = pts - pts.mean(axis=0)
    scale = float(np.abs(centred).max()) or 1.0
    unit = centred / scale
    # The smaller singular value of the centred cloud says how far it is from a line.
    if np.linalg.svd(unit, compute_uv=False)[-1] < 0.05 * math.sqrt(len(pts)):
        return False
    if len(pts) == 4:
        for i in range(4):
            a, b, c = (unit[j] for j in range(4) if j != i)
            if abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 0.01:
                return False
    return True


def _homography(
    src: npt.NDArray[np.float64], dst: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Direct linear transform with Hartley normalisation: the least-squares homography."""
    ts = _normaliser(src)
    td = _normaliser(dst)
    s = _apply(ts, src)
    d = _apply(td, dst)
    rows = []
    for (x, y), (u, v) in zip(s, d, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, singular, vt = np.linalg.svd(np.array(rows))
    # One homography fits: the second-smallest singular value must stand clear of zero (with
    # four points on a line and one off it, a whole family fits them exactly).
    if singular[7] < 1e-6 * singular[0]:
        raise InvalidInputError(
            "the marked points do not fix one calibration (too many of them on one line): "
            "mark points across the road and along it"
        )
    h = vt[-1].reshape(3, 3)
    matrix = np.linalg.inv(td) @ h @ ts
    return np.asarray(matrix / matrix[2, 2], np.float64)


def _normaliser(pts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A similarity moving ``pts`` to mean 0 and mean distance √2 (Hartley)."""
    centre = pts.mean(axis=0)
    spread = float(np.sqrt(np.mean(np.sum((pts - centre) ** 2, axis=1)))) or 1.0
    k = math.sqrt(2) / spread
    return np.array([[k, 0, -k * centre[0]], [0, k, -k * centre[1]], [0, 0, 1]])


def _apply(
    matrix: npt.NDArray[np.float64], pts: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    homogeneous = np.hstack([pts, np.ones((len(pts), 1))]) @ matrix.T
    return np.asarray(homogeneous[:, :2] / homogeneous[:, 2:3], np.float64)
