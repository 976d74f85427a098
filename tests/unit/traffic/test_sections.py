"""Average-speed sections: trips paired from plate reads at two cameras, and their fines."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest

from kupol.core.errors import InvalidInputError
from kupol.traffic import sections as sections_module
from kupol.traffic.legal import load_legal_table
from kupol.traffic.sections import Passage, SpeedSection, section_trips, section_violations

SECTION = SpeedSection(
    id="a2-km12", entry_camera="in", exit_camera="out", length_m=6000, limit_kmh=90
)
T = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEGAL = load_legal_table()


def seen(plate: str, camera: str, minutes: float, confidence: float = 0.95) -> Passage:
    return Passage(
        plate=plate, camera_id=camera, at=T + timedelta(minutes=minutes), confidence=confidence
    )


def test_each_plate_is_paired_entry_to_exit_and_its_average_speed_measured() -> None:
    passages = [
        seen("111AAA01", "in", 0),
        seen("222BBB02", "in", 1),
        seen("111AAA01", "out", 3),  # 6 km in 3 min: 120 km/h
        seen("222BBB02", "out", 5),  # 6 km in 4 min: 90 km/h
        seen("333CCC03", "elsewhere", 2),
    ]
    trips = {t.plate: t for t in section_trips(SECTION, list(reversed(passages)))}
    assert set(trips) == {"111AAA01", "222BBB02"}
    assert trips["111AAA01"].average_kmh == pytest.approx(120.0)
    assert trips["222BBB02"].average_kmh == pytest.approx(90.0)
    assert trips["111AAA01"].seconds == 180


def test_a_second_drive_is_a_second_trip_and_the_latest_entry_counts() -> None:
    passages = [
        seen("111AAA01", "in", 0),
        seen("111AAA01", "in", 10),  # read again at the entry: the drive starts here
        seen("111AAA01", "out", 14),  # 6 km in 4 min
        seen("111AAA01", "in", 30),
        seen("111AAA01", "out", 33),  # 6 km in 3 min
    ]
    speeds = [round(t.average_kmh) for t in section_trips(SECTION, passages)]
    assert speeds == [90, 120]


def test_unsure_reads_stray_exits_and_stale_entries_make_no_trip() -> None:
    passages = [
        seen("111AAA01", "in", 0, confidence=0.6),  # unsure: could be another car's plate
        seen("111AAA01", "out", 3),
        seen("222BBB02", "out", 4),  # no entry
        seen("333CCC03", "in", 0),
        seen("333CCC03", "out", 75),  # more than an hour: stopped on the way, not one trip
    ]
    assert section_trips(SECTION, passages) == []


@pytest.mark.parametrize(
    ("minutes", "part", "fine_mrp"),
    [
        (6000 / 1000 / 99 * 60, None, None),  # 99 km/h: 9 over, no offence
        (6000 / 1000 / 105 * 60, "1", 5.0),  # 105 km/h
        (6000 / 1000 / 125 * 60, "2", 10.0),  # 125 km/h
        (6000 / 1000 / 160 * 60, "4", 40.0),  # 160 km/h
    ],
)
def test_a_section_violation_is_graded_by_article_592_on_the_exit_day(
    minutes: float, part: str | None, fine_mrp: float | None
) -> None:
    passages = [seen("111AAA01", "in", 0), seen("111AAA01", "out", minutes)]
    found = section_violations(SECTION, passages, LEGAL)
    if part is None:
        assert found == []
        return
    [violation] = found
    assert (violation.qualification.article, violation.qualification.part) == ("592", part)
    assert violation.qualification.fine_mrp == fine_mrp
    assert violation.qualification.mrp_tenge == 4325


def test_the_fine_uses_the_mrp_of_the_local_day_the_vehicle_left() -> None:
    # 23:58-00:01 on New Year's night in Kazakhstan (UTC+5) is 18:58-19:01 UTC on 31 December.
    night = datetime(2025, 12, 31, 18, 58, tzinfo=UTC)
    passages = [
        Passage(plate="111AAA01", camera_id="in", at=night, confidence=0.95),
        Passage(
            plate="111AAA01", camera_id="out", at=night + timedelta(minutes=2.4), confidence=0.95
        ),
    ]  # 6 km in 2.4 min: 150 km/h
    [violation] = section_violations(SECTION, passages, LEGAL)
    assert violation.qualification.mrp_tenge == 4325  # 1 January 2026, local time
    [in_utc] = section_violations(SECTION, passages, LEGAL, zone="UTC")
    assert in_utc.qualification.mrp_tenge == 3932
    with pytest.raises(InvalidInputError, match="unknown time zone"):
        section_violations(SECTION, passages, LEGAL, zone="Mars/Olympus")


def test_bad_sections_and_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="two cameras"):
        SpeedSection(id="x", entry_camera="a", exit_camera="a", length_m=1000, limit_kmh=60)
    with pytest.raises(InvalidInputError, match="positive"):
        SpeedSection(id="x", entry_camera="a", exit_camera="b", length_m=0, limit_kmh=60)
    with pytest.raises(InvalidInputError, match="finite"):
        SpeedSection(id="x", entry_camera="a", exit_camera="b", length_m=float("inf"), limit_kmh=60)
    naive = Passage(plate="111AAA01", camera_id="in", at=datetime(2026, 3, 1, 9), confidence=0.9)
    with pytest.raises(InvalidInputError, match="time zone"):
        section_trips(SECTION, [naive])
    with pytest.raises(InvalidInputError, match="confidences"):
        section_trips(SECTION, [seen("111AAA01", "in", 0, confidence=1.5)])
    with pytest.raises(InvalidInputError, match="min_confidence"):
        section_trips(SECTION, [], min_confidence=2.0)


def test_the_docstring_example_holds() -> None:
    assert doctest.testmod(sections_module).failed == 0
