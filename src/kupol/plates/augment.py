"""Make clean rendered plates look like what a roadside camera sees.

:func:`degrade` spoils a plate image in place of its size (so a label stays true), and
:func:`place_in_scene` puts a plate on a background with the margin a detector's crop leaves,
then degrades the whole crop. Every choice is drawn from the caller's ``numpy`` generator.

Example:
    >>> import numpy as np
    >>> clean = np.full((112, 520, 3), 255, np.uint8)
    >>> degrade(clean, np.random.default_rng(0), strength=0.5).shape
    (112, 520, 3)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

BGRImage = npt.NDArray[np.uint8]


def degrade(
    image: BGRImage, rng: np.random.Generator, *, strength: float = 0.5, geometry: bool = True
) -> BGRImage:
    """A copy of ``image`` (BGR ``uint8``) as a poor camera would see it; same shape.

    Args:
        image: The plate (or crop) to spoil.
        rng: Source of every random choice.
        strength: 0 leaves the image almost clean, 1 is the worst a reader should still cope
            with; each effect is applied with a probability and a size that grow with it.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("degrade expects a BGR uint8 image")
    s = float(np.clip(strength, 0.0, 1.0))
    out = image.astype(np.float32)
    if geometry:
        out = _geometry(out, rng, s)
    if rng.random() < 0.5 * s:
        out = _dirt(out, rng, s)
    if rng.random() < 0.15 * s:
        out = _occlusion(out, rng)
    if rng.random() < 0.3 * s:
        out = _glare(out, rng, s)
    out = _blur(out, rng, s)
    night = rng.random() < 0.25 * s
    if night:
        out = _night(out, rng, s)
    else:
        gain = 1.0 + rng.uniform(-0.4, 0.4) * s
        bias = rng.uniform(-50, 50) * s
        out = (out - 128.0) * gain + 128.0 + bias
    out += rng.normal(0.0, 1.0 + 12.0 * s * (2.0 if night else 1.0), out.shape)
    result = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.7 * s + 0.1:
        result = _jpeg(result, int(rng.integers(max(8, int(90 - 75 * s)), 96)))
    return result


def place_in_scene(
    plate: BGRImage,
    rng: np.random.Generator,
    background: BGRImage | None = None,
    *,
    strength: float = 0.5,
) -> BGRImage:
    """``plate`` on a piece of ``background`` (or of a made-up car and road), degraded.

    The crop leaves 3–15 % of the plate's size around it on each side, as a detector's box
    padded for a reader would — a fifth of the time 15–35 % above and below, holding a dealer's
    frame or bumper lettering; the whole crop is then passed through :func:`degrade`.
    """
    ph, pw = plate.shape[:2]
    matrix, (bw, bh) = _tilt(pw, ph, rng, float(np.clip(strength, 0.0, 1.0)))
    warped = cv2.warpPerspective(plate, matrix, (bw, bh), flags=cv2.INTER_LINEAR)
    inside = np.full((ph, pw), 255, np.uint8)
    mask = cv2.warpPerspective(inside, matrix, (bw, bh), flags=cv2.INTER_LINEAR)
    left, right = (int(bw * rng.uniform(0.03, 0.15)) for _ in range(2))
    top, bottom = (int(bh * rng.uniform(0.03, 0.15)) for _ in range(2))
    framed = rng.random() < 0.2
    if framed:  # a dealer's frame or bumper lettering above and below: more margin to hold it
        top, bottom = (int(bh * rng.uniform(0.15, 0.35)) for _ in range(2))
    crop = _background_crop(background, (bh + top + bottom, bw + left + right), rng)
    if framed:
        _surround_text(crop, (left, top, left + bw, top + bh), rng)
    alpha = mask.astype(np.float32)[:, :, None] / 255.0
    # A soft shadow below and right of the plate, as a mounted plate casts.
    dy, dx = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    under = crop[top + dy : top + dy + bh, left + dx : left + dx + bw].astype(np.float32)
    shade = alpha[: under.shape[0], : under.shape[1]]
    crop[top + dy : top + dy + bh, left + dx : left + dx + bw] = (
        under * (1.0 - 0.4 * shade)
    ).astype(np.uint8)
    spot = crop[top : top + bh, left : left + bw].astype(np.float32)
    crop[top : top + bh, left : left + bw] = (spot * (1 - alpha) + warped * alpha).astype(np.uint8)
    return degrade(crop, rng, strength=strength, geometry=False)


