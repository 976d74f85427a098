"""Red light and failing to yield to a pedestrian, on tracks on the road plane (metres)."""

from __future__ import annotations

import doctest

import pytest

from kupol.core.errors import InvalidInputError
from kupol.traffic import signals as signals_module
from kupol.traffic import violations as violations_module
from kupol.traffic.signals import SignalTimeline
from kupol.traffic.violations import (
    StopLine,
    TrackPosition,
    failed_to_yield,
    ran_red_light,
)

LINE = StopLine(a=(-3.5, 0.0), b=(3.5, 0.0))  # one lane's stop line; traffic drives north


def lights() -> SignalTimeline:
    timeline = SignalTimeline("j1-north")
    timeline.change(at=0.0, phase="green")
    timeline.change(at=30.0, phase="amber")
    timeline.change(at=33.0, phase="red")
    timeline.change(at=60.0, phase="red_amber")
    timeline.change(at=62.0, phase="green")
    return timeline


def drive(
    *, reach_line_at: float, kmh: float = 36.0, east: float = 0.0, north: bool = True
) -> list[TrackPosition]:
    """A vehicle 20 m before the line to 20 m past it, reaching the line at ``reach_line_at``."""
    v = kmh / 3.6 * (1 if north else -1)
    return [
        TrackPosition(t=reach_line_at + k / 10, at=(east, v * k / 10))
        for k in range(int(-20 / abs(v) * 10), int(20 / abs(v) * 10) + 1)
    ]


@pytest.mark.parametrize(
    ("crossing_at", "ran"),
    [
        (10.0, False),  # green
        (31.0, False),  # amber
        (33.3, False),  # red for 0.3 s: committed on amber
        (34.0, True),  # red for 1 s
        (55.0, True),
        (61.0, True),  # red with amber prohibits too: red for 28 s
        (63.0, False),  # green
    ],
)
def test_a_vehicle_crossing_the_stop_line_on_red_is_caught(crossing_at: float, ran: bool) -> None:
    found = ran_red_light(drive(reach_line_at=crossing_at), LINE, lights())
    assert (found is not None) == ran
    if found is not None:
        assert found.t == pytest.approx(crossing_at, abs=0.01)
        assert found.red_for_s == pytest.approx(crossing_at - 33.0, abs=0.01)


def test_other_directions_other_lanes_and_stopped_vehicles_are_not_red_light_runners() -> None:
    assert ran_red_light(drive(reach_line_at=40.0, north=False), LINE, lights()) is None
    assert ran_red_light(drive(reach_line_at=40.0, east=6.0), LINE, lights()) is None
    stopped = [TrackPosition(t=40 + k, at=(0.0, -5.0 + min(k, 4))) for k in range(10)]
    assert ran_red_light(stopped, LINE, lights()) is None
    before_any_report = SignalTimeline("new")
    before_any_report.change(at=100.0, phase="red")
    assert ran_red_light(drive(reach_line_at=40.0), LINE, before_any_report) is None


def test_a_camera_behind_the_traffic_judges_the_front_of_the_vehicle() -> None:
    # The tracked point is the rear bumper; the car is 4.5 m long and drives at 10 m/s, so its
    # front crossed 0.45 s before its rear: on red for 0.35 s, within the grace.
    rear = drive(reach_line_at=33.8)
    assert ran_red_light(rear, LINE, lights()) is not None  # judged by the rear: caught
    assert ran_red_light(rear, LINE, lights(), front_offset_m=4.5) is None
    late = ran_red_light(drive(reach_line_at=35.0), LINE, lights(), front_offset_m=4.5)
    assert late is not None and late.t == pytest.approx(34.55, abs=0.01)


def test_bad_stop_lines_and_tracks_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="two ends"):
        StopLine(a=(1.0, 1.0), b=(1.0, 1.0))
    track = drive(reach_line_at=40.0)
    with pytest.raises(InvalidInputError, match="increasing time"):
        ran_red_light([track[1], track[0], *track[2:]], LINE, lights())
    with pytest.raises(InvalidInputError, match="finite"):
        ran_red_light([TrackPosition(t=0.0, at=(float("nan"), 0.0)), *track], LINE, lights())
    with pytest.raises(InvalidInputError, match="3 or more corners"):
        failed_to_yield(track, [], [(0.0, 0.0), (1.0, 1.0)])


