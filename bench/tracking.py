"""Tracking accuracy and speed of kupol's ByteTracker on the scripted scenarios.

Each scenario's truth goes through a simulated detector (box jitter, 10 % misses, low scores
when half hidden, spurious boxes; seeded), and the same detections go to every tracker.
Prints MOTA, IDF1, ID switches, false positives and milliseconds per frame (tracker only),
with the ByteTrack of ``supervision`` (≤ 0.26) and of ``trackers`` beside it when they are
importable (e.g. ``PYTHONPATH=src /tmp/svenv/bin/python bench/tracking.py``). The baselines
get the same thresholds: high score 0.5, two frames to confirm, 2 s lost buffer.

    .venv/bin/python bench/tracking.py [--seeds 10] [--miss-rate 0.1] [--only crowd]

Measured (all five scenarios, 10 seeds each, 2-core machine; ms/frame varies ±30 % with load):

    tracker                      MOTA   IDF1  IDsw  FP   ms/frame
    kupol ByteTracker            0.839  0.906    11   0  0.23-0.30
    supervision 0.26.1 ByteTrack 0.786  0.858    69   0  0.45-0.55
    trackers 2.6.1 ByteTrack     0.839  0.905    16  16  0.20-0.27
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kupol.vision.detections import Detections
from kupol.vision.metrics import MotMetrics, evaluate
from kupol.vision.scenario import SCENARIOS, SimulatedDetector, render
from kupol.vision.tracking import ByteTracker

Step = Callable[[Detections, float], Detections]


@dataclass(frozen=True, kw_only=True)
class Run:
    metrics: MotMetrics
    ms_per_frame: float


def kupol_tracker(fps: float) -> Step:
    tracker = ByteTracker(fps=fps)
    frame = iter(range(1 << 30))
    return lambda dets, pts: tracker.update(dets, frame_index=next(frame), pts_s=pts)


def supervision_tracker(fps: float) -> Step | None:
    try:
        sv = importlib.import_module("supervision")
    except ImportError:
        return None
    if not hasattr(sv, "ByteTrack"):  # moved to the ``trackers`` package in 0.27
        return None
    tracker = sv.ByteTrack(
        track_activation_threshold=0.5,
        lost_track_buffer=60,  # in 30 fps frames: 2 s
        frame_rate=round(fps),
        minimum_consecutive_frames=2,
    )

    def step(dets: Detections, pts: float) -> Detections:
        out = tracker.update_with_detections(
            sv.Detections(xyxy=dets.xyxy, confidence=dets.confidence, class_id=dets.class_id)
        )
        return _from_sv(out)

    return step


def trackers_tracker(fps: float) -> Step | None:
    try:
        sv = importlib.import_module("supervision")
        tracker_class = importlib.import_module("trackers").ByteTrackTracker
    except ImportError:
        return None
    tracker = tracker_class(
        lost_track_buffer=60,
        frame_rate=fps,
        track_activation_threshold=0.5,
        high_conf_det_threshold=0.5,
        minimum_consecutive_frames=2,
    )

    def step(dets: Detections, pts: float) -> Detections:
        out = tracker.update(
            sv.Detections(xyxy=dets.xyxy, confidence=dets.confidence, class_id=dets.class_id),
            timestamp=pts,
        )
        out = out[out.tracker_id >= 0]
        return _from_sv(out)

    return step


def _from_sv(out: Any) -> Detections:
    """kupol's Detections from a ``supervision.Detections``."""
    xyxy = np.asarray(out.xyxy, np.float32).reshape(-1, 4)
    if not len(xyxy):
        return Detections.empty()
    return Detections(
        xyxy=xyxy,
        confidence=np.asarray(out.confidence, np.float32),
        class_id=np.asarray(out.class_id, np.int32),
        tracker_id=np.asarray(out.tracker_id, np.int64),
    )


TRACKERS: dict[str, Callable[[float], Step | None]] = {
    "kupol": kupol_tracker,
    "supervision": supervision_tracker,
    "trackers": trackers_tracker,
}


def run(
    make: Callable[[float], Step | None],
    fps: float,
    inputs: list[Detections],
    truth: list[Detections],
    times: list[float],
) -> Run | None:
    step = make(fps)
    if step is None:
        return None
    outputs = []
    started = time.perf_counter()
    for dets, pts in zip(inputs, times, strict=True):
        outputs.append(step(dets, pts))
    elapsed = time.perf_counter() - started
    return Run(metrics=evaluate(truth, outputs), ms_per_frame=1000 * elapsed / len(inputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--miss-rate", type=float, default=0.1)
    parser.add_argument("--only", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()

    print(
        f"{'scenario':14} {'tracker':12} {'MOTA':>6} {'IDF1':>6} {'IDsw':>5} {'FP':>4} "
        f"{'FN':>5} {'frag':>5} {'ms/frame':>9}   (means over {args.seeds} seeds; sums)"
    )
    totals: dict[str, list[Run]] = {name: [] for name in TRACKERS}
    for scenario_name in args.only:
        scenario = SCENARIOS[scenario_name]()
        frames = list(render(scenario, images=False))
        truth = [f.detections() for f in frames]
        times = [f.pts_s for f in frames]
        for name, make in TRACKERS.items():
            runs = []
            for seed in range(args.seeds):
                sim = SimulatedDetector(
                    width=scenario.width,
                    height=scenario.height,
                    seed=seed,
                    miss_rate=args.miss_rate,
                )
                inputs = [sim.detect(f) for f in frames]
                result = run(make, scenario.fps, inputs, truth, times)
                if result is None:
                    break
                runs.append(result)
            if not runs:
                continue
            totals[name] += runs
            print(f"{scenario_name:14} {name:12} {line(runs)}")
    for name, runs in totals.items():
        print(f"{'all':14} {name:12} {line(runs) if runs else '(not importable)'}")


def line(runs: list[Run]) -> str:
    m = [r.metrics for r in runs]
    return (
        f"{np.mean([x.mota for x in m]):6.3f} {np.mean([x.idf1 for x in m]):6.3f} "
        f"{sum(x.id_switches for x in m):5d} {sum(x.false_positives for x in m):4d} "
        f"{sum(x.misses for x in m):5d} {sum(x.fragmentations for x in m):5d} "
        f"{np.mean([r.ms_per_frame for r in runs]):9.3f}"
    )


if __name__ == "__main__":
    main()
