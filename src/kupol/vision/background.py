"""Two background models, long- and short-term, for motion gating and static foreground.

Something that moves differs from both models. Something that arrived and stayed (a bag set
down, a parked car) is soon learnt by the short-term model but not by the long-term one: it
is *static foreground*. Each pixel counts how long it has been static; blobs of pixels that
have been static long enough are the candidates for abandoned objects (Porikli et al.,
"Robust abandoned object detection using dual foregrounds", 2008). The detector misses small
bags; this does not, and the person tracks then say who left what.

Example:
    >>> import numpy as np
    >>> model = DualBackground(fps=5, static_after_s=2, width=64)
    >>> floor = np.full((48, 64, 3), 90, np.uint8)
    >>> for _ in range(10):
    ...     _ = model.update(floor)
    >>> bag = floor.copy(); bag[30:40, 20:30] = 20
    >>> for _ in range(60):
    ...     view = model.update(bag)
    >>> [(b.x, b.y, b.w, b.h) for b in view.static_blobs]
    [(19, 29, 12, 12)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, kw_only=True)
class StaticBlob:
    """A region that has been static foreground for ``static_s`` seconds (model pixels)."""

    x: int
    y: int
    w: int
    h: int
    area: int
    static_s: float


@dataclass(frozen=True, kw_only=True)
class BackgroundView:
    """What one frame says: how much moves, and what has stayed."""

    motion: float
    """Fraction of the image that differs from the short-term model."""
    changed: float
    """Fraction that differs from the long-term model (lighting changes make this large)."""
    motion_mask: NDArray[np.bool_]
    static_blobs: tuple[StaticBlob, ...]
    scale: float
    """Model pixels per analysed-image pixel."""
    fresh: bool = False
    """The model started again on this frame (first frame, or the whole scene changed)."""


class DualBackground:
    """Long- and short-term running-average backgrounds on a small blurred colour image.

    Args:
        fps: analysed frames per second (the learning rates are set in seconds).
        width: the model's width in pixels (the frame is scaled down to it).
        threshold: grey-level difference that counts as foreground.
        short_s: time constant of the short-term model.
        long_s: time constant of the long-term model where nothing is in front of it.
        static_after_s: how long a pixel must stay static before it is reported.
        absorb_s: how long a static pixel stays foreground before it becomes background.
        min_blob_px: smaller static blobs are noise.
    """

    def __init__(
        self,
        *,
        fps: float,
        width: int = 320,
        threshold: float = 20.0,
        short_s: float = 4.0,
        long_s: float = 120.0,
        static_after_s: float = 8.0,
        min_blob_px: int = 15,
        relearn_above: float = 0.6,
        absorb_s: float = 600.0,
    ) -> None:
        self.fps = fps
        self.width = width
        self._threshold = threshold
        self._short_rate = 1.0 / max(1.0, fps * short_s)
        self._long_rate = 1.0 / max(1.0, fps * long_s)
        self._static_frames = static_after_s * fps
        self._absorb_frames = absorb_s * fps
        self._ghost_frames = 3.0 * fps
        self._ghost_votes = np.zeros((1, 1), np.float32)
        self._min_blob_px = min_blob_px
        self._relearn_above = relearn_above
        self._long: NDArray[np.float32] | None = None
        self._short: NDArray[np.float32] | None = None
        self._evidence: NDArray[np.float32] | None = None
        self._unknown: NDArray[np.bool_] | None = None
        self._kernel = np.ones((5, 5), np.uint8)

    def reset(self) -> None:
        """Forget everything (a camera moved, or the scene's light changed at once)."""
        self._long = self._short = self._evidence = None

    def _prepare(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.float32], float]:
        h, w = image.shape[:2]
        scale = min(1.0, self.width / w)
        size = (max(2, round(w * scale)), max(2, round(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
        # Colour, not grey: a green case on grey paving can have the paving's brightness.
        colour = small if small.ndim == 3 else cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        return cv2.GaussianBlur(colour, (5, 5), 0).astype(np.float32), scale

    def update(
        self,
        image: NDArray[np.uint8],
        *,
        occupied: Sequence[Sequence[float]] = (),
        dt_s: float | None = None,
    ) -> BackgroundView:
        """Feed one analysed frame (BGR or grey); returns motion and the static blobs.

        ``occupied``: boxes (analysed-image pixels) of people and vehicles seen lately, so
        background that was hidden behind them is not learnt while they stand there.
        ``dt_s``: seconds since the previous frame (default: one analysis period). A source
        that skips frames when the server is behind still learns and counts in seconds.
        """
        step = 1.0 if dt_s is None else min(10.0, max(0.0, dt_s * self.fps))
        gray, scale = self._prepare(image)
        if self._long is None or self._short is None or self._long.shape != gray.shape:
            self._long, self._short = gray.copy(), gray.copy()
            self._evidence = np.zeros(gray.shape[:2], np.float32)
            self._ghost_votes = np.zeros(gray.shape[:2], np.float32)
            self._unknown = None
            empty = np.zeros(gray.shape[:2], bool)
            return BackgroundView(
                motion=0.0,
                changed=0.0,
                motion_mask=empty,
                static_blobs=(),
                scale=scale,
                fresh=True,
            )
        assert self._evidence is not None
        # Cameras change exposure when a dark coat or a bright car fills the view: the
        # whole picture brightens or darkens together. The median ratio to the long-term
        # model measures that gain (objects cover less than half the view) and undoes it.
        gain = float(np.median(gray[::4, ::4] / np.maximum(self._long[::4, ::4], 1.0)))
        if 0.5 < gain < 2.0:
            gray = gray / gain
        long_fg = _largest_channel(np.abs(gray - self._long)) > self._threshold
        short_fg = _largest_channel(np.abs(gray - self._short)) > self._threshold
        changed = float(long_fg.mean())
        if changed > self._relearn_above:
            # The whole picture changed (lights, exposure, a moved camera): start again.
            self._long, self._short = gray.copy(), gray.copy()
            self._evidence[:] = 0
            self._ghost_votes[:] = 0
            self._unknown = None
            empty = np.zeros(gray.shape[:2], bool)
            return BackgroundView(
                motion=float(short_fg.mean()),
                changed=changed,
                motion_mask=empty,
                static_blobs=(),
                scale=scale,
                fresh=True,
            )
        # The long-term model learns only the empty scene: learning a person who stands
        # still would leave a "ghost" of them once they walk on, static where nothing is.
        # What stays static for ``absorb_s`` becomes background (the scene really changed).
        long_step = 1.0 - (1.0 - self._long_rate) ** step
        long_rate = np.where(long_fg, 0.0, long_step).astype(np.float32)
        self._long += long_rate[:, :, None] * (gray - self._long)
        self._short += (1.0 - (1.0 - self._short_rate) ** step) * (gray - self._short)
        static = long_fg & ~short_fg
        if self._unknown is not None:
            # Background first seen behind a person or car is learnt as soon as it shows,
            # still, with nobody in front of it; until then it cannot be "static".
            free = self._unknown & ~short_fg & ~self._boxes_mask(occupied, scale, gray.shape)
            self._long[free] = gray[free]
            self._unknown &= ~free
            static &= ~self._unknown
            if not self._unknown.any():
                self._unknown = None
        # Evidence builds one per static frame and decays three times faster, so a person
        # who pauses does not accumulate, but a short occlusion does not erase a bag.
        self._evidence = np.where(
            static, self._evidence + step, np.maximum(self._evidence - 3 * step, 0)
        )
        absorbed = self._evidence > self._absorb_frames
        if absorbed.any():
            self._long[absorbed] = gray[absorbed]
            self._evidence[absorbed] = 0
        blobs = self._blobs(gray)
        return BackgroundView(
            motion=float(short_fg.mean()),
            changed=changed,
            motion_mask=short_fg,
            static_blobs=blobs,
            scale=scale,
        )

    def _blobs(self, gray: NDArray[np.float32]) -> tuple[StaticBlob, ...]:
        assert self._evidence is not None and self._long is not None
        raw = (self._evidence > self._static_frames).astype(np.uint8)
        if not raw.any():
            return ()
        closed = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, self._kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(closed)
        blobs = []
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < self._min_blob_px:
                continue
            region = labels == label
            if self._is_ghost(gray, region, (x, y, w, h)):
                # Something that was in the background left (or the background moved a
                # little): not reported, and learnt once it has looked so for a while. Not at
                # once: part of a bag set down against a strong edge can look the same until
                # the rest of it turns static and the blob grows.
                self._ghost_votes[region] += 1.0
                settled = region & (self._ghost_votes > self._ghost_frames)
                if settled.any():
                    self._long[settled] = gray[settled]
                    self._evidence[settled] = 0
                    self._ghost_votes[settled] = 0
                continue
            self._ghost_votes[region] = 0
            static_frames = float(self._evidence[region].max())
            blobs.append(
                StaticBlob(x=x, y=y, w=w, h=h, area=area, static_s=static_frames / self.fps)
            )
        return tuple(blobs)

    def _is_ghost(
        self, gray: NDArray[np.float32], region: NDArray[np.bool_], box: tuple[int, int, int, int]
    ) -> bool:
        """Whether a static region is a *removed* object rather than an added one.

        Where an object was taken away, the picture now looks like the scene around the
        region, and the background model, which still holds the object, does not; and the
        model has edges along the region's outline that the picture has lost. An object set
        down is the other way round: it stands out from its surroundings now.
        """
        assert self._long is not None
        x, y, w, h = box
        pad = 4
        y0, y1 = max(0, y - pad), min(gray.shape[0], y + h + pad)
        x0, x1 = max(0, x - pad), min(gray.shape[1], x + w + pad)
        inside = region[y0:y1, x0:x1]
        ring = cv2.dilate(inside.astype(np.uint8), self._kernel).astype(bool) & ~inside
        if not ring.any():
            return False
        now, before = gray[y0:y1, x0:x1], self._long[y0:y1, x0:x1]
        stands_out_now = _colour_distance(now[inside], now[ring])
        stood_out_before = _colour_distance(before[inside], before[ring])
        if stood_out_before > stands_out_now * 1.5:
            return True
        outline = cv2.dilate(inside.astype(np.uint8), self._kernel[:3, :3]).astype(bool) & ~(
            cv2.erode(inside.astype(np.uint8), self._kernel[:3, :3]).astype(bool)
        )
        edges_now = _gradient(now.mean(axis=2))[outline].mean()
        edges_before = _gradient(before.mean(axis=2))[outline].mean()
        if edges_before > edges_now * 1.25:
            return True
        return self._shifted_background(gray, box)

    def _shifted_background(
        self, gray: NDArray[np.float32], box: tuple[int, int, int, int]
    ) -> bool:
        """Whether the region is the background moved by a few pixels (a camera nudged
        between recordings, a table bumped), not something new."""
        assert self._long is not None
        x, y, w, h = box
        shift = 12
        patch = gray[y : y + h, x : x + w]
        if patch.shape[0] < 3 or patch.shape[1] < 3 or float(patch.std()) < 4.0:
            return False
        y0, x0 = max(0, y - shift), max(0, x - shift)
        window = self._long[y0 : y + h + shift, x0 : x + w + shift]
        if window.shape[0] < patch.shape[0] or window.shape[1] < patch.shape[1]:
            return False
        score = cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED)
        return bool(float(score.max()) > 0.8)

    def mark_unknown(self, boxes: Sequence[Sequence[float]], scale: float) -> None:
        """Say that the background behind ``boxes`` (analysed pixels) is not known yet.

        Called on a fresh model with the people and vehicles in view: the first frame shows
        them, not the scene behind them, and a model that took them for background would
        later report the table leg they hid as a left object.
        """
        if self._long is None:
            return
        mask = self._boxes_mask(boxes, scale, self._long.shape)
        if mask.any():
            self._unknown = mask if self._unknown is None else self._unknown | mask

    @staticmethod
    def _boxes_mask(
        boxes: Sequence[Sequence[float]], scale: float, shape: tuple[int, ...]
    ) -> NDArray[np.bool_]:
        mask = np.zeros(shape[:2], bool)
        for x1, y1, x2, y2 in boxes:
            mask[
                max(0, int(y1 * scale) - 2) : int(y2 * scale) + 3,
                max(0, int(x1 * scale) - 2) : int(x2 * scale) + 3,
            ] = True
        return mask

    def forget(self, blob: StaticBlob) -> None:
        """Learn a blob into both models (an operator dismissed it, or it was explained)."""
        if self._long is None or self._short is None or self._evidence is None:
            return
        region = np.s_[blob.y : blob.y + blob.h, blob.x : blob.x + blob.w]
        self._long[region] = self._short[region]
        self._evidence[region] = 0


def _gradient(image: NDArray[np.float32]) -> NDArray[np.float32]:
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    magnitude: NDArray[np.float32] = np.asarray(cv2.magnitude(gx, gy), np.float32)
    return magnitude


def _largest_channel(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-pixel maximum over the three channels (much faster than ``max(axis=2)``)."""
    largest: NDArray[np.float32] = np.maximum(
        np.maximum(image[:, :, 0], image[:, :, 1]), image[:, :, 2]
    )
    return largest


def _colour_distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Distance between the median colours of two sets of pixels (n, 3)."""
    return float(np.linalg.norm(np.median(a, axis=0) - np.median(b, axis=0)))
