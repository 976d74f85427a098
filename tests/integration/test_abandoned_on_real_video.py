"""Abandoned objects on the real clips: the ABODA bag exactly once, no false alarm on the
traffic clips, and a bounded number on the one clip whose furniture moves between takes.

ABODA clip 4 (by eye, as the data README says): a man sets a bag down beside a utility box
about frames 400-430, stands by it, walks off about frame 600; the bag stays to the end
(frame ~1168). The other four clips have no abandoned object: cars pass (cars-intel,
highway-cdnet, street); in people-intel people come to a high table one at a time and leave
with nothing left, but the clip is cut together from takes between which the table was
moved a little, and a person stood at it each time. At the default 5 analysed frames a second
kupol reports one such "object" (the table's foot, at 125 s; two, foot and top edge, before
the detector's input became rectangular): known false alarms, bounded here.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kupol.cli import app
from kupol.vision.analyze import AnalysisStats, analyze_video
from kupol.vision.config import CameraAnalytics
from tests.conftest import need_data

pytestmark = pytest.mark.data


def test_kupol_analyze_reports_the_aboda_bag_once_after_its_owner_leaves() -> None:
    video = need_data("video", "abandoned-bag-aboda4.avi")

    result = CliRunner().invoke(app, ["analyze", str(video), "--json"])

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    alerts = [e for e in events if e["alert"]]
    assert [e["type"] for e in alerts] == ["abandoned_object"]
    bag = alerts[0]
    # Raised after the owner walked off (frame ~600), at a frame number of the file itself.
    assert bag["frame"] > 600
    assert bag["time_s"] == pytest.approx(bag["frame"] / 29.97, abs=0.05)
    # Where the bag was put down: left of the utility box, low in the picture.
    x1, y1, x2, y2 = bag["box"]
    assert 0.55 < x1 < x2 < 0.75 and 0.7 < y1 < y2 < 0.95
    details = bag["details"]
    assert 12.5 <= details["appeared_s"] <= 15.0  # frames ~375-450: the drop
    assert details["owner_track_id"] is not None
    assert details["owner_left_s"] > 19.0  # he stood by it until about frame 600 (20 s)
    assert len(details["owner_path"]) > 5
    for key in ("type", "time_s", "frame", "zone", "object_class", "track_id", "confidence"):
        assert key in bag


@pytest.mark.parametrize("fps", [3.0, 10.0])
def test_the_aboda_bag_is_found_at_other_analysis_rates(fps: float) -> None:
    video = need_data("video", "abandoned-bag-aboda4.avi")

    events = list(analyze_video(str(video), config=CameraAnalytics(analysis_fps=fps)))

    alerts = [e for e in events if e.is_alert]
    assert [e.type for e in alerts] == ["abandoned_object"]
    assert 20.0 < alerts[0].pts_s < 30.0


@pytest.mark.parametrize("clip", ["cars-intel.mp4", "highway-cdnet.avi", "street-bgslibrary.avi"])
def test_no_abandoned_object_is_reported_where_cars_pass(clip: str) -> None:
    video = need_data("video", clip)
    stats = AnalysisStats()

    events = list(analyze_video(str(video), config=CameraAnalytics(), stats=stats))

    assert stats.frames > 50
    assert [e.type for e in events if e.is_alert] == []


def test_false_alarms_where_people_stand_at_a_moved_table_stay_at_the_table() -> None:
    video = need_data("video", "people-intel.mp4")

    events = list(analyze_video(str(video), config=CameraAnalytics()))

    alerts = [e for e in events if e.is_alert]
    assert len(alerts) <= 2
    for alert in alerts:
        assert alert.type == "abandoned_object"
        x1, _, x2, _ = alert.box or (0.0, 0.0, 0.0, 0.0)
        # The table stands at x 0.5-0.7 of the picture; nothing elsewhere is reported.
        assert 0.45 < x1 < x2 < 0.75
