"""Abandoned objects: something set down that stays after the person who brought it has left.

Static-foreground blobs (:mod:`kupol.vision.background`) say *what* stayed, even a bag too
small for the detector; the person tracks say *who* was beside it when it appeared and
whether they are still near. An object is reported once, when it has stayed ``min_static_s``
and its owner has been away (farther than ``owner_distance`` of their own heights, or out of
sight) for ``unattended_s``. Blobs covered by a person or vehicle the detector sees now are
people standing still or parked cars, not objects.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from kupol.vision.background import StaticBlob
from kupol.vision.detections import BAGS, PERSON, VEHICLES, Detections, box_iou, class_name

Point = tuple[float, float]


class AbandonedConfig(BaseModel):
    """When a static object counts as abandoned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Look for abandoned objects on this camera.")
    min_static_s: float = Field(
        10.0, ge=1, le=3600, description="How long the object must stay where it was left."
    )
    unattended_s: float = Field(
        3.0, ge=0, le=3600, description="How long its owner must be away before the alert."
    )
    owner_distance: float = Field(
        1.5,
        gt=0,
        le=20,
        description="Away means farther than this many of the owner's own heights.",
    )
    min_area: float = Field(
        0.0003, gt=0, lt=1, description="Smallest object, as a fraction of the image."
    )
    max_area: float = Field(
        0.03, gt=0, le=1, description="Largest object, as a fraction of the image."
    )
    report_unowned: bool = Field(
        False,
        description=(
            "Also report static objects nobody was seen bringing (after min_static_s plus "
            "unattended_s); off by default: parked cars and shadows are static too."
        ),
    )
    owner_window_s: float = Field(
        30.0, gt=0, le=600, description="How far back to look for who brought the object."
    )


@dataclass(frozen=True, kw_only=True)
class OwnerSighting:
    """Where a person track was at one moment (analysed-image pixels)."""

    pts_s: float
    track_id: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True, kw_only=True)
class AbandonedObject:
    """An abandoned object, reported once."""

    box: tuple[float, float, float, float]
    """Where the object is, analysed-image pixels."""
    object_class: str
    confidence: float
    appeared_s: float
    static_s: float
    owner_track_id: int | None
    owner_path: tuple[tuple[float, float, float], ...]
    """(pts_s, x, y) of the owner's feet, from before the drop to the last sighting."""
    owner_left_s: float | None


@dataclass(kw_only=True)
class _Candidate:
    box: tuple[float, float, float, float]
    first_seen_s: float
    appeared_s: float
    last_seen_s: float
    owner: int | None = None
    owner_looked_for: bool = False
    away_since_s: float | None = None
    reported: bool = False
    seen_frames: int = 0


