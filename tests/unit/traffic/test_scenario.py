"""The traffic stage on the simulated intersection: each rule fires exactly when the script
breaks it and never otherwise, speeds within 3 km/h, the smart crossing warns and counts,
and each violation carries its evidence."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kupol.faces.files import FaceFiles
from kupol.traffic.config import CameraTrafficConfig
from kupol.traffic.controller import SignalBoard
from kupol.traffic.crosswalk import WarningCommand
from kupol.traffic.live import TrafficStage
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.simulation import INTERSECTION, LANES, Actor, Scenario, Script, camera_config
from kupol.traffic.warning_device import Activation

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class RecordingDevice:
    """A warning device that keeps the commands it is sent."""

    def __init__(self) -> None:
        self.commands: list[WarningCommand] = []

    def send(self, command: WarningCommand, *, frame_captured: float) -> Activation:
        self.commands.append(command)
        return Activation(
            crossing_id=command.crossing_id,
            on=command.on,
            reason=command.reason,
            t=command.t,
            sent_at=START,
            latency_ms=1.0,
        )


def run(
    scene: Scenario,
    folder: Path,
    *,
    read_signal: bool = False,
    device: RecordingDevice | None = None,
    **overrides: object,
) -> list[object]:
    """Every message the stage sends over the whole scene."""
    config = CameraTrafficConfig.model_validate(
        {**camera_config(read_signal=read_signal), **overrides}
    )
    board = SignalBoard()
    stage = TrafficStage(
        camera_id="sim",
        config=config,
        signals=board,
        files=FaceFiles(folder),
        device=device,
        fps=scene.fps,
    )
    messages: list[object] = []
    phase = None
    present: set[int] = set()
    for frame in scene.frames():
        occurred = START + timedelta(seconds=frame.pts_s)
        if not read_signal and frame.phase != phase:
            board.report(signal_id="sim-south", phase=frame.phase, at=occurred)
            phase = frame.phase
        now = {u.track_id for u in frame.users}
        assert frame.image is not None
        messages += stage.process(
            frame.image,
            pts_s=frame.pts_s,
            occurred=occurred,
            users=frame.users,
            ended=sorted(present - now),
            track_key=lambda i: f"sim:{i}",
        )
        present = now
    return messages + stage.finish()


def violations(messages: list[object]) -> list[ViolationObserved]:
    return [m for m in messages if isinstance(m, ViolationObserved)]


def committed(messages: list[object]) -> set[tuple[str, int]]:
    return {(v.offence, int(str(v.track).split(":")[1])) for v in violations(messages)}


@pytest.fixture(scope="module")
def controller_run(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    folder = tmp_path_factory.mktemp("evidence")
    return run(Scenario(script=INTERSECTION, fps=10), folder, device=RecordingDevice())


def test_each_rule_fires_exactly_when_the_script_breaks_it(controller_run: list[object]) -> None:
    found = violations(controller_run)
    assert committed(controller_run) == set(INTERSECTION.expected)
    assert len(found) == len(INTERSECTION.expected)  # each once
    by = {(v.offence, v.track): v for v in found}
    red = by[("red_light", "sim:2")]
    assert red.measured["red_for_s"] == pytest.approx(1.9, abs=0.15)
    assert (red.occurred_at - START).total_seconds() == pytest.approx(16.9, abs=0.15)
    speeding = by[("speeding", "sim:3")]
    assert speeding.measured["speed_kmh"] == pytest.approx(95.0, abs=3.0)
    assert speeding.measured["limit_kmh"] == 60.0
    passenger = by[("scooter_passenger", "sim:21")]
    assert passenger.measured["riders"] == 2


def test_a_light_read_from_the_frame_gives_the_same_verdicts(tmp_path: Path) -> None:
    messages = run(Scenario(script=INTERSECTION, fps=5), tmp_path, read_signal=True, clip=False)
    assert committed(messages) == set(INTERSECTION.expected)


def test_without_a_reported_phase_nobody_runs_a_red(tmp_path: Path) -> None:
    # No controller and no signal region: the phase is unknown, and unknown is never red.
    scene = Scenario(script=replace(INTERSECTION, duration_s=25.0), fps=5)
    config = CameraTrafficConfig.model_validate({**camera_config(), "clip": False})
    stage = TrafficStage(camera_id="sim", config=config, signals=SignalBoard(),
                         files=FaceFiles(tmp_path))  # fmt: skip
    messages: list[object] = []
    for frame in scene.frames():
        assert frame.image is not None
        messages += stage.process(frame.image, pts_s=frame.pts_s,
                                  occurred=START + timedelta(seconds=frame.pts_s),
                                  users=frame.users)  # fmt: skip
    assert "red_light" not in {v.offence for v in violations(messages + stage.finish())}


@pytest.mark.parametrize("kmh", [30.0, 60.0, 90.0, 130.0])
def test_spot_speed_is_within_3_kmh_of_the_rendered_truth(kmh: float, tmp_path: Path) -> None:
    cars = tuple(
        Actor(id=i + 1, kind="car", plate=None, path=((0.0, lane, 75.0),
              (70.0 / (kmh / 3.6), lane, 5.0)))
        for i, lane in enumerate(LANES)
    )  # fmt: skip
    script = Script(actors=cars, phases=((0.0, "green"),), duration_s=cars[0].path[-1][0] + 0.5,
                    speed_limit_kmh=10.0, expected=())  # fmt: skip
    messages = run(Scenario(script=script, fps=10, jitter_px=1.0), tmp_path,
                   speed_limit_kmh=10.0, clip=False, tolerance_kmh=0.0)  # fmt: skip
    speeds = sorted(v.measured["speed_kmh"] for v in violations(messages))
    assert len(speeds) == 2
    assert all(abs(s - kmh) <= 3.0 for s in speeds), speeds


def test_within_the_tolerance_no_speeding_is_reported(tmp_path: Path) -> None:
    car = Actor(
        id=1, kind="car", path=((0.0, LANES[0], 75.0), (70.0 / (69.0 / 3.6), LANES[0], 5.0))
    )
    script = Script(actors=(car,), phases=((0.0, "green"),), duration_s=car.path[-1][0] + 0.5,
                    speed_limit_kmh=60.0, expected=())  # fmt: skip
    assert violations(run(Scenario(script=script, fps=10), tmp_path, clip=False)) == []


def test_the_smart_crossing_warns_counts_and_finds_near_misses(
    controller_run: list[object],
) -> None:
    activity = [m for m in controller_run if isinstance(m, CrossingActivity)]
    counts = Counter(a.activity for a in activity)
    # Pedestrian 10 is the only one on foot; scooter riders are not pedestrians.
    assert counts["pedestrian"] == 1
    assert counts["warning_on"] == 1 and counts["warning_off"] == 1
    on = next(a for a in activity if a.activity == "warning_on")
    off = next(a for a in activity if a.activity == "warning_off")
    assert (on.at - START).total_seconds() == pytest.approx(28.0, abs=0.15)  # waiting at 28 s
    assert (off.at - START).total_seconds() == pytest.approx(36.4 + 2.0, abs=0.3)  # hold 2 s
    assert on.value == 1.0  # the device's latency
    # Car 5 drove through while 10 crossed (gap 0); car 4 left the crosswalk about 0.6 s
    # before 10 stepped on; car 6 waited and went about 1.9 s after 10 left (over 1.5 s).
    gaps = sorted(a.value for a in activity if a.activity == "near_miss" and a.value is not None)
    assert gaps == [0.0, pytest.approx(0.6, abs=0.15)]


def test_each_violation_carries_frames_the_vehicle_and_a_clip(
    controller_run: list[object], tmp_path_factory: pytest.TempPathFactory
) -> None:
    for violation in violations(controller_run):
        kinds = [e.kind for e in violation.evidence]
        assert kinds == ["frame_before", "frame_at", "frame_after", "vehicle", "clip"], kinds
        assert violation.evidence[-1].media_type == "video/webm"
        assert len({e.sha256 for e in violation.evidence}) == 5
        assert violation.track is not None and violation.plate is None  # the plate stage's


def test_a_camera_read_phase_yields_to_the_controller() -> None:
    board = SignalBoard()
    board.report(signal_id="s1", phase="red", at=START, source="camera")
    assert board.phases(START + timedelta(seconds=1)) == {"s1": "red"}
    # The controller's first report replaces what the camera read, even an earlier one…
    board.report(signal_id="s1", phase="green", at=START - timedelta(seconds=5))
    assert board.phases(START + timedelta(seconds=1)) == {"s1": "green"}
    # …and from then on the camera's reading is ignored.
    board.report(signal_id="s1", phase="red", at=START + timedelta(seconds=2), source="camera")
    assert board.phases(START + timedelta(seconds=3)) == {"s1": "green"}


def test_shapes_beyond_the_horizon_are_refused_and_empty_waiting_areas_accepted() -> None:
    settings = camera_config()
    settings["crosswalks"][0]["waiting_areas"] = []  # type: ignore[index]
    assert CameraTrafficConfig.model_validate(settings).crosswalks[0].waiting_areas == []
    sky = {**settings, "stop_lines": [{"name": "sky", "a": (0.1, 0.01), "b": (0.9, 0.01),
                                       "signal": "s"}]}  # fmt: skip
    with pytest.raises(ValueError, match="horizon"):
        CameraTrafficConfig.model_validate(sky)


def test_the_end_of_a_source_keeps_the_wall_clock(tmp_path: Path) -> None:
    # A car still in view when the stream drops: judged at the end, dated by the wall clock.
    car = Actor(id=1, kind="car", path=((0.0, LANES[0], 75.0), (70.0 / (100 / 3.6), LANES[0], 5.0)))
    script = Script(actors=(car,), phases=((0.0, "green"),), duration_s=1.5,
                    speed_limit_kmh=60.0, expected=())  # fmt: skip
    config = CameraTrafficConfig.model_validate({**camera_config(), "clip": False})
    stage = TrafficStage(camera_id="sim", config=config, signals=SignalBoard(),
                         files=FaceFiles(tmp_path))  # fmt: skip
    for frame in Scenario(script=script, fps=10).frames():
        assert frame.image is not None
        when = START + timedelta(seconds=frame.pts_s)
        stage.process(frame.image, pts_s=frame.pts_s, occurred=when, users=frame.users)
    [found] = violations(list(stage.finish()))
    assert abs((found.occurred_at - START).total_seconds() - 1.5) < 0.2


def _walker_and_car(phases: tuple[tuple[float, str], ...]) -> Script:
    """A pedestrian steps onto the crosswalk at about 6.7 s and is on it until 18 s; a car in
    the west lane reaches it at 14 s, the light showing green for it from 10 s (or always)."""
    return Script(
        actors=(
            Actor(
                id=10, kind="person", path=((2.0, -3.0, 18.0), (5.0, -3.0, 18.0), (20.0, 6.0, 18.0))
            ),
            Actor(
                id=5,
                kind="car",
                plate="248DAR09",
                path=((9.0, LANES[0], 75.0), (15.3, LANES[0], 5.0)),
            ),
        ),
        phases=phases,
        duration_s=20.0,
        speed_limit_kmh=60.0,
        expected=(),
    )


REGULATED = {
    "crosswalks": [{**camera_config()["crosswalks"][0], "signal": "sim-south"}],  # type: ignore[index]
    "clip": False,
}


def test_at_a_regulated_crossing_only_a_pedestrian_on_their_green_has_priority(
    tmp_path: Path,
) -> None:
    yield_ = ("failing_to_yield_to_pedestrian", 5)
    # Stepped on while the cars had red (the pedestrian's green), still crossing when the cars'
    # green came: the car must let them finish.
    their_green = Scenario(script=_walker_and_car(((0.0, "red"), (10.0, "green"))), fps=10)
    found = violations(run(their_green, tmp_path / "a", **REGULATED))
    assert {(v.offence, int(str(v.track).split(":")[1])) for v in found} == {yield_}
    assert found[0].measured["signal"] == "sim-south"
    # Stepped on against their red (the cars had green all along): no priority, no offence.
    their_red = Scenario(script=_walker_and_car(((0.0, "green"),)), fps=10)
    assert committed(run(their_red, tmp_path / "b", **REGULATED)) == set()
    # The same at an unregulated crossing: the pedestrian always has priority.
    assert committed(run(their_red, tmp_path / "c", clip=False)) == {yield_}
    # A regulated crossing whose phase is not known judges nobody.
    config = CameraTrafficConfig.model_validate({**camera_config(), **REGULATED})
    stage = TrafficStage(camera_id="sim", config=config, signals=SignalBoard(),
                         files=FaceFiles(tmp_path / "d"))  # fmt: skip
    messages: list[object] = []
    for frame in their_red.frames():
        assert frame.image is not None
        messages += stage.process(frame.image, pts_s=frame.pts_s,
                                  occurred=START + timedelta(seconds=frame.pts_s),
                                  users=frame.users)  # fmt: skip
    assert violations(messages + stage.finish()) == []


def test_without_a_scooter_class_a_person_at_scooter_speed_is_taken_for_a_rider(
    tmp_path: Path,
) -> None:
    # COCO-like: the detector sees the riders (30, 31 at 32 km/h on the road, 32 at 15 km/h on
    # the sidewalk) but not their scooters; the pedestrian (10) walks at 5 km/h.
    scene = Scenario(script=INTERSECTION, fps=10)
    inferred = run(scene, tmp_path / "a", scooter_classes=[], riding_speed_kmh=12.0, clip=False)
    cars = {e for e in INTERSECTION.expected if not e[0].startswith("scooter")}
    scooters = {
        ("scooter_speeding", 30),
        ("scooter_speeding", 31),
        ("scooter_sidewalk_speeding", 32),
    }
    assert committed(inferred) == cars | scooters
    assert all(
        v.measured["inferred"] == "a person at e-scooter speed"
        for v in violations(inferred)
        if v.offence.startswith("scooter")
    )
    # Off by default: nobody is taken for a rider.
    assert committed(run(scene, tmp_path / "b", scooter_classes=[], clip=False)) == cars
    # On wheels the detector does see (here the scooters, named as bicycles are): no rider.
    on_wheels = run(
        scene,
        tmp_path / "c",
        scooter_classes=[],
        riding_speed_kmh=12.0,
        wheel_classes=["scooter"],
        clip=False,
    )
    assert committed(on_wheels) == cars
