"""Analysed frames/s per core of the camera pipeline on the real clips, beside decode-only.

For each clip in ``$KUPOL_DATA_ROOT/video`` (default ``../shared/data/video``), on ONE core
(the process pinned to one CPU; ONNX Runtime, OpenCV, OpenMP and OpenBLAS on one thread):

- decode only: every frame decoded and dropped (the reference), and ``read_frames`` at 5
  analysed fps and 640 px, which also converts the analysed frames to BGR (the ceiling: what
  the pipeline pays before any analysis);
- the full ``CameraPipeline`` (NanoDet-g, ``threads=1``) with motion gating on (the default)
  and off: analysed frames per CPU-second and the share of frames the detector ran on.

Every figure is CPU time (user + system, all threads) of the whole run, so decoding ALL frames
of the clip is included, as a live camera sends 10-30 frames/s that must all be decoded. The
cost of a camera is CPU seconds per second of video; cameras per core is its inverse.

Then N cameras (N = 2, 4, 8, 16) run at once on all cores, one thread and one pipeline each
(gated, the clips in turn, looped), sharing one detector, reading as fast as they can: the
aggregate analysed fps, and whether every camera processed ≥ 1 s of video (≥ 5 analysed frames)
per wall second. Target (vision issue): ≥ 16 cameras at 5 analysed fps on a 2-core machine.

    .venv/bin/python bench/vision.py [--seconds 15] [--cameras 2,4,8,16] [--only people]
"""

# ruff: noqa: E402 — the thread limits must be set before numpy and OpenCV load their pools.
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2

from kupol.vision.config import CameraAnalytics
from kupol.vision.detectors.base import Detector, NanoDetConfig
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.plugins import detector_for
from kupol.vision.sources import read_frames

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(ROOT.parent / "shared" / "data")))
CLIPS = (
    "abandoned-bag-aboda4.avi",
    "people-intel.mp4",
    "cars-intel.mp4",
    "highway-cdnet.avi",
    "street-bgslibrary.avi",
)
FPS = 5.0
WIDTH = 640
TARGET_CAMERAS = 16
DETECTOR = NanoDetConfig(threads=1)


@dataclass(frozen=True, kw_only=True)
class Clip:
    path: Path
    frames: int
    video_s: float
    size: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, kw_only=True)
class Run:
    """One pass over a clip: CPU and wall seconds, frames analysed, detector runs."""

    cpu_s: float
    wall_s: float
    analysed: int = 0
    detector_runs: int = 0