_LETTERS_AND_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _surround_text(
    crop: BGRImage, plate: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    """Small print outside the plate (a dealer's name, a web address, a slogan) in place: text
    that is in the crop but on no plate, which a reader must leave out."""
    x0, y0, x1, y1 = plate
    colour = tuple(float(v) for v in rng.integers(0, 256, 3))
    for band_top, band_bottom in ((0, y0), (y1, crop.shape[0])):
        height = band_bottom - band_top
        if height < 6 or rng.random() < 0.3:
            continue
        n = int(rng.integers(4, 14))
        word = "".join(_LETTERS_AND_DIGITS[int(i)] for i in rng.integers(0, 36, n))
        scale = max(0.2, height * rng.uniform(0.5, 0.8) / 22.0)
        thickness = max(1, int(scale * rng.uniform(1.0, 2.5)))
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x = x0 + int(rng.integers(0, max(1, x1 - x0 - tw + 1)))
        y = band_top + (height + th) // 2
        cv2.putText(
            crop, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA
        )


def _tilt(
    w: int, h: int, rng: np.random.Generator, s: float
) -> tuple[npt.NDArray[np.float64], tuple[int, int]]:
    """A perspective, rotation and scale of a w x h plate, and the size of the box around it."""
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jitter = rng.uniform(-0.06, 0.06, (4, 2)) * s * np.array([h, h], dtype=np.float32)
    angle = np.deg2rad(rng.uniform(-10, 10) * s)
    zoom = 1.0 + rng.uniform(-0.15, 0.1) * s
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (src @ rot.T) * zoom + jitter
    # Squeeze one side, as a plate seen off-axis is (the far edge shorter).
    side = rng.uniform(0.0, 0.12) * s * h
    far = int(rng.integers(2))
    dst[[far, 3 - far], 1] += np.array([side, -side], dtype=np.float32)
    dst -= dst.min(axis=0)
    size = np.ceil(dst.max(axis=0)).astype(int) + 1
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return np.asarray(matrix, dtype=np.float64), (int(size[0]), int(size[1]))


def _background_crop(
    background: BGRImage | None, size: tuple[int, int], rng: np.random.Generator
) -> BGRImage:
    h, w = size
    if background is not None and background.shape[0] >= h and background.shape[1] >= w:
        y = int(rng.integers(0, background.shape[0] - h + 1))
        x = int(rng.integers(0, background.shape[1] - w + 1))
        return np.ascontiguousarray(background[y : y + h, x : x + w], dtype=np.uint8)
    if background is not None:
        resized = cv2.resize(background, (w, h), interpolation=cv2.INTER_AREA)
        return np.asarray(resized, dtype=np.uint8)
    # A made-up car body: a paint colour, a vertical gradient, a few panel lines and noise.
    # Car paints are mostly greys with a little colour.
    paint = (rng.uniform(20, 230) + rng.normal(0, 30, 3)).astype(np.float32)
    ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.5, 1.1), h, dtype=np.float32)
    body = ramp[:, None, None] * paint[None, None, :] * np.ones((h, w, 1), np.float32)
    for _ in range(int(rng.integers(0, 4))):
        y = int(rng.integers(0, h))
        cv2.line(
            body,
            (0, y),
            (w, y + int(rng.integers(-5, 6))),
            tuple(float(v) for v in rng.integers(0, 80, 3)),
            int(rng.integers(1, 4)),
        )
    body += rng.normal(0.0, 6.0, body.shape)
    return np.asarray(np.clip(body, 0, 255), dtype=np.uint8)


