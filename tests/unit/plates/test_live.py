"""The plate stage of the camera pipeline, on small synthetic frames and a scripted reader."""

from __future__ import annotations

import doctest
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kupol.faces.files import FaceFiles
from kupol.plates import live
from kupol.plates.config import CameraPlatesConfig
from kupol.plates.live import (
    PlateStage,
    TrackedVehicle,
    best_plate,
    direction_of,
    dominant_colour,
    plates_in,
)
from kupol.plates.readers import Image, PlateRead

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SMALL = np.zeros((360, 640, 3), np.uint8)
"""The analysed frame; the full-resolution frame is twice its size."""
FULL = np.zeros((720, 1280, 3), np.uint8)
FULL[200:600, 200:400] = (30, 30, 200)  # a red car where vehicle 1 stands
FULL[200:600, 800:1000] = (235, 235, 235)  # a white one where vehicle 2 stands
CAR_1 = (100.0, 100.0, 200.0, 300.0)
CAR_2 = (400.0, 100.0, 500.0, 300.0)


class ScriptedReader:
    """Gives the reads it was told to, call after call, in the crop's pixels."""

    name = "scripted"

    def __init__(
        self, script: Sequence[Sequence[tuple[str, float, tuple[float, ...] | None]]]
    ) -> None:
        self._script = list(script)
        self.crops: list[Image] = []

    def read_photo(self, image: Image) -> list[PlateRead]:
        self.crops.append(image)
        reads = list(self._script.pop(0)) if self._script else []
        return [
            PlateRead(text=t, confidence=c, box=None if b is None else (b[0], b[1], b[2], b[3]))
            for t, c, b in reads
        ]

    def read_crop(self, image: Image) -> PlateRead:
        raise NotImplementedError


def stage(tmp_path: Path, reader: ScriptedReader, **config: Any) -> PlateStage:
    return PlateStage(
        camera_id="cam-1",
        config=CameraPlatesConfig(enabled=True, **config),
        reader=reader,
        files=FaceFiles(tmp_path),
    )


def frame(
    plates: PlateStage,
    t: float,
    vehicles: Sequence[tuple[int, tuple[float, float, float, float]]],
    ended: Sequence[int] = (),
) -> list[Any]:
    return plates.process(
        SMALL,
        pts_s=t,
        occurred=T0 + timedelta(seconds=t),
        vehicles=[TrackedVehicle(track_id=i, box=b, vehicle_class="car") for i, b in vehicles],
        ended=ended,
        track_key=lambda i: f"cam-1:run:{i}",
        full=lambda: FULL,
    )


# Vehicle 1's padded region in the full frame starts at (180, 160): a plate near its bottom.
PLATE_1 = (60.0, 380.0, 180.0, 410.0)


def test_a_vehicle_is_reported_once_two_reads_agree_with_its_crop_class_colour_and_way(
    tmp_path: Path,
) -> None:
    reader = ScriptedReader([[("123ABC02", 0.9, PLATE_1)], [("123АВС02", 0.8, PLATE_1)]])
    plates = stage(tmp_path, reader, directions={"up": "north", "down": "south"})
    assert frame(plates, 0.0, [(1, CAR_1)]) == []
    [seen] = frame(plates, 0.2, [(1, (100.0, 60.0, 200.0, 260.0))])
    assert (seen.plate, seen.camera_id, seen.track) == ("123ABC02", "cam-1", "cam-1:run:1")
    assert seen.seen_at == T0 + timedelta(seconds=0.2)
    assert seen.confidence == pytest.approx(0.85)
    assert (seen.vehicle_class, seen.vehicle_colour, seen.direction) == ("car", "red", "north")
    assert (tmp_path / str(seen.crop_uri)).is_file()
    # The reader got the vehicle, padded, from the full-resolution frame.
    assert reader.crops[0].shape == (480, 240, 3)
    # Reported once: the vehicle is not read again, nor reported at its end.
    assert frame(plates, 0.4, [(1, CAR_1)], ended=[1]) == []
    assert len(reader.crops) == 2


