"""The training-data recipe of kupol's plate detector: rendered plates in pictures.

One sample is a square picture (``SIZE`` pixels) with up to three rendered plates
(:mod:`kupol.plates.render`) drawn into it in perspective — seen from the front, from the side
(turned up to 65°, which squeezes a plate and makes its far end shorter), from above, tilted —
at widths from 22 to 200 pixels, each often on a patch of car body with a bumper line or a
grille and lamps beside it, on a background that is either a piece of a real street picture
(``backgrounds``: frames of the shared videos, a list the training script gives) or made up
(gradients, blocks, lines and noise), the whole then spoiled as a poor camera would
(:func:`kupol.plates.augment.degrade`, without its own geometry). The target is each plate's
outline (its quad, filled) at a quarter of the resolution.

Sample ``index`` of seed ``seed`` is drawn from its own generator, so a data set is the same
byte for byte whatever order or how many processes make it.

Example:
    >>> from kupol.plates.render import available_fonts
    >>> scene = make_scene(seed=0, index=1, fonts=available_fonts(), backgrounds=[])
    >>> scene.image.shape, scene.mask.shape, scene.mask.dtype
    ((256, 256, 3), (64, 64), dtype('uint8'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kupol.plates.augment import degrade
from kupol.plates.render import PlateStyle, render_plate, sample_text

BGRImage = npt.NDArray[np.uint8]

SIZE = 256
"""A sample's side in pixels."""
STRIDE = 4
"""The target mask is this many times smaller than the picture on each side."""

STYLES: dict[PlateStyle, float] = {
    PlateStyle.KZ_INDIVIDUAL: 0.25,
    PlateStyle.KZ_ORGANISATION: 0.08,
    PlateStyle.KZ_TWO_LINE: 0.12,
    PlateStyle.EU: 0.2,
    PlateStyle.US: 0.1,
    PlateStyle.GENERIC: 0.25,
}
"""How often each layout is drawn: Kazakh plates first, the rest so that it generalises."""


@dataclass(frozen=True)
class Scene:
    """A picture and where its plates are.

    Attributes:
        image: BGR ``uint8``, ``SIZE`` x ``SIZE``.
        mask: ``uint8`` 0/1, ``SIZE / STRIDE`` on each side: 1 inside a plate's outline.
        quads: Each plate's corners (top-left, top-right, bottom-right, bottom-left) in the
            picture's pixels.
    """

    image: BGRImage
    mask: npt.NDArray[np.uint8]
    quads: tuple[tuple[tuple[float, float], ...], ...]


def make_scene(
    *, seed: int, index: int, fonts: Sequence[Path], backgrounds: Sequence[BGRImage]
) -> Scene:
    """Sample ``index`` of the recipe with ``seed``."""
    rng = np.random.default_rng([seed, index, 17])
    canvas = _background(rng, backgrounds).astype(np.float32)
    full_mask = np.zeros((SIZE, SIZE), np.float32)
    count = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    plates: list[tuple[BGRImage, npt.NDArray[np.float32]]] = []
    taken = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(count):
        placed = _plan_plate(taken, rng, fonts)
        if placed is not None:
            plates.append(placed)
    for _, quad in plates:  # car bodies first: a later one must not paint over a plate
        if rng.random() < 0.6:
            _car_around(canvas, quad, rng)
    for plate, quad in plates:
        _draw_plate(canvas, full_mask, plate, quad, rng)
    quads = [tuple((float(x), float(y)) for x, y in quad) for _, quad in plates]
    image = degrade(
        np.clip(canvas, 0, 255).astype(np.uint8), rng, strength=float(rng.uniform(0.0, 0.8)),
        geometry=False,
    )  # fmt: skip
    small = cv2.resize(full_mask, (SIZE // STRIDE, SIZE // STRIDE), interpolation=cv2.INTER_AREA)
    return Scene(image=image, mask=(small >= 0.5).astype(np.uint8), quads=tuple(quads))


def _background(rng: np.random.Generator, backgrounds: Sequence[BGRImage]) -> BGRImage:
    """A piece of a real picture (scaled 0.6–2.5×, maybe mirrored) or a made-up one."""
    if backgrounds and rng.random() < 0.7:
        source = backgrounds[int(rng.integers(len(backgrounds)))]
        scale = float(rng.uniform(0.6, 2.5))
        need = int(np.ceil(SIZE / scale)) + 1
        h, w = source.shape[:2]
        if h >= need and w >= need:
            y, x = int(rng.integers(0, h - need + 1)), int(rng.integers(0, w - need + 1))
            piece = source[y : y + need, x : x + need]
            out = cv2.resize(piece, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
            if rng.random() < 0.5:
                out = out[:, ::-1]
            return np.ascontiguousarray(out, dtype=np.uint8)
    made = np.empty((SIZE, SIZE, 3), np.float32)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)
    ramp = t[None, :, None] if rng.random() < 0.5 else t[:, None, None]
    made[:] = a * (1 - ramp) + b * ramp
    for _ in range(int(rng.integers(0, 12))):
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        p = rng.integers(0, SIZE, 4)
        if rng.random() < 0.6:
            cv2.rectangle(made, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), colour, -1)
        else:
            thickness = int(rng.integers(1, 6))
            cv2.line(made, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), colour, thickness)
    made += rng.normal(0, rng.uniform(2, 20), made.shape)
    return np.clip(made, 0, 255).astype(np.uint8)


