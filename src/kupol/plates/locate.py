"""Find number plates in a photo or a vehicle crop with classical computer vision.

Two proposers feed one scorer. Vertical edges (Sobel-x) closed with a wide kernel give
plate-shaped blobs; character-like components of a binarised image, grouped into rows of
similar height, give the text of a plate (two stacked rows give a two-line plate). Both run at
two scales, every proposal is scored by how many plate-like characters it holds, and
overlapping proposals are suppressed. The reader (CRNN/CTC) decides which candidate is a plate.

Example:
    >>> import numpy as np
    >>> locate_plates(np.zeros((240, 320, 3), np.uint8))
    []
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

BGRImage = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

_PIXELS = 600_000  # area of the finest working image: fixes the time per photo
_SCALES = (1.0, 0.55)  # working scales relative to the finest, for small and large plates
_PAD = 0.12  # of the plate's height, on each side, so that a reader sees the whole plate
_SCORE_H = 40  # height a proposal is resized to before its characters are counted
_MIN_CHARS = 4  # similar characters a proposal must hold (noise makes up to three)
_AGREE = 3.0  # bonus for a proposal that both proposers make
Proposal = tuple[npt.NDArray[np.float32], float]  # 4 corners in working pixels, angle (deg)


@dataclass(frozen=True)
class PlateCandidate:
    """A place in an image that may hold a plate.

    Attributes:
        box: ``(x0, y0, x1, y1)`` in image pixels, padded so that the whole plate is inside.
        score: Plate-likeness, higher is better; comparable within one image only.
        quad: Corners (top-left, top-right, bottom-right, bottom-left) of the padded, rotated
            plate, when it is tilted enough to be worth deskewing; ``None`` otherwise.
    """

    box: Box
    score: float
    quad: Quad | None = None


def locate_plates(
    image: BGRImage, *, max_candidates: int = 10, min_width: int = 40
) -> list[PlateCandidate]:
    """Places in ``image`` that may hold a plate, best first.

    Args:
        image: A BGR ``uint8`` photo or vehicle crop.
        max_candidates: At most this many candidates are returned (each costs a reader call).
        min_width: Narrower plates (in image pixels, before padding) are not proposed.

    Returns:
        Candidates sorted by descending score, mutually overlapping ones suppressed.

    Raises:
        ValueError: ``image`` is not a non-empty BGR (or grey) ``uint8`` array, or
            ``max_candidates`` is below 1.
    """
    gray = _gray(image)
    if max_candidates < 1:
        raise ValueError("max_candidates must be at least 1")
    height, width = gray.shape
    edges: list[Proposal] = []
    rows: list[Proposal] = []
    finest = min(2.0, float(np.sqrt(_PIXELS / (height * width))))
    for scale in (finest * relative for relative in _SCALES):
        small = _resized(gray, scale)
        edges += [(corners / scale, angle) for corners, angle in _edge_blobs(small)]
        rows += [(corners / scale, angle) for corners, angle in _char_rows(small)]
    boxes = [_bounds(corners) for corners, _ in edges + rows]
    scored: list[PlateCandidate] = []
    for i, ((corners, angle), box) in enumerate(zip(edges + rows, boxes, strict=True)):
        if box[2] - box[0] < min_width or any(_iou(box, b) > 0.85 for b in boxes[:i]):
            continue  # too narrow, or (nearly) the same as one scored already
        score = _plate_score(gray, box)
        if score > 0:
            # A plate is both a block of edges and a row of characters (other text is a row);
            # the block is preferred, as it holds the whole plate and the row only its text.
            agreed = any(_iou(box, row) > 0.5 for row in boxes[len(edges) :])
            score += _AGREE * (i < len(edges) and agreed)
            scored.append(padded(corners, angle, score, width, height))
    return _suppress(scored, max_candidates)


def widened(candidate: PlateCandidate, image_shape: tuple[int, ...], by: float) -> PlateCandidate:
    """``candidate`` stretched by ``by`` of its width at each end (along a tilted plate's
    edges; the box kept inside an image of ``image_shape``): a second look when the first box
    cut the plate's first or last characters off.

    Example:
        >>> widened(PlateCandidate((10, 5, 70, 25), 1.0), (50, 80, 3), 0.25).box
        (0.0, 5.0, 80.0, 25.0)
    """
    width = image_shape[1]
    x0, y0, x1, y1 = candidate.box
    grow = (x1 - x0) * by
    box = (max(0.0, x0 - grow), float(y0), min(float(width), x1 + grow), float(y1))
    quad = None
    if candidate.quad is not None:
        pts = np.array(candidate.quad, dtype=np.float32)
        top, bottom = (pts[1] - pts[0]) * by, (pts[2] - pts[3]) * by
        # Not clipped corner by corner (that would bend the plate's shape at the image's
        # edge): the deskewing crop repeats the border pixels beyond it.
        pts = np.array([pts[0] - top, pts[1] + top, pts[2] + bottom, pts[3] - bottom])
        quad = cast(Quad, tuple((float(x), float(y)) for x, y in pts))
    return PlateCandidate(box=box, score=candidate.score, quad=quad)


def shifted(candidate: PlateCandidate, dx: float, dy: float) -> PlateCandidate:
    """``candidate`` moved by ``(dx, dy)`` pixels: from a region's pixels to its image's.

    Example:
        >>> shifted(PlateCandidate((10, 5, 70, 25), 1.0), 100, 50).box
        (110.0, 55.0, 170.0, 75.0)
    """
    x0, y0, x1, y1 = candidate.box
    quad = None
    if candidate.quad is not None:
        quad = cast(Quad, tuple((float(x + dx), float(y + dy)) for x, y in candidate.quad))
    box = (float(x0 + dx), float(y0 + dy), float(x1 + dx), float(y1 + dy))
    return PlateCandidate(box=box, score=candidate.score, quad=quad)


def crop_candidate(
    image: BGRImage, candidate: PlateCandidate, *, out_h: int | None = None
) -> BGRImage:
    """The part of ``image`` a candidate covers, deskewed when it has a ``quad``.

    Args:
        image: The image the candidate was found in.
        candidate: One of :func:`locate_plates`'s results.
        out_h: Height of the result in pixels (width follows the aspect); native if ``None``.

    Example:
        >>> import numpy as np
        >>> crop_candidate(np.zeros((50, 80, 3), np.uint8), PlateCandidate((10, 5, 70, 25), 1.0),
        ...                out_h=10).shape
        (10, 30, 3)
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("crop_candidate expects a uint8 image")
    if candidate.quad is not None:
        src = np.array(candidate.quad, dtype=np.float32)
        w = round(float(max(np.linalg.norm(src[1] - src[0]), np.linalg.norm(src[2] - src[3]))))
        h = round(float(max(np.linalg.norm(src[3] - src[0]), np.linalg.norm(src[2] - src[1]))))
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        crop = cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    else:
        x0, y0, x1, y1 = (round(v) for v in candidate.box)
        crop = image[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    if crop.size == 0:
        raise ValueError("the candidate lies outside the image")
    if out_h is not None:
        out_w = max(1, round(crop.shape[1] * out_h / crop.shape[0]))
        crop = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop, dtype=np.uint8)