def test_one_blurry_frame_does_not_decide(tmp_path: Path) -> None:
    reader = ScriptedReader(
        [[("123AHC02", 0.3, PLATE_1)], [("123ABC02", 0.9, PLATE_1)], [("123ABC02", 0.8, PLATE_1)]]
    )
    plates = stage(tmp_path, reader, decide_reads=3)
    for t in (0.0, 0.2):
        assert frame(plates, t, [(1, CAR_1)]) == []
    [seen] = frame(plates, 0.4, [(1, CAR_1)])
    assert seen.plate == "123ABC02"


def test_reads_are_rate_limited_per_vehicle(tmp_path: Path) -> None:
    reader = ScriptedReader([])
    plates = stage(tmp_path, reader, interval_s=0.5)
    for i in range(10):
        frame(plates, i * 0.1, [(1, CAR_1)])
    assert len(reader.crops) == 2  # at 0.0 and 0.5 s


def test_two_vehicles_are_read_in_one_call_and_each_gets_its_own_plate(tmp_path: Path) -> None:
    # The one crop spans both padded regions, from (180, 160): vehicle 2 is 600 px right.
    both = [("123ABC02", 0.9, PLATE_1), ("777GG17", 0.9, (660.0, 380.0, 780.0, 410.0))]
    reader = ScriptedReader([both, both])
    plates = stage(tmp_path, reader)
    frame(plates, 0.0, [(1, CAR_1), (2, CAR_2)])
    seen = frame(plates, 0.2, [(1, CAR_1), (2, CAR_2)])
    assert len(reader.crops) == 2
    assert {(s.track, s.plate, s.vehicle_colour) for s in seen} == {
        ("cam-1:run:1", "123ABC02", "red"),
        ("cam-1:run:2", "777GG17", "white"),
    }


def test_a_foreign_plate_is_voted_when_the_vehicle_leaves(tmp_path: Path) -> None:
    reader = ScriptedReader([[("AB1234CD", 0.9, PLATE_1)]] * 3)
    plates = stage(tmp_path, reader)
    for t in (0.0, 0.2, 0.4):
        assert frame(plates, t, [(1, CAR_1)]) == []
    [seen] = frame(plates, 2.5, [], ended=[1])
    assert (seen.plate, seen.direction) == ("AB1234CD", None)


def test_unsure_or_unread_vehicles_are_not_reported(tmp_path: Path) -> None:
    reader = ScriptedReader([[("123ABC02", 0.2, PLATE_1)], [("HELLO", 0.99, PLATE_1)]])
    plates = stage(tmp_path, reader)
    frame(plates, 0.0, [(1, CAR_1), (2, CAR_2)])
    frame(plates, 0.2, [(1, CAR_1)])
    assert frame(plates, 2.0, [], ended=[1, 2]) == []
    assert plates.finish(T0) == []


def test_a_vehicle_in_view_too_long_is_voted_then(tmp_path: Path) -> None:
    reader = ScriptedReader([[("AB1234CD", 0.9, PLATE_1)]])
    plates = stage(tmp_path, reader, max_track_s=5.0)
    frame(plates, 0.0, [(1, CAR_1)])
    assert frame(plates, 4.9, [(1, CAR_1)]) == []
    [seen] = frame(plates, 5.0, [(1, CAR_1)])
    assert seen.plate == "AB1234CD"


def test_whole_frame_reading_groups_reads_of_one_plate_and_joins_split_ones(
    tmp_path: Path,
) -> None:
    split = [
        ("123ABC", 0.9, (400.0, 500.0, 520.0, 530.0)),
        ("02", 0.95, (530.0, 500.0, 560.0, 530.0)),
    ]
    again = [("123ABC02", 0.9, (404.0, 498.0, 562.0, 531.0))]
    reader = ScriptedReader([split, [("123ABCO2", 0.8, again[0][2])], again, again, [], again])
    plates = stage(tmp_path, reader, whole_frame=True, interval_s=0.5)
    assert frame(plates, 0.0, []) == []
    [seen] = frame(plates, 0.5, [])
    assert (seen.plate, seen.track, seen.vehicle_class) == ("123ABC02", None, None)
    assert reader.crops[0].shape == FULL.shape
    # Still in view: not reported again; gone for forget_s, then back: a new sighting.
    assert frame(plates, 1.0, []) == [] and frame(plates, 1.5, []) == []
    assert frame(plates, 4.0, []) == []
    assert frame(plates, 4.5, []) == []  # one read, not yet decided
    [back] = frame(plates, 9.0, [])
    assert back.plate == "123ABC02"


