"""Multi-object tracking: ByteTrack (Zhang et al., 2022) over a constant-velocity Kalman filter.

Each frame's detections are split by confidence. High-score detections are matched first
(Hungarian on IoU) to every confirmed track, tracked or lost; low-score ones then rescue the
confirmed tracks still unmatched (an occluded person scores low but is still there). Unlike
the paper, lost tracks may be rescued too, as Roboflow's ``trackers`` does (on the scripted
scenarios MOTA rose from 0.832 to 0.839, see ``bench/tracking.py``). Tentative tracks need
``min_hits`` consecutive matches before they are confirmed and given an id, so a one-frame
false positive never becomes a track. Matching is class-aware: a person's track
never takes a car's detection.

Time is video seconds (``pts_s``), not frame counts, so variable frame rates and skipped
frames work:

* not calling the tracker for some frames (the detector ran at a lower rate): the next
  :meth:`ByteTracker.update` predicts over the whole gap and the gap counts as unseen time;
* :meth:`ByteTracker.coast` (motion gating judged the frame still, the detector did not run):
  time passes but nothing moves, tracked tracks are vouched for (they cannot be lost or
  ended), tentative tracks wait, and lost tracks keep ageing and may end.

A track that goes unseen for more than ``lost_seconds`` ends. Boxes returned by
:meth:`ByteTracker.update` are the detector's boxes (not Kalman-smoothed); the filter only
predicts where to look.

Example:
    >>> import numpy as np
    >>> from kupol.vision.detections import PERSON, Detections
    >>> tracker = ByteTracker(fps=10)
    >>> for i in range(3):
    ...     seen = Detections(
    ...         xyxy=np.array([[10 + 5 * i, 10, 50 + 5 * i, 120]], np.float32),
    ...         confidence=np.array([0.9], np.float32),
    ...         class_id=np.array([PERSON], np.int32),
    ...     )
    ...     tracked = tracker.update(seen, frame_index=i, pts_s=i / 10)
    >>> tracked.tracker_id.tolist()
    [1]
    >>> [e.kind for e in tracker.drain_events()]
    ['start']
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from kupol.vision.detections import Detections, box_iou
from kupol.vision.kalman import FloatArray, kalman_initiate, kalman_predict, kalman_update, to_xywh

Box = tuple[float, float, float, float]

_LOW_MATCH_IOU = 0.5  # ByteTrack's fixed threshold for the low-score stage
_PATH_STEP_S = 0.5  # decimation of the path kept for the end event
_PATH_MAX = 512
_EPS = 1e-9


@dataclass(frozen=True, kw_only=True)
class TrackPoint:
    """Where a track stood (its anchor: the bottom centre of its box, pixels) at a time."""

    pts_s: float
    x: float
    y: float


@dataclass(frozen=True, kw_only=True)
class TrackEvent:
    """A lifecycle event: ``start`` when confirmed, ``update`` now and then, ``end`` when gone.

    ``box`` and ``confidence`` are the last detection matched. ``path`` (end events only) is
    the track's anchor every ~0.5 s (coarser for very long tracks).
    """

    kind: Literal["start", "update", "end"]
    track_id: int
    class_id: int
    frame_index: int
    pts_s: float
    box: Box
    confidence: float
    first_pts_s: float
    last_pts_s: float
    path: tuple[TrackPoint, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Track:
    """A snapshot of one confirmed track.

    Attributes:
        state: ``tracked`` if matched at the last update, else ``lost``.
        box: the last detection box matched.
        history: recent anchors (bottom centres), oldest first.
    """

    track_id: int
    class_id: int
    state: Literal["tracked", "lost"]
    box: Box
    confidence: float
    first_seen_s: float
    last_seen_s: float
    history: tuple[TrackPoint, ...]

    @property
    def anchor(self) -> TrackPoint:
        """The last anchor seen."""
        return self.history[-1]

    def position_at(self, pts_s: float) -> TrackPoint | None:
        """The anchor at ``pts_s``, interpolated; None outside the kept history.

        Example:
            >>> t = Track(track_id=1, class_id=0, state="tracked", box=(0, 0, 2, 2),
            ...     confidence=0.9, first_seen_s=0, last_seen_s=1, history=(
            ...     TrackPoint(pts_s=0, x=0, y=0), TrackPoint(pts_s=1, x=10, y=0)))
            >>> t.position_at(0.5).x
            5.0
        """
        points = self.history
        if not points or not points[0].pts_s - _EPS <= pts_s <= points[-1].pts_s + _EPS:
            return None
        for before, after in itertools.pairwise(points):
            if before.pts_s <= pts_s <= after.pts_s:
                span = after.pts_s - before.pts_s
                f = (pts_s - before.pts_s) / span if span > 0 else 1.0
                return TrackPoint(
                    pts_s=pts_s,
                    x=before.x + f * (after.x - before.x),
                    y=before.y + f * (after.y - before.y),
                )
        return points[-1] if pts_s >= points[-1].pts_s else points[0]

    def distance_to(self, x: float, y: float) -> float:
        """Pixels from the last anchor to the point ``(x, y)``."""
        return math.hypot(self.anchor.x - x, self.anchor.y - y)


class _Track:
    """Mutable tracker-internal state of one track (tentative or confirmed)."""

    def __init__(
        self, *, class_id: int, box: FloatArray, confidence: float, pts_s: float, history: int
    ) -> None:
        self.track_id = 0  # given on confirmation
        self.class_id = class_id
        mean, cov = kalman_initiate(to_xywh(box[None, :]))
        self.mean: FloatArray = mean[0]
        self.cov: FloatArray = cov[0]
        self.hits = 1
        self.confirmed = False
        self.lost = False
        self.box = box
        self.confidence = confidence
        self.first_seen_s = pts_s
        self.last_seen_s = pts_s
        self.alive_s = pts_s  # last seen, or vouched for by coast()
        self.last_event_s = pts_s
        self.history: deque[TrackPoint] = deque(maxlen=history)
        self.path: list[TrackPoint] = []
        self.path_step_s = _PATH_STEP_S
        self.observe(box, confidence, pts_s)

    def observe(self, box: FloatArray, confidence: float, pts_s: float) -> None:
        self.box, self.confidence = box, confidence
        self.last_seen_s = self.alive_s = pts_s
        self.lost = False
        point = TrackPoint(pts_s=pts_s, x=float(box[0] + box[2]) / 2, y=float(box[3]))
        self.history.append(point)
        if not self.path or pts_s - self.path[-1].pts_s >= self.path_step_s - _EPS:
            self.path.append(point)
            if len(self.path) > _PATH_MAX:
                self.path = self.path[::2]
                self.path_step_s *= 2

    def predicted_box(self) -> FloatArray:
        cx, cy, w, h = self.mean[:4]
        w, h = max(w, 1.0), max(h, 1.0)
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def event(
        self, kind: Literal["start", "update", "end"], frame: int, pts_s: float
    ) -> TrackEvent:
        path: tuple[TrackPoint, ...] = ()
        if kind == "end":
            last = self.history[-1]
            path = tuple(self.path if self.path[-1] == last else [*self.path, last])
        return TrackEvent(
            kind=kind,
            track_id=self.track_id,
            class_id=self.class_id,
            frame_index=frame,
            pts_s=pts_s,
            box=(float(self.box[0]), float(self.box[1]), float(self.box[2]), float(self.box[3])),
            confidence=self.confidence,
            first_pts_s=self.first_seen_s,
            last_pts_s=self.last_seen_s,
            path=path,
        )

    def snapshot(self) -> Track:
        box = self.box
        return Track(
            track_id=self.track_id,
            class_id=self.class_id,
            state="lost" if self.lost else "tracked",
            box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
            confidence=self.confidence,
            first_seen_s=self.first_seen_s,
            last_seen_s=self.last_seen_s,
            history=tuple(self.history),
        )


class ByteTracker:
    """ByteTrack for one camera; ids start at 1 and increase in order of confirmation.

    Args:
        fps: the nominal analysis rate (the Kalman filter's time unit; :attr:`lost_frames`).
        high_threshold: detections at or above it are matched first and may start tracks.
        low_threshold: detections below it are ignored; between the two they only keep
            existing tracks alive (the second stage).
        match_iou: least IoU for a high-score match (ByteTrack's 0.8 distance = 0.2 IoU).
        max_jump: confirmed tracks left unmatched may still take a same-class detection of
            similar size whose centre is within this many box sizes of the prediction
            (0, the default: off). Helps fast traffic at low analysis rates; costs identity
            switches in crowds (see docs/vision.md).
        min_hits: consecutive matched updates before a track is confirmed.
        lost_seconds: how long a confirmed track may go unseen before it ends.
        update_every_s: least time between two ``update`` events of one track.
        new_track_threshold: least confidence to start a track (default: ``high_threshold``).
        history: anchors kept per track for :meth:`tracks`.
    """

    def __init__(
        self,
        *,
        fps: float,
        high_threshold: float = 0.5,
        low_threshold: float = 0.1,
        match_iou: float = 0.3,
        max_jump: float = 0.0,
        min_hits: int = 2,
        lost_seconds: float = 2.0,
        update_every_s: float = 1.0,
        new_track_threshold: float | None = None,
        history: int = 300,
    ) -> None:
        if fps <= 0 or min_hits < 1 or lost_seconds < 0 or not 0 <= low_threshold <= 1:
            raise ValueError("fps must be > 0, min_hits ≥ 1, lost_seconds ≥ 0, thresholds 0..1")
        self.fps = fps
        self.high_threshold = high_threshold
        self.low_threshold = min(low_threshold, high_threshold)
        self.match_iou = match_iou
        self.max_jump = max_jump
        self.min_hits = min_hits
        self.lost_seconds = lost_seconds
        self.update_every_s = update_every_s
        self.new_track_threshold = (
            high_threshold if new_track_threshold is None else new_track_threshold
        )
        self.history = history
        self._tracks: list[_Track] = []
        self._events: list[TrackEvent] = []
        self._clock: float | None = None  # the time the Kalman states are predicted to
        self._next_id = 1
        self._frame_index = 0

    @property
    def lost_frames(self) -> int:
        """``lost_seconds`` in frames at the nominal ``fps`` (for information)."""
        return round(self.lost_seconds * self.fps)

    @property
    def events(self) -> tuple[TrackEvent, ...]:
        """Events not yet drained."""
        return tuple(self._events)

    def drain_events(self) -> list[TrackEvent]:
        """The events since the last drain, oldest first."""
        events, self._events = self._events, []
        return events

    def tracks(self) -> list[Track]:
        """Snapshots of the confirmed tracks (tracked and lost), by id."""
        return [t.snapshot() for t in sorted(self._confirmed(), key=lambda t: t.track_id)]

    def track(self, track_id: int) -> Track | None:
        """A snapshot of one confirmed track, or None once it ended."""
        found = [t for t in self._confirmed() if t.track_id == track_id]
        return found[0].snapshot() if found else None

    def update(self, detections: Detections, *, frame_index: int, pts_s: float) -> Detections:
        """Match one frame's detections; return the confirmed tracks seen in it.

        The returned rows are the matched detections (their boxes and scores) with
        ``tracker_id`` set; tentative tracks and low-score leftovers are not returned.

        Example:
            >>> len(ByteTracker(fps=5).update(Detections.empty(), frame_index=0, pts_s=0.0))
            0
        """
        self._frame_index = frame_index
        self._predict(pts_s)
        dets = detections[detections.confidence >= self.low_threshold]
        boxes = dets.xyxy.astype(np.float64)
        high = np.flatnonzero(dets.confidence >= self.high_threshold)
        low = np.flatnonzero(dets.confidence < self.high_threshold)
        confirmed = self._confirmed()
        tentative = [t for t in self._tracks if not t.confirmed]

        pairs, left_tracks, left_high = _associate(confirmed, dets, high, self.match_iou)
        if self.max_jump > 0:
            # At a few analysed frames a second a fast car moves more than its own length:
            # no overlap with where the filter expected it, but near and of the same size.
            jumps, left_tracks, left_high = _associate_by_distance(
                left_tracks, dets, left_high, self.max_jump
            )
            pairs += jumps
        low_pairs, left_tracks, left_low = _associate(left_tracks, dets, low, _LOW_MATCH_IOU)
        tent_pairs, left_tentative, unmatched = _associate(
            tentative, dets, left_high, self.match_iou
        )
        if self.max_jump > 0:
            more, _, _ = _associate_by_distance(left_tracks, dets, left_low, self.max_jump)
            low_pairs += more
            more, _, unmatched = _associate_by_distance(
                left_tentative, dets, unmatched, self.max_jump
            )
            tent_pairs += more
        matches = pairs + low_pairs + tent_pairs

        if matches:
            means, covs = kalman_update(
                np.stack([t.mean for t, _ in matches]),
                np.stack([t.cov for t, _ in matches]),
                to_xywh(boxes[[i for _, i in matches]]),
            )
            for k, (track, i) in enumerate(matches):
                track.mean, track.cov = means[k], covs[k]
                self._matched(track, boxes[i], float(dets.confidence[i]), pts_s)
        matched = {id(t) for t, _ in matches}
        self._tracks = [t for t in self._tracks if t.confirmed or id(t) in matched]
        for track in self._confirmed():
            if id(track) not in matched:
                track.lost = True
        self._end_expired(pts_s)
        for i in unmatched:
            if dets.confidence[i] >= self.new_track_threshold:
                self._start(boxes[i], int(dets.class_id[i]), float(dets.confidence[i]), pts_s)

        seen = sorted((i, t.track_id) for t, i in matches if t.confirmed)
        rows = np.array([i for i, _ in seen], np.int64)
        return dets[rows].with_tracker_id(np.array([tid for _, tid in seen], np.int64))

    def coast(self, *, frame_index: int, pts_s: float) -> Detections:
        """A frame the detector skipped because nothing moved: time passes, nothing moves.

        Tracked tracks are vouched for (they cannot be lost or ended by the skipped time);
        lost tracks keep ageing and may end. Returns the tracked tracks with their last
        boxes, as :meth:`update` would if the detector had seen them again.
        """
        self._frame_index = frame_index
        self._clock = pts_s if self._clock is None else max(self._clock, pts_s)
        for track in self._tracks:
            if not track.lost:
                track.alive_s = max(track.alive_s, pts_s)
        self._end_expired(pts_s)
        alive = sorted((t for t in self._confirmed() if not t.lost), key=lambda t: t.track_id)
        if not alive:
            return Detections.empty()
        return Detections(
            xyxy=np.array([t.box for t in alive], np.float32),
            confidence=np.array([t.confidence for t in alive], np.float32),
            class_id=np.array([t.class_id for t in alive], np.int32),
            tracker_id=np.array([t.track_id for t in alive], np.int64),
        )

    def predict(self, *, frame_index: int, pts_s: float) -> Detections:
        """A frame the detector skipped on purpose (``detect_every``): every track moves by its
        Kalman prediction. Nothing is observed — no track is confirmed, vouched for or ended
        by it; the next detection matches against where the tracks are by then."""
        self._frame_index = frame_index
        self._predict(pts_s)
        alive = sorted((t for t in self._confirmed() if not t.lost), key=lambda t: t.track_id)
        if not alive:
            return Detections.empty()
        return Detections(
            xyxy=np.array([t.predicted_box() for t in alive], np.float32),
            confidence=np.array([t.confidence for t in alive], np.float32),
            class_id=np.array([t.class_id for t in alive], np.int32),
            tracker_id=np.array([t.track_id for t in alive], np.int64),
        )

    def finish(self, pts_s: float) -> list[TrackEvent]:
        """End every track (the end of a file); returns all undrained events, ends last."""
        for track in sorted(self._confirmed(), key=lambda t: t.track_id):
            self._events.append(track.event("end", self._frame_index, pts_s))
        self._tracks = []
        return self.drain_events()

    def _confirmed(self) -> list[_Track]:
        return [t for t in self._tracks if t.confirmed]

    def _predict(self, pts_s: float) -> None:
        dt = 0.0 if self._clock is None else max(0.0, pts_s - self._clock) * self.fps
        self._clock = pts_s if self._clock is None else max(self._clock, pts_s)
        if not self._tracks or dt <= 0:
            return
        for track in self._tracks:
            if track.lost:  # as ByteTrack: a lost box keeps its size
                track.mean[6:] = 0.0
        means, covs = kalman_predict(
            np.stack([t.mean for t in self._tracks]), np.stack([t.cov for t in self._tracks]), dt
        )
        for k, track in enumerate(self._tracks):
            track.mean, track.cov = means[k], covs[k]

    def _matched(self, track: _Track, box: FloatArray, confidence: float, pts_s: float) -> None:
        track.observe(box, confidence, pts_s)
        if not track.confirmed:
            track.hits += 1
            if track.hits >= self.min_hits:
                self._confirm(track, pts_s)
        elif pts_s - track.last_event_s >= self.update_every_s - _EPS:
            track.last_event_s = pts_s
            self._events.append(track.event("update", self._frame_index, pts_s))

    def _confirm(self, track: _Track, pts_s: float) -> None:
        track.confirmed = True
        track.track_id, self._next_id = self._next_id, self._next_id + 1
        track.last_event_s = pts_s
        self._events.append(track.event("start", self._frame_index, pts_s))

    def _start(self, box: FloatArray, class_id: int, confidence: float, pts_s: float) -> None:
        track = _Track(
            class_id=class_id, box=box, confidence=confidence, pts_s=pts_s, history=self.history
        )
        self._tracks.append(track)
        if self.min_hits <= 1:
            self._confirm(track, pts_s)

    def _end_expired(self, pts_s: float) -> None:
        kept: list[_Track] = []
        for track in self._tracks:
            if track.lost and pts_s - track.alive_s > self.lost_seconds + _EPS:
                self._events.append(track.event("end", self._frame_index, pts_s))
            else:
                kept.append(track)
        self._tracks = kept


def _associate(
    tracks: list[_Track], dets: Detections, rows: NDArray[np.int64], min_iou: float
) -> tuple[list[tuple[_Track, int]], list[_Track], NDArray[np.int64]]:
    """Hungarian matching on IoU, gated by class: (pairs, unmatched tracks, unmatched rows)."""
    if not tracks or not len(rows):
        return [], list(tracks), rows
    predicted = np.stack([t.predicted_box() for t in tracks]).astype(np.float32)
    iou = box_iou(predicted, dets.xyxy[rows])
    same_class = np.array([t.class_id for t in tracks])[:, None] == dets.class_id[rows][None, :]
    iou = np.where(same_class, iou, 0.0)
    cost = np.where(iou >= min_iou, 1.0 - iou, 1e6)
    ti, di = linear_sum_assignment(cost)
    ok = iou[ti, di] >= min_iou
    ti, di = ti[ok], di[ok]
    pairs = [(tracks[t], int(rows[d])) for t, d in zip(ti, di, strict=True)]
    left = [t for k, t in enumerate(tracks) if k not in set(ti.tolist())]
    return pairs, left, np.delete(rows, di)


def _associate_by_distance(
    tracks: list[_Track], dets: Detections, rows: NDArray[np.int64], max_jump: float
) -> tuple[list[tuple[_Track, int]], list[_Track], NDArray[np.int64]]:
    """Hungarian matching on centre distance in units of the predicted box's size, for
    same-class pairs of similar size (area ratio 0.5-2) within ``max_jump``."""
    if not tracks or not len(rows):
        return [], list(tracks), rows
    predicted = np.stack([t.predicted_box() for t in tracks]).astype(np.float64)
    boxes = dets.xyxy[rows].astype(np.float64)
    p_wh = np.clip(predicted[:, 2:] - predicted[:, :2], 1.0, None)
    d_wh = np.clip(boxes[:, 2:] - boxes[:, :2], 1.0, None)
    p_c = (predicted[:, :2] + predicted[:, 2:]) / 2
    d_c = (boxes[:, :2] + boxes[:, 2:]) / 2
    scale = np.sqrt(p_wh[:, 0] * p_wh[:, 1])[:, None]
    distance = np.linalg.norm(p_c[:, None, :] - d_c[None, :, :], axis=2) / scale
    ratio = (d_wh[None, :, 0] * d_wh[None, :, 1]) / (p_wh[:, None, 0] * p_wh[:, None, 1])
    same_class = np.array([t.class_id for t in tracks])[:, None] == dets.class_id[rows][None, :]
    ok = same_class & (distance <= max_jump) & (ratio >= 0.5) & (ratio <= 2.0)
    cost = np.where(ok, distance, 1e6)
    ti, di = linear_sum_assignment(cost)
    keep = ok[ti, di]
    ti, di = ti[keep], di[keep]
    pairs = [(tracks[t], int(rows[d])) for t, d in zip(ti, di, strict=True)]
    left = [t for k, t in enumerate(tracks) if k not in set(ti.tolist())]
    return pairs, left, np.delete(rows, di)