def _gray(image: BGRImage) -> npt.NDArray[np.uint8]:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError("locate_plates expects a non-empty uint8 numpy image")
    if image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 2:
        gray = image
    else:
        raise ValueError(f"locate_plates expects a BGR image, got shape {image.shape}")
    if min(gray.shape) < 8:
        raise ValueError(f"image of shape {image.shape} is too small to hold a plate")
    return np.asarray(gray, dtype=np.uint8)


def _resized(gray: npt.NDArray[np.uint8], scale: float) -> npt.NDArray[np.uint8]:
    """``gray`` scaled; halved by a Gaussian pyramid first, which is faster than INTER_AREA."""
    while scale < 0.5:
        gray, scale = np.asarray(cv2.pyrDown(gray), dtype=np.uint8), scale * 2.0
    return np.asarray(cv2.resize(gray, None, fx=scale, fy=scale), dtype=np.uint8)


def _edge_blobs(small: npt.NDArray[np.uint8]) -> list[Proposal]:
    """Rotated rectangles around dense vertical edges closed into plate-shaped blobs."""
    blur = cv2.GaussianBlur(small, (3, 3), 0)
    mag = cv2.convertScaleAbs(cv2.Sobel(blur, cv2.CV_16S, 1, 0, ksize=3))
    otsu, _ = cv2.threshold(mag, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(otsu, float(np.searchsorted(np.cumsum(np.bincount(mag.ravel())), 0.85 * mag.size)))
    edges = np.where(mag > level, 255, 0).astype(np.uint8)
    found: list[Proposal] = []
    for kernel in ((17, 3), (9, 3)):  # wide enough to join a plate's characters, two spacings
        closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones(kernel[::-1], np.uint8))
        closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 5), np.uint8))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
            if rw < rh:  # OpenCV may report the long side as the height
                rw, rh, angle = rh, rw, angle - 90.0
            angle = (angle + 90.0) % 180.0 - 90.0
            plate_like = rh >= 6 and 1.1 <= rw / rh <= 10.0 and abs(angle) <= 25
            if plate_like and cv2.contourArea(contour) >= 0.4 * rw * rh:
                corners = cv2.boxPoints(((cx, cy), (rw, rh), angle))
                found.append((np.asarray(corners, dtype=np.float32), float(angle)))
    return found


