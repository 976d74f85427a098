"""A claim is checked against the media's own metadata: time, place, editing software."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kupol.citizens import consistency
from kupol.citizens.consistency import FindingCode, Severity, check_claim
from kupol.citizens.media_meta import MediaKind, MediaMetadata, image_metadata
from kupol.core.errors import InvalidInputError
from tests.conftest import need_data

BAITEREK = (51.1283, 71.4305)
CLAIMED = datetime(2026, 3, 12, 9, 5, tzinfo=UTC)  # 14:05 in Astana
RECEIVED = CLAIMED + timedelta(minutes=40)
HONEST = MediaMetadata(
    kind=MediaKind.IMAGE,
    captured_at=CLAIMED - timedelta(minutes=2),
    latitude=51.1287,  # about 45 m north
    longitude=71.4305,
    make="Apple",
    model="iPhone 15",
    software="17.4.1",
)


def _codes(meta: MediaMetadata, **kwargs: Any) -> list[str]:
    claimed_at = kwargs.pop("claimed_at", CLAIMED)
    place = kwargs.pop("claimed_place", BAITEREK)
    return [f.code.value for f in check_claim(meta, claimed_at, place, RECEIVED, **kwargs)]


def test_an_honest_photo_raises_nothing() -> None:
    assert check_claim(HONEST, CLAIMED, BAITEREK, RECEIVED) == []


def test_a_photo_stripped_of_metadata_lacks_time_and_place() -> None:
    findings = check_claim(MediaMetadata(kind=MediaKind.IMAGE), CLAIMED, BAITEREK, RECEIVED)
    assert [(f.code, f.severity) for f in findings] == [
        (FindingCode.NO_CAPTURE_TIME, Severity.LOW),
        (FindingCode.NO_LOCATION, Severity.LOW),
    ]


def test_a_photo_taken_days_before_the_claim_is_serious() -> None:
    old = replace(HONEST, captured_at=CLAIMED - timedelta(days=5, hours=3))
    (finding,) = check_claim(old, CLAIMED, BAITEREK, RECEIVED)
    assert finding.code is FindingCode.TAKEN_LONG_BEFORE and finding.severity is Severity.HIGH
    assert finding.reason == (
        "taken at 2026-03-07T06:05:00+00:00, 5 d 3 h before the claimed time (more than 72 h)"
    )


@pytest.mark.parametrize(
    ("before", "code"),
    [
        (timedelta(minutes=9), None),
        (timedelta(minutes=11), "time_differs_from_claim"),
        (timedelta(hours=71), "time_differs_from_claim"),
        (timedelta(hours=73), "taken_long_before"),
        (-timedelta(minutes=30), "time_differs_from_claim"),
    ],
)
def test_the_time_limits_hold_at_their_edges(before: timedelta, code: str | None) -> None:
    meta = replace(HONEST, captured_at=CLAIMED - before)
    assert _codes(meta) == ([code] if code else [])


def test_a_photo_taken_after_the_report_arrived_is_impossible() -> None:
    (finding,) = check_claim(
        replace(HONEST, captured_at=RECEIVED + timedelta(hours=1)), CLAIMED, BAITEREK, RECEIVED
    )
    assert finding.code is FindingCode.TAKEN_AFTER_RECEIVED and finding.severity is Severity.HIGH
    assert "1 h 0 min after the report was received" in finding.reason


def test_a_time_without_zone_is_read_in_kazakhstan_and_said_so() -> None:
    local = replace(HONEST, captured_at=datetime(2026, 3, 12, 14, 3))  # Astana wall clock
    assert check_claim(local, CLAIMED, BAITEREK, RECEIVED) == []
    late = replace(HONEST, captured_at=datetime(2026, 3, 12, 15, 3))
    (finding,) = check_claim(late, CLAIMED, BAITEREK, RECEIVED)
    assert "(the file gives no time zone; UTC+05:00 assumed)" in finding.reason


def test_a_time_without_zone_takes_the_zone_its_gps_time_shows() -> None:
    # A visitor's camera on Moscow time (UTC+3), its GPS fix in UTC: 14:05 is not Astana's.
    meta = replace(
        HONEST,
        captured_at=datetime(2026, 3, 12, 12, 3),
        gps_at=datetime(2026, 3, 12, 9, 3, 1, tzinfo=UTC),
    )
    assert check_claim(meta, CLAIMED, BAITEREK, RECEIVED) == []
    assert consistency.gps_offset(meta) == timedelta(hours=3)
    odd = replace(meta, gps_at=datetime(2026, 3, 12, 9, 10, tzinfo=UTC))  # not a whole zone
    assert consistency.gps_offset(odd) is None
    # A camera on UTC itself: the zero offset is used, not the assumed UTC+05:00.
    on_utc = replace(meta, captured_at=datetime(2026, 3, 12, 9, 3), gps_at=CLAIMED)
    assert check_claim(on_utc, CLAIMED, BAITEREK, RECEIVED) == []


def test_a_videos_length_widens_the_time_tolerance() -> None:
    stamped_at_end = replace(
        HONEST, kind=MediaKind.VIDEO, captured_at=CLAIMED + timedelta(minutes=20)
    )
    assert _codes(stamped_at_end) == ["time_differs_from_claim"]
    assert _codes(replace(stamped_at_end, duration_s=15 * 60)) == []


@pytest.mark.parametrize(
    ("north_m", "severity", "said"),
    [
        (250, None, ""),
        (800, Severity.MEDIUM, "800 m"),
        (1_500, Severity.HIGH, "1,500 m"),
        (50_000, Severity.HIGH, "50.0 km"),
    ],
)
def test_a_position_far_from_the_claimed_place_is_found(
    north_m: float, severity: Severity | None, said: str
) -> None:
    meta = replace(HONEST, latitude=BAITEREK[0] + north_m / 111_195)  # metres per degree
    findings = check_claim(meta, CLAIMED, BAITEREK, RECEIVED)
    if severity is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.code is FindingCode.FAR_FROM_CLAIMED_PLACE and finding.severity is severity
    assert f"{said} from the claimed place (limit 300 m)" in finding.reason


@pytest.mark.parametrize(
    ("software", "edited"),
    [
        ("Adobe Photoshop CC 2019 (Windows)", True),
        ("GIMP 2.10.36", True),
        ("Snapseed 2.0", True),
        ("PicsArt", True),
        ("CapCut", True),
        ("17.4.1", False),
        ("HDR+ 1.0.540104767zd", False),
        ("A520FXXU7CRJG", False),
    ],
)
def test_editing_software_is_named(software: str, edited: bool) -> None:
    findings = check_claim(replace(HONEST, software=software), CLAIMED, BAITEREK, RECEIVED)
    assert [f.code for f in findings] == ([FindingCode.EDITED_BY_SOFTWARE] if edited else [])
    if edited:
        assert software in findings[0].reason and findings[0].severity is Severity.MEDIUM


def test_a_file_changed_days_after_capture_is_noted() -> None:
    changed = replace(HONEST, modified_at=datetime(2026, 3, 14, 10, 0))
    (finding,) = check_claim(changed, CLAIMED, BAITEREK, RECEIVED)
    assert finding.code is FindingCode.MODIFIED_AFTER_CAPTURE and finding.severity is Severity.LOW


def test_a_claim_after_the_report_arrived_is_noted() -> None:
    codes = _codes(replace(HONEST, captured_at=None), claimed_at=RECEIVED + timedelta(hours=2))
    assert codes == ["no_capture_time", "claimed_after_received"]


def test_unreadable_metadata_is_reported() -> None:
    meta = replace(HONEST, problems=("EXIF date 'yesterday' is not a date",))
    assert _codes(meta) == ["unreadable_metadata"]


def test_naive_claim_times_and_impossible_places_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        check_claim(HONEST, CLAIMED.replace(tzinfo=None), BAITEREK, RECEIVED)
    with pytest.raises(InvalidInputError):
        check_claim(HONEST, CLAIMED, (BAITEREK[1], 191.0), RECEIVED)


@pytest.mark.data
def test_a_real_retouched_photo_sent_as_new_from_astana_is_caught() -> None:
    # An iPhone 5 photo of a car in Salvador, Brazil (2016), saved again by Photoshop.
    meta = image_metadata(need_data("plates", "openalpr-br", "AZJ6991.jpg").read_bytes())
    assert _codes(meta) == [
        "taken_long_before",
        "modified_after_capture",
        "far_from_claimed_place",
        "edited_by_software",
    ]
    # Claimed where and when it was taken (its GPS time shows the camera on UTC-3).
    there = check_claim(
        meta, datetime(2016, 10, 6, 18, 35, tzinfo=UTC), (-12.9403, -38.4149), RECEIVED
    )
    assert [f.code.value for f in there] == ["modified_after_capture", "edited_by_software"]


@pytest.mark.data
def test_a_real_phone_photo_agrees_with_a_true_claim() -> None:
    meta = image_metadata(need_data("plates", "nomeroff-ua", "22.jpeg").read_bytes())
    kharkiv, at = (50.0079, 36.2365), datetime(2019, 1, 6, 10, 45, tzinfo=UTC)
    assert check_claim(meta, at, kharkiv, at + timedelta(hours=1)) == []


def test_the_examples_run() -> None:
    result = doctest.testmod(consistency)
    assert result.attempted > 0 and result.failed == 0
