"""Traffic enforcement: the pipeline's cost on a 1280 × 720 stream beside plain decoding, how
many enforcement cameras at 10 analysed frames/s that makes on this machine, and a smart
crossing's activation latency from the frame to the broker's acknowledgement of the MQTT
command.

Enforcement pipeline, per camera: decode the H.264 stream (all frames), analyse 10 frames/s
at 640 px wide (detector, tracker), read plates on tracked vehicles on the full-resolution
frame, place road users on the calibrated road and run the rules (red light with the signal
read from the frame, failing to yield, spot speed, e-scooters), and write each violation's
evidence (three frames, the vehicle, a WebM clip). The stream is the simulated intersection
(kupol.traffic.simulation), which commits six violations in 50 s — a busy junction.

Detectors measured: NanoDet-g as shipped (float, 416 px input), its int8 model, the int8
model at a 320 px input — each alone (its real cost; it does not recognise the simulation's
drawn vehicles, so few rules run) — and the scripted detector (the simulation's truth: every
rule, plate read and evidence file, no detection cost). Then each NanoDet variant "+busy":
NanoDet runs on every analysed frame and its objects are dropped while the truth drives the
rules — a real camera's detection cost and a busy junction's rules in one run. All figures are
CPU time of the whole process (all threads), divided by the video's length: the share of one
core a camera needs.

Crossing latency: a pedestrian steps onto and off a crosswalk again and again (hold 0 s), the
stage decides on each 1280 × 720 frame and the MQTT device publishes QoS 1 to the local
Mosquitto and waits for its acknowledgement; latency is from the frame's hand-over to the
stage to that acknowledgement. Target: p95 ≤ 200 ms. Also measured while eight enforcement
cameras run on the machine.

    .venv/bin/python bench/traffic.py [--seconds 50] [--cameras 8] [--commands 200]
"""

# ruff: noqa: E402 — the thread limits must be set before numpy and OpenCV load their pools.
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np

from kupol.faces.files import FaceFiles
from kupol.plates.config import CameraPlatesConfig
from kupol.plates.domain import SharedReader
from kupol.plates.live import PlateStage, TrackedVehicle
from kupol.traffic.config import CameraTrafficConfig
from kupol.traffic.controller import SignalBoard
from kupol.traffic.live import RoadUser, TrafficStage
from kupol.traffic.simulation import (
    INTERSECTION,
    Actor,
    Scenario,
    Script,
    ScriptedDetector,
    camera_config,
    write_intersection_clip,
)
from kupol.traffic.warning_device import MqttWarningDevice
from kupol.vision.config import CameraAnalytics
from kupol.vision.detections import Detections, class_name
from kupol.vision.detectors.base import Detector
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.plugins import detector_for
from kupol.vision.sources import read_frames

FPS = 10.0
WIDTH = 640
DETECTORS: dict[str, dict[str, object]] = {
    "nanodet": {"type": "nanodet"},
    "int8": {"type": "nanodet", "precision": "int8"},
    "int8-320": {"type": "nanodet", "precision": "int8", "input_size": 320},
    "scripted": {"type": "scripted"},
}
"""NanoDet-g as shipped (float, 416 px input), its int8 model, the int8 model at a 320 px
input (the enforcement setting), and the simulation's truth."""
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Cost:
    cpu_s: float
    wall_s: float
    video_s: float
    violations: int = 0
    plates: int = 0

    @property
    def share(self) -> float:
        """CPU seconds per second of video: the share of one core a camera needs."""
        return self.cpu_s / self.video_s


def analytics(detector: str) -> CameraAnalytics:
    """The enforcement camera's analytics; a name ending in ``/2`` detects on every second
    frame (``detect_every = 2``), the tracker predicting between."""
    detector, _, every = detector.partition("/")
    traffic = camera_config(read_signal=True)
    if detector != "scripted":
        traffic["scooter_classes"] = []  # COCO has no e-scooter class
    return CameraAnalytics.model_validate(
        {
            "analysis_fps": FPS,
            "width": WIDTH,
            "detector": DETECTORS[detector],
            "motion": {"enabled": False},
            "detect_every": int(every or 1),
            "intrusion": {"enabled": False},
            "abandoned": {"enabled": False},
            "plates": {"enabled": True, "vehicle_classes": ["car"]},
            "traffic": traffic,
        }
    )