def _char_rows(small: npt.NDArray[np.uint8]) -> list[Proposal]:
    """Boxes around rows (and stacked pairs of rows) of similar character-like components."""
    found: list[Proposal] = []
    for dark_text in (True, False):
        boxes = _blobs(small, dark_text=dark_text, offset=10, line=25).astype(np.float32)
        w, h = boxes[:, 2], boxes[:, 3]
        keep = (h >= 7) & (h <= small.shape[0] * 0.3) & (w >= 2) & (w <= 1.1 * h) & (h <= 6 * w)
        found += _group_rows(boxes[keep])
    return found


def _group_rows(boxes: npt.NDArray[np.float32]) -> list[Proposal]:
    """Rows of 3–12 ``(x, y, w, h)`` boxes of like height, side by side; pairs of rows."""
    if len(boxes) < 3:
        return []
    x, y, w, h = boxes.T
    cy, right = y + h / 2, x + w
    bigger = np.maximum(h[:, None], h[None, :])
    gap = np.maximum(x[None, :] - right[:, None], x[:, None] - right[None, :])
    linked = (
        (np.minimum(h[:, None], h[None, :]) > 0.7 * bigger)
        & (np.abs(cy[:, None] - cy[None, :]) < 0.3 * bigger)
        & (gap < 1.0 * bigger)
        & (gap > -0.3 * bigger)
    )
    labels = _components(linked)
    rows: list[npt.NDArray[np.float32]] = []
    for label in np.unique(labels):
        members = boxes[labels == label]
        if 3 <= len(members) <= 12:
            x0, y0 = members[:, 0].min(), members[:, 1].min()
            x1 = (members[:, 0] + members[:, 2]).max()
            y1 = (members[:, 1] + members[:, 3]).max()
            rows.append(np.array([x0, y0, x1, y1], dtype=np.float32))
    found = [(_corners(r), 0.0) for r in rows]
    for a in rows:  # two-line plates: a row over a row of similar height and extent
        for b in rows:
            ha, hb = a[3] - a[1], b[3] - b[1]
            overlap = min(a[2], b[2]) - max(a[0], b[0])
            if (
                0 <= b[1] - a[3] < 0.8 * ha
                and 0.6 < hb / ha < 1.6
                and overlap > 0.5 * min(a[2] - a[0], b[2] - b[0])
            ):
                found.append(
                    (_corners(np.concatenate([np.minimum(a, b)[:2], np.maximum(a, b)[2:]])), 0.0)
                )
    return found


