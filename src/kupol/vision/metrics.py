"""Multi-object tracking accuracy: CLEAR-MOT (Bernardin & Stiefelhagen, 2008) and IDF1
(Ristani et al., 2016), as py-motmetrics computes them.

Both sides are :class:`~kupol.vision.detections.Detections` per frame: the truth carries its
object ids in ``tracker_id``, the tracker output its track ids. A truth box and a track box
match when their IoU is at least ``iou_threshold`` and (by default) their classes agree.

Example:
    >>> import numpy as np
    >>> from kupol.vision.detections import Detections
    >>> def one(track_id):
    ...     return Detections(xyxy=np.array([[0, 0, 10, 10]], np.float32),
    ...         confidence=np.ones(1, np.float32), class_id=np.zeros(1, np.int32),
    ...         tracker_id=np.array([track_id], np.int64))
    >>> m = evaluate([one(1), one(1), one(1), one(1)], [one(7), one(7), one(8), one(8)])
    >>> m.mota, m.id_switches, m.idf1
    (0.75, 1, 0.5)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from kupol.vision.detections import Detections, box_iou


@dataclass(frozen=True, kw_only=True)
class MotMetrics:
    """Tracking accuracy over a sequence.

    Attributes:
        frames: frames evaluated.
        truth_boxes: truth objects summed over frames (MOTA's denominator).
        truth_tracks: distinct truth ids.
        matches: truth boxes matched to a track box.
        false_positives: track boxes matched to no truth.
        misses: truth boxes matched to no track.
        id_switches: a truth object matched to a different track than last time.
        fragmentations: a truth object's tracking interrupted and later resumed.
        mostly_tracked: truth ids matched in at least 80 % of their frames.
        mostly_lost: truth ids matched in at most 20 % of their frames.
        mota: 1 - (misses + false positives + switches) / truth boxes.
        motp: mean IoU of the matches.
        idf1: F1 of identity-preserving matches under the best one-to-one id mapping.
        id_map: that mapping, track id -> truth id.
    """

    frames: int
    truth_boxes: int
    truth_tracks: int
    matches: int
    false_positives: int
    misses: int
    id_switches: int
    fragmentations: int
    mostly_tracked: int
    mostly_lost: int
    mota: float
    motp: float
    idf1: float
    id_map: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and benchmarks."""
        return (
            f"MOTA {self.mota:.3f}  IDF1 {self.idf1:.3f}  MOTP {self.motp:.3f}  "
            f"IDsw {self.id_switches}  FP {self.false_positives}  FN {self.misses}  "
            f"frag {self.fragmentations}  MT {self.mostly_tracked}/{self.truth_tracks}"
        )


def evaluate(
    truth_frames: Sequence[Detections],
    tracked_frames: Sequence[Detections],
    *,
    iou_threshold: float = 0.5,
    class_aware: bool = True,
) -> MotMetrics:
    """CLEAR-MOT and IDF1 of ``tracked_frames`` against ``truth_frames`` (same length).

    Per frame, truth-track pairs matched in an earlier frame are kept while they still
    overlap; the rest are matched by Hungarian assignment on IoU.
    """
    if len(truth_frames) != len(tracked_frames):
        raise ValueError("truth and tracked sequences must have the same number of frames")
    last: dict[int, int] = {}  # truth id -> track id it was last matched to
    matched_flags: dict[int, list[bool]] = defaultdict(list)
    pair_frames: dict[tuple[int, int], int] = defaultdict(int)  # for IDF1
    truth_total = tracked_total = matches = switches = 0
    iou_sum = 0.0
    for truth, tracked in zip(truth_frames, tracked_frames, strict=True):
        iou = _overlaps(truth, tracked, class_aware)
        truth_ids, track_ids = truth.tracker_id.tolist(), tracked.tracker_id.tolist()
        truth_total += len(truth_ids)
        tracked_total += len(track_ids)
        good = iou >= iou_threshold
        for gi, ti in zip(*np.nonzero(good), strict=True):
            pair_frames[(truth_ids[gi], track_ids[ti])] += 1

        pairs = _keep_previous(truth_ids, track_ids, good, last)
        free_g = [g for g in range(len(truth_ids)) if g not in pairs]
        free_t = [t for t in range(len(track_ids)) if t not in pairs.values()]
        if free_g and free_t:
            sub = iou[np.ix_(free_g, free_t)]
            rows, cols = linear_sum_assignment(np.where(sub >= iou_threshold, 1 - sub, 1e6))
            for r, c in zip(rows, cols, strict=True):
                if sub[r, c] >= iou_threshold:
                    g, t = free_g[r], free_t[c]
                    pairs[g] = t
                    previous = last.get(truth_ids[g])
                    switches += previous is not None and previous != track_ids[t]

        for g, truth_id in enumerate(truth_ids):
            matched_flags[truth_id].append(g in pairs)
        for g, t in pairs.items():
            last[truth_ids[g]] = track_ids[t]
            iou_sum += float(iou[g, t])
        matches += len(pairs)

    misses, false_positives = truth_total - matches, tracked_total - matches
    ratios = [sum(flags) / len(flags) for flags in matched_flags.values()]
    idtp, id_map = _identity_matches(pair_frames)
    return MotMetrics(
        frames=len(truth_frames),
        truth_boxes=truth_total,
        truth_tracks=len(matched_flags),
        matches=matches,
        false_positives=false_positives,
        misses=misses,
        id_switches=switches,
        fragmentations=sum(_fragments(flags) for flags in matched_flags.values()),
        mostly_tracked=sum(r >= 0.8 for r in ratios),
        mostly_lost=sum(r <= 0.2 for r in ratios),
        mota=1.0 - (misses + false_positives + switches) / max(truth_total, 1),
        motp=iou_sum / matches if matches else 0.0,
        idf1=2 * idtp / (truth_total + tracked_total) if truth_total + tracked_total else 1.0,
        id_map=id_map,
    )


def _overlaps(truth: Detections, tracked: Detections, class_aware: bool) -> NDArray[np.float32]:
    iou = box_iou(truth.xyxy, tracked.xyxy)
    if class_aware and iou.size:
        iou = np.where(truth.class_id[:, None] == tracked.class_id[None, :], iou, 0.0)
    return iou


def _keep_previous(
    truth_ids: list[int], track_ids: list[int], good: NDArray[np.bool_], last: dict[int, int]
) -> dict[int, int]:
    """Truth row -> track row for correspondences that continue from earlier frames."""
    row_of_track = {track_id: t for t, track_id in enumerate(track_ids)}
    pairs: dict[int, int] = {}
    for g, truth_id in enumerate(truth_ids):
        t = row_of_track.get(last.get(truth_id, -(10**9)), -1)
        if t >= 0 and good[g, t] and t not in pairs.values():
            pairs[g] = t
    return pairs


def _fragments(flags: list[bool]) -> int:
    """Interruptions of tracking that are later resumed (a late first match is not one)."""
    count, seen, before = 0, False, False
    for now in flags:
        count += now and not before and seen
        seen, before = seen or now, now
    return count


def _identity_matches(pair_frames: dict[tuple[int, int], int]) -> tuple[int, dict[int, int]]:
    """The one-to-one truth/track id mapping with most co-matched frames (IDTP) and its map."""
    if not pair_frames:
        return 0, {}
    truth_ids = sorted({g for g, _ in pair_frames})
    track_ids = sorted({t for _, t in pair_frames})
    counts = np.zeros((len(truth_ids), len(track_ids)))
    for (g, t), n in pair_frames.items():
        counts[truth_ids.index(g), track_ids.index(t)] = n
    rows, cols = linear_sum_assignment(-counts)
    kept = [(r, c) for r, c in zip(rows, cols, strict=True) if counts[r, c] > 0]
    idtp = int(sum(counts[r, c] for r, c in kept))
    return idtp, {track_ids[c]: truth_ids[r] for r, c in kept}