@dataclass(kw_only=True)
class AbandonedObjectRule:
    """Turns static blobs and person tracks into abandoned-object reports.

    Example:
        >>> rule = AbandonedObjectRule(config=AbandonedConfig(), width=640, height=360)
        >>> rule.update(pts_s=0.0, blobs=(), scale=0.5, tracked=Detections.empty())
        []
    """

    config: AbandonedConfig
    width: int
    height: int
    _people: deque[OwnerSighting] = field(default_factory=deque)
    _candidates: list[_Candidate] = field(default_factory=list)

    def update(
        self,
        *,
        pts_s: float,
        blobs: tuple[StaticBlob, ...],
        scale: float,
        tracked: Detections,
        detected: Detections | None = None,
    ) -> list[AbandonedObject]:
        """Feed one frame's static blobs (model pixels, ``scale`` model/analysed) and tracks.

        ``detected``: this frame's raw detections, if the detector ran: someone just walking
        in is not tracked yet, but a static blob under them is still not a left object.
        """
        self._remember_people(pts_s, tracked)
        frame_area = float(self.width * self.height)
        seen = tracked if detected is None else Detections.merge([tracked, detected])
        explained = seen[np.isin(seen.class_id, [PERSON, *VEHICLES]) & (seen.confidence >= 0.3)]
        matched: set[int] = set()
        for blob in blobs:
            box = (
                blob.x / scale,
                blob.y / scale,
                (blob.x + blob.w) / scale,
                (blob.y + blob.h) / scale,
            )
            area = (box[2] - box[0]) * (box[3] - box[1]) / frame_area
            if not self.config.min_area <= area <= self.config.max_area:
                continue
            if self._covered(box, explained):
                continue
            candidate = self._match(box, pts_s, blob.static_s)
            candidate.last_seen_s = pts_s
            candidate.seen_frames += 1
            matched.add(id(candidate))
        # A candidate not seen for a while was taken away or learnt into the background.
        self._candidates = [
            c for c in self._candidates if id(c) in matched or pts_s - c.last_seen_s < 5.0
        ]
        return [r for c in self._candidates if (r := self._judge(c, pts_s, tracked)) is not None]

    def _remember_people(self, pts_s: float, tracked: Detections) -> None:
        people = tracked[(tracked.class_id == PERSON) & (tracked.tracker_id >= 0)]
        for box, track_id in zip(people.xyxy, people.tracker_id, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            self._people.append(
                OwnerSighting(pts_s=pts_s, track_id=int(track_id), box=(x1, y1, x2, y2))
            )
        horizon = pts_s - self.config.owner_window_s - self.config.min_static_s - 60.0
        while self._people and self._people[0].pts_s < horizon:
            self._people.popleft()

    @staticmethod
    def _covered(box: tuple[float, float, float, float], explained: Detections) -> bool:
        if not len(explained):
            return False
        b = np.array([box], np.float32)
        # Shadows and loose clothes reach a little past the detector's box.
        wh = explained.xyxy[:, 2:] - explained.xyxy[:, :2]
        grown = np.concatenate(
            [explained.xyxy[:, :2] - wh * 0.1, explained.xyxy[:, 2:] + wh * 0.1], 1
        )
        tl = np.maximum(b[:, :2], grown[:, :2])
        br = np.minimum(b[:, 2:], grown[:, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=1)
        own = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
        return bool((inter / own > 0.5).any())

    def _match(
        self, box: tuple[float, float, float, float], pts_s: float, static_s: float
    ) -> _Candidate:
        if self._candidates:
            known = np.array([c.box for c in self._candidates], np.float32)
            overlap = _overlap_of_smaller(np.array(box, np.float32), known)
            best = int(overlap.argmax())
            # A blob grows as more of the object's pixels turn static: same object.
            if overlap[best] > 0.3:
                candidate = self._candidates[best]
                candidate.box = box
                return candidate
        # The object was set down about when its pixels began to count as static: the
        # short-term model needs a few seconds to absorb it, and evidence then builds up.
        candidate = _Candidate(
            box=box, first_seen_s=pts_s, appeared_s=pts_s - static_s, last_seen_s=pts_s
        )
        self._candidates.append(candidate)
        return candidate

    def _judge(
        self, candidate: _Candidate, pts_s: float, tracked: Detections
    ) -> AbandonedObject | None:
        if candidate.reported or pts_s - candidate.appeared_s < self.config.min_static_s:
            return None
        if not candidate.owner_looked_for:
            candidate.owner = self._owner_of(candidate)
            candidate.owner_looked_for = True
        if self._owner_near(candidate, pts_s):
            candidate.away_since_s = None
            return None
        if candidate.away_since_s is None:
            candidate.away_since_s = pts_s
        if pts_s - candidate.away_since_s < self.config.unattended_s:
            return None
        candidate.reported = True
        label, confidence = self._classify(candidate.box, tracked)
        return AbandonedObject(
            box=candidate.box,
            object_class=label,
            confidence=confidence,
            appeared_s=round(candidate.appeared_s, 2),
            static_s=round(pts_s - candidate.appeared_s, 2),
            owner_track_id=candidate.owner,
            owner_path=self._path_of(candidate.owner, since_s=candidate.appeared_s - 10.0),
            owner_left_s=(
                round(candidate.away_since_s, 2) if candidate.owner is not None else None
            ),
        )

    def _owner_of(self, candidate: _Candidate) -> int | None:
        """The person closest to the object around when it appeared."""
        cx = (candidate.box[0] + candidate.box[2]) / 2
        cy = (candidate.box[1] + candidate.box[3]) / 2
        best: tuple[float, int] | None = None
        start = candidate.appeared_s - self.config.owner_window_s
        for sighting in self._people:
            if not start <= sighting.pts_s <= candidate.first_seen_s:
                continue
            distance = _distance_in_heights(sighting.box, (cx, cy))
            if distance <= self.config.owner_distance and (best is None or distance < best[0]):
                best = (distance, sighting.track_id)
        return None if best is None else best[1]

    def _owner_near(self, candidate: _Candidate, pts_s: float) -> bool:
        if candidate.owner is None:
            # Nobody brought it: only worth reporting when asked for (and never "near").
            return not self.config.report_unowned
        last = next((s for s in reversed(self._people) if s.track_id == candidate.owner), None)
        if last is None or pts_s - last.pts_s > 2.0:
            return False  # out of sight: gone
        cx = (candidate.box[0] + candidate.box[2]) / 2
        cy = (candidate.box[1] + candidate.box[3]) / 2
        return _distance_in_heights(last.box, (cx, cy)) <= self.config.owner_distance

    def _path_of(
        self, track_id: int | None, *, since_s: float
    ) -> tuple[tuple[float, float, float], ...]:
        if track_id is None:
            return ()
        points = [
            (round(s.pts_s, 2), round((s.box[0] + s.box[2]) / 2, 1), round(s.box[3], 1))
            for s in self._people
            if s.track_id == track_id and s.pts_s >= since_s
        ]
        step = max(1, len(points) // 60)
        return tuple(points[::step])

    @staticmethod
    def _classify(box: tuple[float, float, float, float], tracked: Detections) -> tuple[str, float]:
        bags = tracked.of_classes(BAGS)
        if len(bags):
            overlap = box_iou(np.array([box], np.float32), bags.xyxy)[0]
            best = int(overlap.argmax())
            if overlap[best] > 0.1:
                return class_name(int(bags.class_id[best])), float(bags.confidence[best])
        return "object", 0.6


def _overlap_of_smaller(
    box: NDArray[np.float32], others: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Intersection of ``box`` with each of ``others`` over the smaller one's area."""
    tl = np.maximum(box[:2], others[:, :2])
    br = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=1)
    own = np.prod(np.clip(box[2:] - box[:2], 0, None))
    theirs = np.prod(np.clip(others[:, 2:] - others[:, :2], 0, None), axis=1)
    result: NDArray[np.float32] = (inter / np.maximum(np.minimum(own, theirs), 1e-6)).astype(
        np.float32
    )
    return result


def _distance_in_heights(person: tuple[float, float, float, float], point: Point) -> float:
    """Distance from a person's feet to ``point``, in multiples of the person's height."""
    feet = ((person[0] + person[2]) / 2, person[3])
    height = max(1.0, person[3] - person[1])
    return float(np.hypot(feet[0] - point[0], feet[1] - point[1]) / height)