def _components(linked: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Labels of the connected components of a symmetric adjacency matrix (union-find)."""
    parent = list(range(len(linked)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1)), strict=True):
        parent[root(int(i))] = root(int(j))
    return np.array([root(i) for i in range(len(parent))], dtype=np.int64)


def _blobs(
    gray: npt.NDArray[np.uint8], *, dark_text: bool, offset: int, line: int
) -> npt.NDArray[np.int32]:
    """``(x, y, w, h)`` of the components of ``gray`` binarised for text of one polarity.

    Horizontal runs of ``line`` pixels or more are cut first: a plate's frame would join its
    characters into one component, and such long strokes are no characters.
    """
    mode = cv2.THRESH_BINARY_INV if dark_text else cv2.THRESH_BINARY
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 25, offset)
    binary = cv2.subtract(binary, cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((1, line))))
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return np.asarray(stats[1:count, :4], dtype=np.int32)


def _bounds(corners: npt.NDArray[np.float32]) -> Box:
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _corners(box: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.array([[x0, y1], [x0, y0], [x1, y0], [x1, y1]], dtype=np.float32)


def _plate_score(gray: npt.NDArray[np.uint8], box: Box) -> float:
    """How plate-like a proposal is: similar characters, their size and the contrast."""
    pad = 0.1 * (box[3] - box[1])  # so that characters do not touch the crop's edge
    x0, y0 = max(0, int(box[0] - pad)), max(0, int(box[1] - pad))
    crop = gray[y0 : int(box[3] + pad + 1), x0 : int(box[2] + pad + 1)]
    if crop.shape[0] < 4 or crop.shape[1] < 8:
        return 0.0
    to_image = crop.shape[0] / _SCORE_H
    out_w = int(min(8 * _SCORE_H, max(8, crop.shape[1] / to_image)))
    crop = np.asarray(cv2.resize(crop, (out_w, _SCORE_H), interpolation=cv2.INTER_AREA), np.uint8)
    best, char_h = 0, 0.0
    for dark_text in (True, False):
        _, y, w, h = _blobs(crop, dark_text=dark_text, offset=5, line=_SCORE_H).T
        ok = (h >= 0.2 * _SCORE_H) & (h <= 0.9 * _SCORE_H) & (w <= 1.1 * h) & (h <= 8 * w)
        heights, middles = h[ok], y[ok] + h[ok] / 2
        if len(heights):
            # Characters of a plate are of one height and stand in a row (or two rows).
            alike = np.abs(heights[:, None] - heights[None, :]) <= 0.2 * heights
            in_row = np.abs(middles[:, None] - middles[None, :]) <= 0.3 * heights
            similar = (alike & in_row).sum(0)
            if similar.max() > best:
                best, char_h = int(similar.max()), float(heights[similar.argmax()])
    if best < _MIN_CHARS:
        return 0.0
    fit = 1.0 if 1.2 <= out_w / _SCORE_H <= 6.5 else 0.5
    contrast = min(1.0, float(crop.std()) / 64.0)
    # Plates are made to be read from afar: their characters are the largest text on a car.
    size = float(np.clip(np.log2(char_h * to_image / 12.0), -1.0, 1.5))
    return (min(best, 9) - 0.5 * max(0, best - 10)) * fit + contrast + size


def padded(
    corners: npt.NDArray[np.float32], angle: float, score: float, width: int, height: int
) -> PlateCandidate:
    """A candidate from a plate's rectangle (4 corners in image pixels, tilted by ``angle``
    degrees), grown on every side by ``_PAD`` of its height, its box kept inside an image of
    ``width`` x ``height``; with a quad to deskew by when it is tilted 3° or more."""
    centre = corners.mean(axis=0)
    sides = [corners[1] - corners[0], corners[2] - corners[1]]
    axes = [side / max(1e-6, float(np.linalg.norm(side))) for side in sides]
    pad = _PAD * min(float(np.linalg.norm(side)) for side in sides)
    grown = np.array(
        [
            centre + sum((a @ (c - centre) + np.sign(a @ (c - centre)) * pad) * a for a in axes)
            for c in corners
        ],
        dtype=np.float32,
    )
    x0, y0 = np.maximum(grown.min(axis=0), 0.0)
    x1, y1 = grown.max(axis=0)
    box = (float(x0), float(y0), min(float(width), float(x1)), min(float(height), float(y1)))
    if abs(angle) < 3:  # a reader copes with a little tilt; deskewing would only blur
        return PlateCandidate(box=box, score=score)
    tl, tr, br, bl = ((float(x), float(y)) for x, y in _ordered(grown))
    return PlateCandidate(box=box, score=score, quad=(tl, tr, br, bl))


def _ordered(pts: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    s, d = pts.sum(axis=1), pts[:, 1] - pts[:, 0]
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]])


def _suppress(candidates: list[PlateCandidate], keep: int) -> list[PlateCandidate]:
    chosen: list[PlateCandidate] = []
    for cand in sorted(candidates, key=lambda c: -c.score):
        if all(_iou(cand.box, other.box) < 0.4 for other in chosen):
            chosen.append(cand)
            if len(chosen) == keep:
                break
    return chosen


def _iou(a: Box, b: Box) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