class DetectedAndScripted:
    """NanoDet runs on every analysed frame (its cost) and its objects are dropped; the
    simulation's truth drives the rest (the rules' cost on a busy junction): the two costs
    in one run, without NanoDet having to recognise drawn vehicles."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self._scripted = ScriptedDetector()
        self.names = self._scripted.names

    def detect(self, image: np.ndarray) -> Detections:
        raise NotImplementedError("needs the frame's time")

    def detect_at(self, image: np.ndarray, pts_s: float) -> Detections:
        self._detector.detect(image)
        return self._scripted.detect_at(image, pts_s)


def decode_only(path: Path) -> float:
    """CPU seconds to decode every frame of the clip."""
    cpu = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return time.process_time() - cpu


def enforcement(path: Path, detector: str, folder: Path, *, video_s: float) -> Cost:
    """One camera's whole enforcement pipeline over the clip."""
    if "+busy" in detector:
        name, _, every = detector.partition("/")
        config = analytics("scripted" + (f"/{every}" if every else ""))
        real = detector_for(analytics(name.removesuffix("+busy")).detector)
        assert real is not None
        found: Detector | None = DetectedAndScripted(real)
    else:
        config = analytics(detector)
        found = detector_for(config.detector)
    pipeline = CameraPipeline(config=config, detector=found)
    files = FaceFiles(folder)
    reader = SharedReader("kupol")
    reader.warm_up()
    plates = PlateStage(
        camera_id="bench", config=CameraPlatesConfig(enabled=True, vehicle_classes=["car"]),
        reader=reader, files=files,
    )  # fmt: skip
    traffic = TrafficStage(
        camera_id="bench",
        config=config.traffic,
        signals=SignalBoard(),
        files=files,
        fps=FPS,
    )
    start = datetime.now(UTC)
    violations = reported = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for frame in read_frames(str(path), analysis_fps=FPS, width=WIDTH):
        result = pipeline.process(frame)
        occurred = start + timedelta(seconds=frame.pts_s)
        tracked = result.tracked
        names = pipeline.names
        users = [
            RoadUser(track_id=int(t), box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                     class_name=class_name(int(c), names))
            for b, c, t in zip(tracked.xyxy, tracked.class_id, tracked.tracker_id, strict=True)
            if t >= 0
        ]  # fmt: skip
        ended = [e.track_id for e in result.track_events if e.kind == "end"]
        full = frame.full_image

        def sharp(full: object = full) -> np.ndarray:
            return np.ascontiguousarray(np.asarray(full())[:, :, ::-1])  # type: ignore[operator]

        reported += len(
            plates.process(
                frame.image,
                pts_s=frame.pts_s,
                occurred=occurred,
                vehicles=[
                    TrackedVehicle(track_id=u.track_id, box=u.box, vehicle_class=u.class_name)
                    for u in users
                    if u.class_name == "car"
                ],
                ended=ended,
                full=sharp,
            )
        )
        messages = traffic.process(
            frame.image, pts_s=frame.pts_s, occurred=occurred, users=users, ended=ended, full=sharp
        )
        violations += sum(1 for m in messages if type(m).__name__ == "ViolationObserved")
    violations += sum(1 for m in traffic.finish() if type(m).__name__ == "ViolationObserved")
    return Cost(
        cpu_s=time.process_time() - cpu,
        wall_s=time.perf_counter() - wall,
        video_s=video_s,
        violations=violations,
        plates=reported,
    )


def concurrent(path: Path, detector: str, cameras: int, folder: Path, video_s: float) -> float:
    """``cameras`` pipelines at once, each reading as fast as it can: the slowest camera's
    video seconds per wall second (≥ 1: all keep up with real time)."""
    speeds: list[float] = []

    def one(index: int) -> None:
        cost = enforcement(path, detector, folder / str(index), video_s=video_s)
        speeds.append(video_s / cost.wall_s)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(cameras)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return min(speeds)