@dataclass(kw_only=True)
class Camera:
    """What one camera thread of the multi-camera run got done."""

    analysed: int = 0
    video_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def probe(path: Path) -> Clip:
    """Decode every frame once: the clip's frame count, length and size."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames, first, last = 0, None, 0.0
        for frame in container.decode(stream):
            frames += 1
            t = float(frame.time or 0.0)
            first = t if first is None else first
            last = t
        rate = float(stream.average_rate or 25)
        return Clip(
            path=path,
            frames=frames,
            video_s=last - (first or 0.0) + 1 / rate,
            size=f"{stream.width}x{stream.height}",
        )


def timed_raw_decode(clip: Clip) -> Run:
    """Every frame decoded and dropped, as ``read_frames`` decodes (FFmpeg's AUTO threads)."""
    cpu, wall = time.process_time(), time.perf_counter()
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return Run(cpu_s=time.process_time() - cpu, wall_s=time.perf_counter() - wall)


def timed_read_frames(clip: Clip) -> Run:
    """``read_frames`` at the analysis rate and width: decode all, convert the analysed."""
    cpu, wall = time.process_time(), time.perf_counter()
    analysed = sum(1 for _ in read_frames(str(clip.path), analysis_fps=FPS, width=WIDTH))
    return Run(
        cpu_s=time.process_time() - cpu, wall_s=time.perf_counter() - wall, analysed=analysed
    )


def analytics(*, gated: bool) -> CameraAnalytics:
    return CameraAnalytics.model_validate(
        {
            "analysis_fps": FPS,
            "width": WIDTH,
            "detector": DETECTOR.model_dump(),
            "motion": {"enabled": gated},
        }
    )


def timed_pipeline(clip: Clip, *, gated: bool, detector: Detector | None) -> Run:
    """The whole camera pipeline over the clip, decoding included."""
    cpu, wall = time.process_time(), time.perf_counter()
    pipeline = CameraPipeline(config=analytics(gated=gated), detector=detector)
    analysed = runs = 0
    last = None
    for frame in read_frames(str(clip.path), analysis_fps=FPS, width=WIDTH):
        result = pipeline.process(frame)
        analysed += 1
        runs += int(result.detector_ran)
        last = frame
    if last is not None:
        pipeline.finish(last.pts_s, last.source_index)
    return Run(
        cpu_s=time.process_time() - cpu,
        wall_s=time.perf_counter() - wall,
        analysed=analysed,
        detector_runs=runs,
    )


def run_cameras(
    count: int, *, clips: list[Clip], seconds: float, detector: Detector | None
) -> list[Camera]:
    """``count`` cameras at once, as fast as they go, for ``seconds`` of wall time."""
    stop = threading.Event()
    cameras = [Camera() for _ in range(count)]

    def play(camera: Camera, clip: Clip) -> None:
        done_s = 0.0  # video seconds of the loops already finished
        try:
            while not stop.is_set():
                pipeline = CameraPipeline(config=analytics(gated=True), detector=detector)
                first: float | None = None
                for frame in read_frames(
                    str(clip.path), analysis_fps=FPS, width=WIDTH, stop=stop.is_set
                ):
                    pipeline.process(frame)
                    first = frame.pts_s if first is None else first
                    camera.analysed += 1
                    camera.video_s = done_s + frame.pts_s - first + 1 / FPS
                done_s = camera.video_s
        except Exception as exc:  # reported with the figures, not hidden
            camera.errors.append(repr(exc))

    threads = [
        threading.Thread(target=play, args=(camera, clips[i % len(clips)]), daemon=True)
        for i, camera in enumerate(cameras)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return cameras


def clips_found(only: str | None) -> list[Clip]:
    folder = DATA_ROOT / "video"
    found = []
    for name in CLIPS:
        if only and only not in name:
            continue
        path = folder / name
        if not path.is_file():
            print(f"skipped {name}: not found in {folder}")
            continue
        found.append(probe(path))
    return found


def single_core(clips: list[Clip], detector: Detector | None) -> float:
    """Per-clip figures on one core; returns the cameras all cores would take (gated, all clips)."""
    print(
        f"\n1. One core: CPU seconds per second of video at {FPS:g} analysed fps, {WIDTH} px\n"
        f"{'':<25} {'':>8} {'':>5} │ {'decode':>6} {'read_frames':>13} │"
        f" {'pipeline, motion-gated':<29} │ {'pipeline, ungated':<24}\n"
        f"{'clip':<25} {'size':>8} {'fps':>5} │ {'fps':>6} {'an.fps':>6} {'cpu/s':>6} │"
        f" {'cpu/s':>6} {'det%':>5} {'an.fps':>6} {'cam/core':>8} │"
        f" {'cpu/s':>7} {'an.fps':>6} {'cam/core':>8}"
    )
    totals = {"video": 0.0, "gated": 0.0, "ungated": 0.0, "g_frames": 0, "u_frames": 0}
    for clip in clips:
        raw = timed_raw_decode(clip)
        ceiling = timed_read_frames(clip)
        gated = timed_pipeline(clip, gated=True, detector=detector)
        ungated = timed_pipeline(clip, gated=False, detector=detector)
        per_s = {k: r.cpu_s / clip.video_s for k, r in (("g", gated), ("u", ungated))}
        totals["video"] += clip.video_s
        totals["gated"] += gated.cpu_s
        totals["ungated"] += ungated.cpu_s
        totals["g_frames"] += gated.analysed
        totals["u_frames"] += ungated.analysed
        print(
            f"{clip.name:<25} {clip.size:>8} {clip.frames / clip.video_s:>5.1f} │"
            f" {clip.frames / raw.cpu_s:>6.0f} {ceiling.analysed / ceiling.cpu_s:>6.0f}"
            f" {ceiling.cpu_s / clip.video_s:>6.3f} │"
            f" {per_s['g']:>6.3f} {gated.detector_runs / max(1, gated.analysed):>5.0%}"
            f" {gated.analysed / gated.cpu_s:>6.1f} {1 / per_s['g']:>8.1f} │"
            f" {per_s['u']:>7.3f} {ungated.analysed / ungated.cpu_s:>6.1f}"
            f" {1 / per_s['u']:>8.1f}",
            flush=True,
        )
    gated_per_s = totals["gated"] / totals["video"]
    ungated_per_s = totals["ungated"] / totals["video"]
    print(
        f"{'all clips (by video time)':<25} {'':>8} {'':>5} │ {'':>6} {'':>6} {'':>6} │"
        f" {gated_per_s:>6.3f} {'':>5} {totals['g_frames'] / totals['gated']:>6.1f}"
        f" {1 / gated_per_s:>8.1f} │ {ungated_per_s:>7.3f}"
        f" {totals['u_frames'] / totals['ungated']:>6.1f} {1 / ungated_per_s:>8.1f}"
    )
    print(
        "fps: the clip's own frame rate · decode fps: every frame decoded, per CPU-second\n"
        "an.fps: analysed frames per CPU-second (read_frames: decode all, convert the analysed"
        " — the ceiling)\n"
        "cpu/s: CPU seconds per second of video, decoding of every frame included ·"
        " det%: analysed frames the detector ran on · cam/core: 1 / cpu/s"
    )
    cores = os.cpu_count() or 1
    print(
        f"→ gated: {1 / gated_per_s:.1f} cameras per core, {cores / gated_per_s:.1f} on"
        f" {cores} cores (ungated {cores / ungated_per_s:.1f}); target {TARGET_CAMERAS}"
    )
    return cores / gated_per_s


def multi_camera(
    clips: list[Clip], counts: list[int], seconds: float, detector: Detector | None
) -> dict[int, bool]:
    print(
        f"\n2. N cameras at once on {os.cpu_count()} cores, gated, {seconds:g} s each,"
        f" as fast as they go\n"
        f"{'cameras':>7} {'cores busy':>10} {'analysed fps':>12} {'per busy core':>13}"
        f" {'video s/wall s':>14}"
        f" {'slowest camera':>14} {'cameras ≥ 1×':>12}"
    )
    met = {}
    for count in counts:
        started, cpu = time.perf_counter(), time.process_time()
        cameras = run_cameras(count, clips=clips, seconds=seconds, detector=detector)
        wall = time.perf_counter() - started
        busy = (time.process_time() - cpu) / wall
        rates = [c.video_s / wall for c in cameras]
        errors = [e for c in cameras for e in c.errors]
        analysed = sum(c.analysed for c in cameras)
        met[count] = min(rates) >= 1.0
        print(
            f"{count:>7} {busy:>10.2f} {analysed / wall:>12.1f} {analysed / wall / busy:>13.1f}"
            f" {sum(rates):>14.1f} {min(rates):>13.2f}×"
            f" {sum(r >= 1.0 for r in rates):>8}/{count:<3}"
            + (f"  errors: {errors[:2]}" if errors else ""),
            flush=True,
        )
    print(
        "cores busy: the process's CPU seconds per wall second (below the core count: other"
        " programs had the rest)\nvideo s/wall s: all cameras together · slowest camera: its"
        " video seconds per wall second (≥ 1× keeps up with a live camera)"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per multi-camera run")
    parser.add_argument("--cameras", default="2,4,8,16", help="camera counts to run at once")
    parser.add_argument("--only", help="clips whose name contains this")
    parser.add_argument("--skip-multi", action="store_true", help="one-core figures only")
    parser.add_argument(
        "--precision", choices=["float", "int8"], default="float", help="NanoDet model variant"
    )
    args = parser.parse_args()
    global DETECTOR
    DETECTOR = NanoDetConfig(threads=1, precision=args.precision)
    cv2.setNumThreads(1)
    clips = clips_found(args.only)
    if not clips:
        raise SystemExit(f"no clips in {DATA_ROOT / 'video'} (set KUPOL_DATA_ROOT)")
    print(
        f"vision benchmark: {len(clips)} clips, {FPS:g} analysed fps, {WIDTH} px, NanoDet-g"
        f" ({DETECTOR.precision}) threads=1, {os.cpu_count()} cores, load average"
        f" {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    detector = detector_for(DETECTOR)
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})  # decoder threads started now inherit it
    try:
        cameras_2_cores = single_core(clips, detector)
    finally:
        os.sched_setaffinity(0, everything)
    met: dict[int, bool] = {}
    if not args.skip_multi:
        counts = [int(n) for n in args.cameras.split(",")]
        met = multi_camera(clips, counts, args.seconds, detector)
    print(
        f"\ntarget: {TARGET_CAMERAS} cameras × {FPS:g} analysed fps on this machine —"
        f" from CPU cost {cameras_2_cores:.1f} cameras"
        f" ({'met' if cameras_2_cores >= TARGET_CAMERAS else 'NOT met'})"
        + (
            f"; {TARGET_CAMERAS} at once: "
            + ("every camera kept up (met)" if met[TARGET_CAMERAS] else "NOT met")
            if TARGET_CAMERAS in met
            else ""
        )
        + f"; load average now {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