def test_a_controller_feed_is_refused_when_it_makes_no_sense() -> None:
    timeline = SignalTimeline("j1")
    with pytest.raises(InvalidInputError, match="unknown phase 'purple'"):
        timeline.change(at=0.0, phase="purple")
    timeline.change(at=10.0, phase="red")
    with pytest.raises(InvalidInputError, match="older than the last"):
        timeline.change(at=5.0, phase="green")
    assert timeline.phase_at(9.0) is None and timeline.phase_at(10.0) == "red"
    with pytest.raises(InvalidInputError, match="finite time"):
        timeline.change(at=float("nan"), phase="green")
    timeline.change(at=20.0, phase="red")  # a resend of the same phase: red still since 10
    assert timeline.red_for(21.0) == 11.0


CROSSWALK = [(-3.5, 10.0), (3.5, 10.0), (3.5, 14.0), (-3.5, 14.0)]  # 4 m wide, across the lane


def walker(
    *, start: tuple[float, float], velocity: tuple[float, float], t0: float, seconds: float
) -> list[TrackPosition]:
    return [
        TrackPosition(
            t=t0 + k / 10, at=(start[0] + velocity[0] * k / 10, start[1] + velocity[1] * k / 10)
        )
        for k in range(int(seconds * 10) + 1)
    ]


def car(reach_crosswalk_at: float) -> list[TrackPosition]:
    """10 m/s northwards, reaching the crosswalk's near edge (y = 10) at ``reach_crosswalk_at``."""
    return [
        TrackPosition(t=reach_crosswalk_at + k / 10, at=(0.0, 10.0 + k)) for k in range(-20, 15)
    ]


def test_a_vehicle_on_the_crosswalk_while_a_pedestrian_is_on_it_fails_to_yield() -> None:
    crossing = walker(
        start=(-4.5, 12.0), velocity=(1.2, 0.0), t0=0.0, seconds=8.0
    )  # on it 0.8-6.6 s
    found = failed_to_yield(car(reach_crosswalk_at=3.0), [crossing], CROSSWALK)
    assert found is not None and found.pedestrian_on_crossing and found.pedestrian == 0
    assert found.t == pytest.approx(3.0, abs=0.11)


def test_a_pedestrian_stepping_onto_the_crosswalk_counts_one_waiting_at_the_kerb_not() -> None:
    stepping = walker(
        start=(-6.0, 12.0), velocity=(1.2, 0.0), t0=0.0, seconds=4.0
    )  # on it at 2.1 s
    found = failed_to_yield(car(reach_crosswalk_at=1.6), [stepping], CROSSWALK)
    assert found is not None and not found.pedestrian_on_crossing
    waiting = walker(start=(-4.2, 12.0), velocity=(0.0, 0.0), t0=0.0, seconds=6.0)
    assert failed_to_yield(car(reach_crosswalk_at=2.0), [waiting], CROSSWALK) is None


def test_on_a_wide_road_only_a_pedestrian_in_the_vehicles_way_counts() -> None:
    wide = [(-3.5, 10.0), (17.5, 10.0), (17.5, 14.0), (-3.5, 14.0)]  # four lanes
    far_side = walker(start=(16.0, 12.0), velocity=(-1.2, 0.0), t0=0.0, seconds=4.0)
    assert failed_to_yield(car(reach_crosswalk_at=1.0), [far_side], wide) is None
    next_lane = walker(start=(5.0, 12.0), velocity=(-1.2, 0.0), t0=0.0, seconds=4.0)
    found = failed_to_yield(car(reach_crosswalk_at=1.0), [next_lane], wide)
    assert found is not None and found.pedestrian_on_crossing


def test_no_failure_when_the_pedestrian_has_left_or_walks_away_or_is_far() -> None:
    done = walker(start=(-4.5, 12.0), velocity=(1.5, 0.0), t0=0.0, seconds=8.0)  # off at ~5.3 s
    assert failed_to_yield(car(reach_crosswalk_at=6.0), [done], CROSSWALK) is None
    leaving = walker(start=(-4.0, 12.0), velocity=(-1.2, 0.0), t0=0.0, seconds=4.0)
    assert failed_to_yield(car(reach_crosswalk_at=1.0), [leaving], CROSSWALK) is None
    far = walker(start=(-12.0, 12.0), velocity=(1.2, 0.0), t0=0.0, seconds=4.0)
    assert failed_to_yield(car(reach_crosswalk_at=1.0), [far], CROSSWALK) is None


@pytest.mark.parametrize("module", [signals_module, violations_module])
def test_the_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