@pytest.mark.parametrize(
    ("reads", "plate"),
    [
        ([("KZ", 0.9, (0, 0, 10, 10)), ("123ABC02", 0.9, (20, 0, 90, 10))], "123ABC02"),
        ([("123ABC", 0.9, (20, 0, 80, 10)), ("02", 0.9, (82, 0, 92, 10))], "123ABC02"),
        ([("TAXI", 0.99, None), ("777GG17", 0.6, None)], "777GG17"),
        ([("HELLO", 0.99, None), ("KZ", 0.9, None)], None),
        ([], None),
    ],
)
def test_the_plate_in_a_crop_is_the_most_plate_like_text(
    reads: list[tuple[str, float, tuple[float, ...] | None]], plate: str | None
) -> None:
    found = best_plate(
        [
            PlateRead(text=t, confidence=c, box=None if b is None else (b[0], b[1], b[2], b[3]))
            for t, c, b in reads
        ]
    )
    assert (found.text if found else None) == plate


def test_reads_on_different_lines_are_not_joined() -> None:
    reads = [
        PlateRead(text="123ABC02", confidence=0.9, box=(0, 0, 80, 10)),
        PlateRead(text="777GG17", confidence=0.9, box=(0, 50, 80, 60)),
    ]
    assert sorted(r.text for r in plates_in(reads)) == ["123ABC02", "777GG17"]


@pytest.mark.parametrize(
    ("path", "way"),
    [
        ([(0.5, 0.8), (0.5, 0.2)], "up"),
        ([(0.5, 0.2), (0.55, 0.8)], "down"),
        ([(0.1, 0.5), (0.9, 0.55)], "right"),
        ([(0.9, 0.5), (0.1, 0.5)], "left"),
        ([(0.5, 0.5), (0.52, 0.51)], None),
        ([(0.5, 0.5)], None),
    ],
)
def test_the_way_a_vehicle_moved(path: list[tuple[float, float]], way: str | None) -> None:
    assert direction_of(path) == way


@pytest.mark.parametrize(
    ("bgr", "colour"),
    [
        ((30, 30, 200), "red"),
        ((200, 80, 20), "blue"),
        ((240, 240, 240), "white"),
        ((150, 150, 150), "silver"),
        ((20, 20, 20), "black"),
    ],
)
def test_the_colour_of_a_vehicle(bgr: tuple[int, int, int], colour: str) -> None:
    assert dominant_colour(np.full((40, 60, 3), bgr, np.uint8)) == colour


def test_the_examples_in_the_docstrings_hold() -> None:
    assert doctest.testmod(live).failed == 0


def test_a_fragment_read_like_a_scooters_number_does_not_decide_a_car(tmp_path: Path) -> None:
    """``C02`` (a box that cut ``123ABC02``'s digits off) fits the scooter numbers' format;
    reported at once, the car's whole plate would never be read."""
    fragment, whole = [("C02", 0.95, PLATE_1)], [("123ABC02", 0.9, PLATE_1)]
    reader = ScriptedReader([fragment, fragment, whole, whole, whole, whole])
    plates = stage(tmp_path, reader)
    reported = [seen for t in range(6) for seen in frame(plates, t * 0.2, [(1, CAR_1)])]
    assert [seen.plate for seen in reported] == ["123ABC02"]


def test_a_scooters_number_is_reported_when_its_track_ends(tmp_path: Path) -> None:
    reader = ScriptedReader([[("C0217", 0.9, PLATE_1)], [("C0217", 0.9, PLATE_1)]])
    plates = stage(tmp_path, reader)
    assert frame(plates, 0.0, [(1, CAR_1)]) == []
    assert frame(plates, 0.2, [(1, CAR_1)]) == []
    [seen] = frame(plates, 0.4, [], ended=[1])
    assert seen.plate == "C0217"