def _geometry(
    img: npt.NDArray[np.float32], rng: np.random.Generator, s: float
) -> npt.NDArray[np.float32]:
    """Perspective, rotation and scale in one warp; the edges repeat the border pixels."""
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jitter = rng.uniform(-0.04, 0.04, (4, 2)) * s * np.array([h, h], dtype=np.float32)
    # Corners may move by a tenth of the height at most, so no character leaves the frame.
    limit = np.rad2deg(np.arctan(0.1 * h / (w / 2)))
    angle = np.deg2rad(rng.uniform(-limit, limit) * s)
    zoom = 1.0 - rng.uniform(0.0, 0.1) * s
    centre = np.array([w / 2, h / 2], dtype=np.float32)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = ((src - centre) @ rot.T) * zoom + centre + jitter
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(
        img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(warped, dtype=np.float32)


def _blur(
    img: npt.NDArray[np.float32], rng: np.random.Generator, s: float
) -> npt.NDArray[np.float32]:
    if rng.random() < 0.4 * s:
        length = int(rng.integers(3, 3 + int(12 * s) + 1))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        centre = (length / 2 - 0.5, length / 2 - 0.5)
        turn = cv2.getRotationMatrix2D(centre, float(rng.uniform(0, 180)), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, turn, (length, length)), np.float32)
        kernel /= max(float(kernel.sum()), 1e-6)
        return np.asarray(cv2.filter2D(img, -1, kernel), dtype=np.float32)
    sigma = float(rng.uniform(0.0, 2.2 * s))
    if sigma < 0.3:
        return img
    return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), dtype=np.float32)


def _glare(
    img: npt.NDArray[np.float32], rng: np.random.Generator, s: float
) -> npt.NDArray[np.float32]:
    h, w = img.shape[:2]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    radius = rng.uniform(0.2, 0.6) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    spot = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
    return np.asarray(img + (spot * rng.uniform(80, 220) * s)[:, :, None], dtype=np.float32)


def _night(
    img: npt.NDArray[np.float32], rng: np.random.Generator, s: float
) -> npt.NDArray[np.float32]:
    """Dark and low-contrast, with a headlight bloom leaking in from one side."""
    h, w = img.shape[:2]
    dark = img * rng.uniform(0.15, 0.45) + rng.uniform(0, 15)
    side = w * rng.choice([-0.2, 1.2])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bloom = np.exp(
        -((xx - side) ** 2 + (yy - h * rng.uniform(0.3, 0.9)) ** 2) / (2 * (w * 0.35) ** 2)
    )
    tint = np.array([rng.uniform(180, 230), rng.uniform(220, 250), 255], dtype=np.float32)
    return np.asarray(dark + bloom[:, :, None] * tint * rng.uniform(0.3, 0.9) * s, dtype=np.float32)


def _dirt(
    img: npt.NDArray[np.float32], rng: np.random.Generator, s: float
) -> npt.NDArray[np.float32]:
    h, w = img.shape[:2]
    blots = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 2 + int(10 * s)))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(2, max(3, w // 10))), int(rng.integers(2, max(3, h // 5))))
        cv2.ellipse(
            blots,
            centre,
            axes,
            float(rng.uniform(0, 180)),
            0,
            360,
            float(rng.uniform(0.2, 0.7)),
            -1,
        )
    mask = np.asarray(cv2.GaussianBlur(blots, (0, 0), max(1.0, h / 30)), np.float32)[:, :, None]
    mud = np.array(
        [rng.uniform(30, 70), rng.uniform(50, 90), rng.uniform(60, 110)], dtype=np.float32
    )
    return np.asarray(img * (1 - mask) + mud * mask, dtype=np.float32)


def _occlusion(img: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """A light partial cover (a tow bar, a frame bracket): thin, from one edge, never a whole
    character."""
    h, w = img.shape[:2]
    bar_w = int(rng.integers(max(2, w // 80), max(3, w // 30)))
    bar_h = int(h * rng.uniform(0.15, 0.4))
    x = int(rng.integers(0, w - bar_w))
    out = img.copy()
    rows = slice(0, bar_h) if rng.random() < 0.5 else slice(h - bar_h, h)
    out[rows, x : x + bar_w] = rng.integers(0, 120, 3).astype(np.float32)
    return out


def _jpeg(img: BGRImage, quality: int) -> BGRImage:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), dtype=np.uint8)
