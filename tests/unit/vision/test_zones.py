"""Zones and lines: validation, enter/exit/dwell, crossing directions and jitter."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pytest
from pydantic import ValidationError

from kupol.core.errors import ConfigError
from kupol.vision.detections import CAR, PERSON, Detections
from kupol.vision.zones import LineConfig, ZoneConfig, ZoneEvent, ZoneMonitor

SIZE = 100  # a 100 x 100 image: pixels read as percentages
SQUARE = [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]


def at(*people: tuple[int, float, float], class_id: int = PERSON) -> Detections:
    """Tracked objects standing at (track id, x, y) pixels."""
    if not people:
        return Detections.empty()
    return Detections(
        xyxy=np.array([[x - 5, y - 20, x + 5, y] for _, x, y in people], np.float32),
        confidence=np.full(len(people), 0.9, np.float32),
        class_id=np.full(len(people), class_id, np.int32),
        tracker_id=np.array([i for i, _, _ in people], np.int64),
    )


def walk(
    monitor: ZoneMonitor, path: list[tuple[float, float]], *, track_id: int = 1, fps: float = 10
) -> list[ZoneEvent]:
    events = []
    for i, (x, y) in enumerate(path):
        events += monitor.update(at((track_id, x, y)), pts_s=i / fps, frame_index=i)
    return events


def square_monitor(**kwargs: Any) -> ZoneMonitor:
    return ZoneMonitor(
        [ZoneConfig(name="square", polygon=SQUARE)], width=SIZE, height=SIZE, **kwargs
    )


@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        ([(0.1, 0.1), (0.5, 0.5)], "at least 3 items"),
        ([(0.1, 0.1), (1.2, 0.1), (0.5, 0.5)], "less than or equal to 1"),
        ([(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)], "encloses no area"),
        ([(0.1, 0.1), (0.1, 0.1), (0.5, 0.5), (0.9, 0.1)], "repeats point 0"),
        ([(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)], "edges 0 and 2 cross"),
    ],
)
def test_bad_zone_polygons_are_refused_with_the_reason(
    polygon: list[tuple[float, float]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ZoneConfig(name="z", polygon=polygon)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"a": (0.5, 0.5), "b": (0.5, 0.5)}, "at least 1% apart"),
        ({"a": (0.5, 0.5), "b": (0.5, 1.5)}, "less than or equal to 1"),
        ({"a": (0.1, 0.5), "b": (0.9, 0.5), "direction": "up"}, "left_to_right"),
        ({"a": (0.1, 0.5), "b": (0.9, 0.5), "colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_lines_are_refused_with_the_reason(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LineConfig(name="gate", **fields)


def test_unknown_classes_and_duplicate_names_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="unknown class 'pesron'"):
        ZoneMonitor([ZoneConfig(name="z", polygon=SQUARE, classes=["pesron"])], width=9, height=9)
    with pytest.raises(ConfigError, match="unique"):
        ZoneMonitor(
            [ZoneConfig(name="z", polygon=SQUARE)],
            [LineConfig(name="z", a=(0, 0), b=(1, 1))],
            width=9,
            height=9,
        )


def test_entering_and_leaving_a_zone_reports_the_dwell_from_the_first_frame_inside() -> None:
    monitor = square_monitor(hold=2)
    path = [(20.0 + 4 * i, 50.0) for i in range(6)] + [(45.0, 50.0)] * 30
    path += [(45.0 + 4 * i, 50.0) for i in range(1, 8)]

    events = walk(monitor, path)

    assert [(e.kind, e.pts_s, e.frame_index) for e in events] == [
        ("zone_enter", 0.6, 6),  # first inside at x=45 (6th frame), confirmed a frame later
        ("zone_exit", pytest.approx(3.9), 39),  # x=61 is 1 px out: past the 1 px margin
    ]
    assert events[1].dwell_s == pytest.approx(3.3)


def test_queries_tell_who_is_inside_since_when() -> None:
    monitor = square_monitor(hold=1)
    monitor.update(at((1, 50, 50), (2, 10, 10)), pts_s=1.0, frame_index=0)
    monitor.update(at((1, 50, 50), (2, 10, 10), (3, 45, 55)), pts_s=2.0, frame_index=1)

    assert monitor.occupants("square") == {1: 1.0, 3: 2.0}
    assert monitor.count("square") == 2
    assert monitor.dwell(1, "square", now=4.5) == 3.5
    assert monitor.dwell(2, "square", now=4.5) == 0.0
    with pytest.raises(KeyError, match="no zone named 'nowhere'"):
        monitor.count("nowhere")


def test_jitter_on_a_boundary_makes_no_events() -> None:
    # The left edge is x = 40; the anchor wobbles ±2 px around it, and once jumps well inside.
    wobble = [(40.0 + (2 if i % 2 else -2), 50.0) for i in range(40)]
    wobble[20] = (48.0, 50.0)

    assert walk(square_monitor(margin=0.03, hold=2), wobble) == []
    assert len(walk(square_monitor(margin=0.0, hold=1), wobble)) > 10  # without the guards


def test_a_track_that_ends_inside_a_zone_leaves_it() -> None:
    monitor = square_monitor(hold=1)
    walk(monitor, [(50.0, 50.0)] * 5, track_id=4)

    [exit_] = monitor.track_ended(4, pts_s=2.0)

    assert (exit_.kind, exit_.track_id, exit_.dwell_s, exit_.frame_index) == (
        "zone_exit",
        4,
        2.0,
        4,
    )
    assert monitor.count("square") == 0
    assert monitor.track_ended(4, pts_s=3.0) == []


def test_zones_only_count_their_classes_and_tracked_objects() -> None:
    zone = ZoneConfig(name="bay", polygon=SQUARE, classes=["car", "truck"])
    monitor = ZoneMonitor([zone], width=SIZE, height=SIZE, hold=1)

    people = monitor.update(at((1, 50, 50)), pts_s=0.0, frame_index=0)
    untracked = monitor.update(at((-1, 50, 50), class_id=CAR), pts_s=0.0, frame_index=0)
    cars = monitor.update(at((2, 50, 50), class_id=CAR), pts_s=0.0, frame_index=0)

    assert people == untracked == []
    assert [(e.kind, e.track_id, e.class_id) for e in cars] == [("zone_enter", 2, CAR)]


def horizontal_line(direction: Literal["both", "right_to_left"] = "both") -> ZoneMonitor:
    # Drawn left to right: its left side is the top of the image.
    line = LineConfig(name="gate", a=(0.2, 0.5), b=(0.8, 0.5), direction=direction)
    return ZoneMonitor(lines=[line], width=SIZE, height=SIZE)


def test_crossing_a_line_reports_the_direction_and_counts_it() -> None:
    monitor = horizontal_line()
    down = walk(monitor, [(50.0, 30.0 + 5 * i) for i in range(9)], track_id=1)
    up = walk(monitor, [(60.0, 70.0 - 5 * i) for i in range(9)], track_id=2)

    assert [(e.kind, e.direction, e.pts_s) for e in down] == [
        ("line_cross", "left_to_right", 0.5)  # first past the line at y = 55
    ]
    assert [(e.zone, e.direction) for e in up] == [("gate", "right_to_left")]
    assert monitor.crossings("gate") == {"left_to_right": 1, "right_to_left": 1}


def test_a_one_way_line_ignores_the_other_way_and_its_ends() -> None:
    monitor = horizontal_line(direction="right_to_left")
    walk(monitor, [(50.0, 30.0 + 5 * i) for i in range(9)], track_id=1)  # the wrong way
    around = [(10.0, 30.0 + 5 * i) for i in range(9)]  # past the line's left end (x = 20)
    walk(monitor, [(p[0], 70 - (p[1] - 30)) for p in around], track_id=2)
    back_off = [(50.0, 70.0 - 4 * i) for i in range(4)] + [(50.0, 58.0 + 4 * i) for i in range(4)]
    walk(monitor, back_off, track_id=3)  # comes close, turns back

    assert monitor.crossings("gate") == {"left_to_right": 0, "right_to_left": 0}
    walk(monitor, [(50.0, 70.0 - 5 * i) for i in range(9)], track_id=4)
    assert monitor.crossings("gate") == {"left_to_right": 0, "right_to_left": 1}


def test_jitter_across_a_line_is_one_crossing() -> None:
    monitor = horizontal_line()
    path = [(50.0, 40.0)] * 3 + [(50.0, 52.0 + (3 if i % 2 else -3)) for i in range(20)]
    path += [(50.0, 65.0)] * 3

    events = walk(monitor, path)

    assert [e.direction for e in events] == ["left_to_right"]