def _plan_plate(
    taken: npt.NDArray[np.uint8], rng: np.random.Generator, fonts: Sequence[Path]
) -> tuple[BGRImage, npt.NDArray[np.float32]] | None:
    """A rendered plate and where it goes (its quad), or ``None`` when that place would
    overlap a plate already planned (``taken`` is marked)."""
    styles = list(STYLES)
    p = np.array(list(STYLES.values()))
    style = styles[int(rng.choice(len(styles), p=p / p.sum()))]
    plate = render_plate(sample_text(style, rng), style=style, rng=rng, font=fonts).image
    ph, pw = plate.shape[:2]
    corners = _perspective(pw, ph, rng)
    width = float(np.exp(rng.uniform(np.log(22), np.log(200))))
    corners *= width / (corners[:, 0].max() - corners[:, 0].min())
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    if np.any(hi - lo > SIZE - 8):
        corners *= (SIZE - 8) / float((hi - lo).max())
        lo, hi = corners.min(axis=0), corners.max(axis=0)
    corners += 2 - lo + rng.uniform(0.0, 1.0, 2) * np.maximum(0.0, SIZE - 4 - (hi - lo))
    quad = corners.astype(np.float32)
    inside = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 1)
    grown = cv2.dilate(inside, np.ones((5, 5), np.uint8))
    if np.any(taken[grown > 0]):
        return None
    taken |= inside
    return plate, quad


def _draw_plate(
    canvas: npt.NDArray[np.float32],
    mask: npt.NDArray[np.float32],
    plate: BGRImage,
    quad: npt.NDArray[np.float32],
    rng: np.random.Generator,
) -> None:
    """``plate`` warped onto ``quad`` of ``canvas``, lit a little differently; marked in
    ``mask``."""
    ph, pw = plate.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(plate, matrix, (SIZE, SIZE), flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(
        np.ones((ph, pw), np.float32), matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR
    )[..., None]
    light = float(rng.uniform(0.55, 1.1))
    canvas[:] = canvas * (1 - alpha) + warped.astype(np.float32) * light * alpha
    np.maximum(mask, alpha[..., 0], out=mask)


def _perspective(pw: int, ph: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """A ``pw`` x ``ph`` plate's corners as a camera sees it: turned about the vertical axis
    (up to 65°, the far end shorter), about the horizontal one, and rolled."""
    yaw = np.radians(rng.uniform(0, 65) if rng.random() < 0.5 else rng.uniform(0, 20))
    yaw *= rng.choice([-1.0, 1.0])
    pitch = np.radians(rng.uniform(-25, 25))
    roll = np.radians(rng.normal(0, 6))
    x = np.array([-pw / 2, pw / 2, pw / 2, -pw / 2], np.float64)
    y = np.array([-ph / 2, -ph / 2, ph / 2, ph / 2], np.float64)
    # Rotate the plate's plane in 3-D and project it from a camera 4 plate widths away.
    z = np.zeros(4)
    x, z = x * np.cos(yaw), x * np.sin(yaw)
    y, z = y * np.cos(pitch) - z * np.sin(pitch), y * np.sin(pitch) + z * np.cos(pitch)
    depth = 4.0 * pw + z
    u, v = x * 4.0 * pw / depth, y * 4.0 * pw / depth
    u, v = u * np.cos(roll) - v * np.sin(roll), u * np.sin(roll) + v * np.cos(roll)
    out = np.stack([u, v], axis=1)
    out += rng.normal(0, 0.01 * pw, out.shape)  # a bent plate, an imperfect mount
    result: npt.NDArray[np.float64] = out - out.min(axis=0)
    return result


def _car_around(
    canvas: npt.NDArray[np.float32], quad: npt.NDArray[np.float32], rng: np.random.Generator
) -> None:
    """A patch of car body around the plate: paint, a bumper edge, a grille or lamps."""
    centre = quad.mean(axis=0)
    w = float(quad[:, 0].max() - quad[:, 0].min())
    h = float(quad[:, 1].max() - quad[:, 1].min())
    body = tuple(float(v) for v in rng.uniform(0, 230, 3))
    x0, x1 = int(centre[0] - w * rng.uniform(0.8, 2.5)), int(centre[0] + w * rng.uniform(0.8, 2.5))
    y0, y1 = int(centre[1] - h * rng.uniform(1.0, 4.0)), int(centre[1] + h * rng.uniform(0.8, 3.0))
    cv2.rectangle(canvas, (x0, y0), (x1, y1), body, -1)
    shade = tuple(float(v) * 0.5 for v in body)
    if rng.random() < 0.6:  # the bumper's edge below
        y = int(centre[1] + h * rng.uniform(0.7, 1.5))
        cv2.line(canvas, (x0, y), (x1, y), shade, max(1, int(h * 0.15)))
    if rng.random() < 0.5:  # a grille above
        top = int(centre[1] - h * rng.uniform(1.2, 2.5))
        for k in range(int(rng.integers(2, 6))):
            y = top - k * max(2, int(h * 0.25))
            cv2.line(canvas, (int(centre[0] - w), y), (int(centre[0] + w), y), shade, 1)
    if rng.random() < 0.5:  # lamps at the sides
        lamp = tuple(float(v) for v in rng.uniform(150, 255, 3))
        for side in (-1, 1):
            cx = int(centre[0] + side * w * rng.uniform(1.0, 2.0))
            cy = int(centre[1] - h * rng.uniform(0.0, 1.5))
            axes = (max(2, int(w * 0.3)), max(1, int(h * 0.4)))
            cv2.ellipse(canvas, (cx, cy), axes, 0, 0, 360, lamp, -1)
