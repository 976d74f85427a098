"""Smart crosswalks: the warning device's on/off decisions and near misses."""

from __future__ import annotations

import doctest

import pytest

from kupol.core.errors import InvalidInputError
from kupol.traffic import crosswalk as crosswalk_module
from kupol.traffic.crosswalk import (
    CrossingLayout,
    Interval,
    WarningCommand,
    WarningSwitch,
    near_misses,
)

LAYOUT = CrossingLayout(
    crosswalk=((0.0, 0.0), (7.0, 0.0), (7.0, 4.0), (0.0, 4.0)),
    waiting_areas=(
        ((-2.0, 0.0), (0.0, 0.0), (0.0, 4.0), (-2.0, 4.0)),
        ((7.0, 0.0), (9.0, 0.0), (9.0, 4.0), (7.0, 4.0)),
    ),
)


def run(frames: list[tuple[float, list[tuple[float, float]]]]) -> list[WarningCommand]:
    switch = WarningSwitch("x1", LAYOUT, hold_s=3.0)
    commands = [switch.update(t=t, pedestrians=people) for t, people in frames]
    return [c for c in commands if c is not None]


def test_the_warning_goes_on_once_while_people_wait_or_cross_and_off_after_the_hold() -> None:
    frames = [(float(t), [(-5.0 + t, 2.0)]) for t in range(0, 14)]  # walks across from -5 to 8
    frames += [(14.0 + t, []) for t in range(6)]
    commands = run(frames)
    assert [(c.on, c.t, c.reason) for c in commands] == [
        (True, 3.0, "waiting"),  # reaches the kerb area at x = -2
        (False, 16.0, "clear"),  # last seen in the far kerb area at t = 13 (x = 8), held 3 s
    ]


def test_someone_stepping_straight_onto_the_crossing_turns_it_on_as_crossing() -> None:
    assert run([(0.0, [(3.0, 2.0)])]) == [WarningCommand("x1", True, 0.0, "crossing")]


def test_passers_by_and_an_empty_street_never_turn_it_on() -> None:
    frames = [(float(t), [(-5.0, 6.0 + t)]) for t in range(10)]  # walking along, not across
    assert run([*frames, (10.0, [])]) == []


def test_a_brief_gap_in_detection_does_not_blink_the_lights() -> None:
    frames = [(0.0, [(3.0, 2.0)]), (1.0, []), (2.0, []), (2.5, [(3.5, 2.0)]), (4.0, [])]
    commands = run([*frames, (5.4, []), (5.5, [])])
    assert [(c.on, c.t) for c in commands] == [(True, 0.0), (False, 5.5)]


def test_near_misses_are_vehicles_within_the_gap_of_a_pedestrian_on_the_crossing() -> None:
    walkers = [Interval(track=1, start=10.0, end=16.0)]
    cars = [
        Interval(track=10, start=5.0, end=5.5),  # 4.5 s before: no
        Interval(track=11, start=8.8, end=9.2),  # 0.8 s before the pedestrian stepped on
        Interval(track=12, start=12.0, end=12.4),  # at the same time
        Interval(track=13, start=17.0, end=17.3),  # 1.0 s after the pedestrian left
        Interval(track=14, start=18.0, end=18.3),  # 2.0 s after: no
    ]
    found = near_misses(cars, walkers, gap_s=1.5)
    assert [(m.vehicle, m.gap_s) for m in found] == [(11, 0.8), (12, 0.0), (13, 1.0)]


def test_bad_layouts_and_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="3 or more corners"):
        CrossingLayout(crosswalk=((0.0, 0.0), (1.0, 1.0)))
    with pytest.raises(InvalidInputError, match="hold_s"):
        WarningSwitch("x", LAYOUT, hold_s=-1)
    with pytest.raises(InvalidInputError, match="gap_s"):
        near_misses([], [], gap_s=-0.1)


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(crosswalk_module).failed == 0