def crossing_script(commands: int) -> Script:
    """A pedestrian who steps onto the crosswalk and back to the kerb ``commands`` times."""
    path: list[tuple[float, float, float]] = []
    t = 0.0
    for _ in range(commands // 2):
        # From beyond the kerb's waiting area onto the crosswalk and back.
        path += [(t, -6.0, 18.0), (t + 0.3, -1.0, 18.0), (t + 0.6, -6.0, 18.0)]
        t += 0.7
    return Script(
        actors=(Actor(id=10, kind="person", path=tuple(path)),),
        phases=((0.0, "green"),),
        duration_s=t,
        speed_limit_kmh=60.0,
        expected=(),
    )


def crossing_latency(commands: int, folder: Path, *, load: threading.Event | None) -> list[float]:
    config = CameraTrafficConfig.model_validate(camera_config())
    crosswalks = [replace_hold(c) for c in config.crosswalks]
    config = config.model_copy(update={"crosswalks": crosswalks, "clip": False})
    device = MqttWarningDevice(client_id=f"kupol-bench-{os.getpid()}")
    stage = TrafficStage(
        camera_id="bench", config=config, signals=SignalBoard(), files=FaceFiles(folder),
        device=device, fps=FPS,
    )  # fmt: skip
    scene = Scenario(script=crossing_script(commands), fps=FPS)
    start = datetime.now(UTC)
    try:
        for frame in scene.frames():
            assert frame.image is not None
            stage.process(
                frame.image,
                pts_s=frame.pts_s,
                occurred=start + timedelta(seconds=frame.pts_s),
                users=frame.users,
                captured=time.perf_counter(),
            )
            time.sleep(max(0.0, 1 / FPS - 0.02))  # frames arrive at the camera's rate
    finally:
        device.close()
    return [a.latency_ms for a in stage.activations]


def replace_hold(crosswalk):  # type: ignore[no-untyped-def]
    return crosswalk.model_copy(update={"hold_s": 0.0})


def percentiles(values: list[float]) -> str:
    a = np.asarray(values)
    return (
        f"n={len(a)} p50={np.percentile(a, 50):.1f} ms p95={np.percentile(a, 95):.1f} ms "
        f"max={a.max():.1f} ms"
    )


def mqtt_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=50.0, help="Length of the clip.")
    parser.add_argument("--cameras", type=int, default=8, help="Cameras run at once.")
    parser.add_argument("--commands", type=int, default=200, help="Crossing commands timed.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = replace(INTERSECTION, duration_s=min(args.seconds, INTERSECTION.duration_s))
        clip = write_intersection_clip(folder / "intersection.mp4", script=script, fps=FPS)
        video_s = script.duration_s + 1 / FPS
        print(f"stream: 1280x720 H.264, {video_s:.1f} s at {FPS:.0f} fps; {CORES} cores")
        decode = decode_only(clip)
        print(f"decode only (ceiling):   {decode / video_s:6.3f} core-s per video-s "
              f"-> {CORES * video_s / decode:5.1f} streams on {CORES} cores")  # fmt: skip
        for detector in DETECTORS:
            cost = enforcement(clip, detector, folder / detector, video_s=video_s)
            print(
                f"enforcement, {detector:9s}: {cost.share:6.3f} core-s per video-s -> "
                f"{CORES / cost.share:5.1f} cameras at {FPS:.0f} fps on {CORES} cores "
                f"({cost.violations} violations, {cost.plates} plates)"
            )
        # NanoDet's detection on every frame plus the rules, plates and evidence of a busy
        # junction, in one run.
        for detector in ("nanodet+busy", "int8+busy", "int8-320+busy", "int8-320+busy/2"):
            cost = enforcement(clip, detector, folder / detector, video_s=video_s)
            print(f"enforcement, {detector:13s}: {cost.share:6.3f} core-s per video-s -> "
                  f"{CORES / cost.share:5.1f} cameras at {FPS:.0f} fps (target >= 8; "
                  f"{cost.violations} violations)")  # fmt: skip
        for detector in ("nanodet+busy", "int8+busy", "int8-320+busy", "int8-320+busy/2"):
            many = folder / f"many-{detector}"
            slowest = concurrent(clip, detector, args.cameras, many, video_s)
            verdict = "keeps up" if slowest >= 1 else "falls behind"
            print(f"{args.cameras} cameras at once ({detector}): the slowest ran at "
                  f"{slowest:4.2f}x real time ({verdict})")  # fmt: skip
        if not mqtt_up():
            print("crossing latency: skipped, no MQTT broker on 127.0.0.1:1883")
            return
        idle = crossing_latency(args.commands, folder / "crossing", load=None)
        print(f"crossing latency, idle machine: {percentiles(idle)} (target p95 <= 200 ms)")
        stop = threading.Event()
        background = threading.Thread(
            target=concurrent,
            args=(clip, "int8-320+busy", args.cameras, folder / "load", video_s),
            daemon=True,
        )  # fmt: skip
        background.start()
        busy = crossing_latency(args.commands, folder / "crossing-busy", load=stop)
        print(f"crossing latency, {args.cameras} cameras running: {percentiles(busy)}")
        background.join()


if __name__ == "__main__":
    main()
