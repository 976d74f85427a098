"""People and vehicle counts of the pipeline on real clips, against counts made by eye.

Counted by eye for this test from contact sheets of the decoded frames (frame numbers are
positions among decoded frames, as ``VisionEvent.frame_index`` gives them):

people-intel.mp4 (768 x 432, 10 fps, 1394 frames): six people walk in from the bottom edge
one at a time, stand at the table seen from behind and leave to the right; never two at once.

    1. woman, long grey cardigan, fair hair   frames   60-198
    2. man, black hoodie                      frames  228-450
    3. woman, long hair, black top            frames  502-702
    4. man, black T-shirt                     frames  746-870
    5. woman, dark hair, grey jumper          frames  922-1200
    6. man, grey shirt, jeans                 frames 1234-1360

cars-intel.mp4 (768 x 432, 12.5 fps, 377 frames): a car park seen from straight above; four
cars cross the picture vertically, each in view for 2.5-4 s (cars 2 and 3 pass each other).

    1. white estate, bottom -> top            frames   56-106
    2. silver saloon, top -> bottom           frames  182-228
    3. red saloon, bottom -> top              frames  190-236
    4. white coupe, top -> bottom             frames  314-346

highway-cdnet.avi (320 x 240, 1700 frames, time stamps of 60 fps): one carriageway, all
traffic coming towards the camera, top to bottom. Vehicles whose front (the bottom of their
box) crosses a horizontal line at 60 % of the height, frame of the crossing +-3 (sheets of
every 3rd-4th frame; frames 800-920, the densest, checked at full size):

    frames 0-1000: 138 (white van), 252 (box truck), 282, 358, 426, 669, 771, 805, 818, 846,
    862, 884, 906, 987: 14 crossings
    frames 1000-1690: 1047, 1080, 1107, 1171, 1205, 1342, 1390, 1455, 1498, 1513, 1618, 1650,
    1670: 13 more, 27 in all (a 28th car reaches the line in the last frames, not counted)

What the pipeline gave (NanoDet-g, default thresholds) and so what is asserted here:

* people: exactly one ``person`` track per person over the whole clip at 5 fps (6 for 6, no
  fragmentation, no person missed). Asserted exactly on frames 0-740 (people 1-3) to keep the
  file's run time down; the whole clip takes ~45 s on two cores.
* cars: one track per car at 5 fps with the right direction of travel, but NanoDet-g calls
  cars seen from above ``cell phone``, never ``car`` (known: see
  test_detector_on_real_video.py), so "vehicle tracks" is 0 of 4: a strict xfail records it.
  A static road arrow gives one more track (``kite``) that never moves; tracks are counted
  only when their box moved more than a tenth of the picture.
* highway: at 10 fps 12 of the 14 crossings of frames 0-1000 (25 of 27 on the whole clip),
  each within a few frames of the one seen by eye, no extra ones; the two missed are the
  large vans near the camera (the detector loses them for a frame as they reach the line and
  the new track starts past it). Two misses are allowed, no extra crossing. At the default
  5 fps only 3 of the 14 (6 of 27) are found: vehicles move 5-8 % of the height between
  analysed frames, one missed detection ends the track, and the new one starts past the line.
  A strict xfail records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from kupol.vision.analyze import analyze_video
from kupol.vision.config import CameraAnalytics
from kupol.vision.events import VisionEvent
from tests.conftest import need_data

pytestmark = [pytest.mark.data, pytest.mark.slow]

PEOPLE = [(60, 198), (228, 450), (502, 702), (746, 870), (922, 1200), (1234, 1360)]
PEOPLE_CHECKED_TO = 740
"""Analysis stops here (before person 4 walks in): people 1-3 are checked."""
CARS = [(56, 106, "up"), (182, 228, "down"), (190, 236, "up"), (314, 346, "down")]
HIGHWAY_CROSSINGS = [138, 252, 282, 358, 426, 669, 771, 805, 818, 846, 862, 884, 906, 987]
HIGHWAY_CHECKED_TO = 1000
HIGHWAY_LINE = {"name": "y60", "a": (0.0, 0.6), "b": (1.0, 0.6)}
"""Drawn left to right, so ``left_to_right`` is moving down the picture (towards the camera)."""
VEHICLES = {"car", "truck", "bus", "motorcycle"}


def run(
    clip: str,
    *,
    analysis_fps: float = 5.0,
    lines: Sequence[dict[str, Any]] = (),
    until_frame: int | None = None,
) -> list[VisionEvent]:
    """The pipeline's events on a shared clip, with track starts and ends.

    With ``until_frame`` the analysis stops at the first event past that frame.
    """
    config = CameraAnalytics.model_validate({"analysis_fps": analysis_fps, "lines": list(lines)})
    video = str(need_data("video", clip))
    events = []
    for event in analyze_video(video, config=config, track_events=True):
        if until_frame is not None and event.frame_index > until_frame:
            break
        events.append(event)
    return events


def centre_y(event: VisionEvent) -> float:
    assert event.box is not None
    return (event.box[1] + event.box[3]) / 2


@pytest.fixture(scope="module")
def people_events() -> list[VisionEvent]:
    return run("people-intel.mp4", until_frame=PEOPLE_CHECKED_TO)


@pytest.fixture(scope="module")
def cars_events() -> list[VisionEvent]:
    return run("cars-intel.mp4")


def moving_tracks(events: list[VisionEvent]) -> list[tuple[VisionEvent, VisionEvent]]:
    """(start, end) of each track whose box centre moved more than a tenth of the picture."""
    starts = {e.track_id: e for e in events if e.type == "track_start"}
    ends = {e.track_id: e for e in events if e.type == "track_end"}
    pairs = [(starts[t], ends[t]) for t in sorted(starts) if t in ends]
    return [(s, e) for s, e in pairs if abs(centre_y(e) - centre_y(s)) > 0.1]


def test_each_person_gets_exactly_one_person_track(people_events: list[VisionEvent]) -> None:
    starts = [e for e in people_events if e.type == "track_start" and e.object_class == "person"]
    checked = [p for p in PEOPLE if p[1] < PEOPLE_CHECKED_TO]
    assert len(checked) == 3
    # One track per person: none missed, none split into two tracks, none in an empty room.
    found = [
        [i for i, (enter, leave) in enumerate(checked) if enter <= s.frame_index <= leave]
        for s in starts
    ]
    assert found == [[0], [1], [2]], [(s.track_id, s.frame_index) for s in starts]
    # Each track ends after its person left (a track is kept 2 s unseen), before the next
    # person walks in: no track is handed from one person to the next.
    ends = {e.track_id: e.frame_index for e in people_events if e.type == "track_end"}
    next_enters = [p[0] for p in PEOPLE[1 : len(checked) + 1]]
    for (enter, leave), start, next_enter in zip(checked, starts, next_enters, strict=True):
        assert leave <= ends[start.track_id] <= next_enter, (enter, leave, ends)


def test_each_passing_car_gets_one_moving_track_going_its_way(
    cars_events: list[VisionEvent],
) -> None:
    tracks = moving_tracks(cars_events)
    assert len(tracks) == len(CARS), [(s.object_class, s.frame_index) for s, _ in tracks]
    for (start, end), (enter, leave, way) in zip(tracks, CARS, strict=True):
        assert enter <= start.frame_index <= leave, (start.frame_index, enter, leave)
        moved = "up" if centre_y(end) < centre_y(start) else "down"
        assert moved == way, (start.track_id, start.frame_index)


@pytest.mark.xfail(
    strict=True,
    reason="NanoDet-g calls cars seen from straight above 'cell phone': 0 of 4 vehicle tracks",
)
def test_cars_seen_from_above_are_tracked_as_vehicles(cars_events: list[VisionEvent]) -> None:
    classes = [s.object_class for s, _ in moving_tracks(cars_events)]
    assert sum(c in VEHICLES for c in classes) == len(CARS), classes


def crossings_on_highway(analysis_fps: float) -> list[VisionEvent]:
    events = run(
        "highway-cdnet.avi",
        analysis_fps=analysis_fps,
        lines=[HIGHWAY_LINE],
        until_frame=HIGHWAY_CHECKED_TO,
    )
    return [e for e in events if e.type == "line_cross"]


def matched(crossings: list[VisionEvent]) -> list[int]:
    """By-eye crossings each reported crossing answers (reported up to 10 frames before or
    20 after it: the event comes when the new side has been seen twice), one to one."""
    left = list(HIGHWAY_CROSSINGS)
    found = []
    for event in crossings:
        near = [f for f in left if -10 <= event.frame_index - f <= 20]
        assert near, f"crossing at frame {event.frame_index} seen by nobody"
        left.remove(near[0])
        found.append(near[0])
    return found


def test_highway_line_crossings_at_10_fps_match_the_count_by_eye() -> None:
    crossings = crossings_on_highway(10.0)

    assert {e.details["direction"] for e in crossings} == {"left_to_right"}
    assert {e.object_class for e in crossings} <= VEHICLES
    found = matched(crossings)  # each one a real crossing, none counted twice
    assert len(HIGHWAY_CROSSINGS) - 2 <= len(found) <= len(HIGHWAY_CROSSINGS), found


@pytest.mark.xfail(
    strict=True,
    reason="at 5 fps fast, near vehicles are lost for a frame at the line and re-found past it: "
    "3 of 14 crossings",
)
def test_highway_line_crossings_at_the_default_5_fps_match_the_count_by_eye() -> None:
    found = matched(crossings_on_highway(5.0))
    assert len(found) >= len(HIGHWAY_CROSSINGS) - 2, found
