"""The camera pipeline on rendered scenarios with exact ground truth.

A simulated detector (the truth with a real detector's jitter, misses and false positives)
stands in for NanoDet, which does not recognise coloured blocks as people: these tests are
about what the pipeline does with detections, the real-video tests about the detector.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from kupol.vision.config import CameraAnalytics
from kupol.vision.detections import PERSON, Detections
from kupol.vision.events import VisionEvent
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.scenario import (
    Actor,
    Scenario,
    ScenarioFrame,
    SimulatedDetector,
    Waypoint,
    left_bag,
    line_crossing,
    render,
    zone_dwell,
)
from kupol.vision.sources import Frame


class ScriptedDetector:
    """Answers for the scenario frame the test is about to process."""

    names = ()

    def __init__(self, simulated: SimulatedDetector) -> None:
        self.simulated = simulated
        self.frame: ScenarioFrame | None = None
        self.calls = 0

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        assert self.frame is not None
        self.calls += 1
        return self.simulated.detect(self.frame)


def run(scenario: Scenario, analytics: dict[str, Any], *, seed: int = 0) -> list[VisionEvent]:
    config = CameraAnalytics.model_validate(
        {
            "analysis_fps": scenario.fps,
            "zones": [z.model_dump() for z in scenario.zones],
            "lines": [line.model_dump() for line in scenario.lines],
            **analytics,
        }
    )
    detector = ScriptedDetector(
        SimulatedDetector(
            width=scenario.width, height=scenario.height, seed=seed, false_positives=0.05
        )
    )
    pipeline = CameraPipeline(config=config, detector=detector)  # type: ignore[arg-type]
    events: list[VisionEvent] = []
    last = None
    for shot in render(scenario):
        assert shot.image is not None
        detector.frame = shot
        frame = Frame(
            index=shot.frame_index,
            pts_s=shot.pts_s,
            image=shot.image,
            source_index=shot.frame_index,
        )
        events += pipeline.process(frame).events
        last = frame
    assert last is not None
    return events + pipeline.finish(last.pts_s, last.source_index)


ABANDONED = {"abandoned": {"min_static_s": 4.0, "unattended_s": 1.0}}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_suitcase_left_behind_is_reported_once_with_its_owner(seed: int) -> None:
    # The suitcase stays to the end: play the scene on for 30 s.
    scene = left_bag()
    suitcase = scene.actors[1]
    stays = replace(suitcase, path=(*suitcase.path, Waypoint(t=30.0, x=0.47, y=0.805)))
    events = run(
        replace(scene, duration_s=30.0, actors=(scene.actors[0], stays)),
        ABANDONED | {"zone_events": False},
        seed=seed,
    )

    alerts = [e for e in events if e.is_alert]
    assert [e.type for e in alerts] == ["abandoned_object"]
    left = alerts[0]
    # The owner sets it down at 5.5 s and walks off at 7 s: reported after both.
    assert left.pts_s > 9.0
    assert 4.0 <= left.details["appeared_s"] <= 7.5
    assert left.details["owner_track_id"] is not None
    assert left.details["owner_left_s"] >= 7.0
    assert left.object_class in {"suitcase", "object"}
    assert {f.label for f in left.evidence} == {"drop", "alert"}
    x1, _, x2, _ = left.box or (0, 0, 0, 0)
    assert x1 < 0.5 < x2 or abs((x1 + x2) / 2 - 0.5) < 0.06


def test_nothing_is_reported_while_the_owner_stays_beside_the_suitcase() -> None:
    base = left_bag()
    stays = Actor(
        id=1,
        class_id=PERSON,
        width=base.actors[0].width,
        height=base.actors[0].height,
        colour=base.actors[0].colour,
        path=(
            Waypoint(t=0.0, x=-0.05, y=0.8),
            Waypoint(t=5.5, x=0.5, y=0.8),
            Waypoint(t=30.0, x=0.5, y=0.8),
        ),
    )
    suitcase = base.actors[1]
    left = replace(suitcase, path=(*suitcase.path, Waypoint(t=30.0, x=0.47, y=0.805)))
    scenario = replace(base, duration_s=30.0, actors=(stays, left))

    events = run(scenario, ABANDONED)

    assert [e.type for e in events if e.is_alert] == []


def test_walking_into_a_restricted_zone_is_an_intrusion_with_a_snapshot() -> None:
    scenario = zone_dwell()
    restricted = tuple(z.model_copy(update={"kind": "restricted"}) for z in scenario.zones)

    events = run(replace(scenario, zones=restricted), {"abandoned": {"enabled": False}})

    intrusions = [e for e in events if e.type == "intrusion"]
    assert len(intrusions) == 1
    assert intrusions[0].zone == "bench"
    assert intrusions[0].pts_s == pytest.approx(4.5, abs=0.6)
    assert intrusions[0].evidence[0].label == "alert"


def test_staying_in_a_watched_zone_past_the_limit_is_loitering() -> None:
    events = run(
        zone_dwell(),
        {
            "abandoned": {"enabled": False},
            "loitering": {"enabled": True, "seconds": 5.0, "zones": ["bench"]},
        },
    )

    loitering = [e for e in events if e.type == "loitering"]
    assert len(loitering) == 1
    # In the zone from 4.5 s: five seconds later.
    assert loitering[0].pts_s == pytest.approx(9.5, abs=0.8)
    assert loitering[0].details["dwell_s"] >= 5.0


def test_a_short_stay_is_not_loitering() -> None:
    events = run(
        zone_dwell(),
        {
            "abandoned": {"enabled": False},
            "loitering": {"enabled": True, "seconds": 10.0, "zones": ["bench"]},
        },
    )

    assert [e for e in events if e.type == "loitering"] == []


def test_zone_entries_exits_and_line_crossings_match_the_script() -> None:
    dwell = run(zone_dwell(), {"abandoned": {"enabled": False}})
    crossing = run(line_crossing(), {"abandoned": {"enabled": False}})

    enters = [e for e in dwell if e.type == "zone_enter"]
    exits = [e for e in dwell if e.type == "zone_exit"]
    assert len(enters) == len(exits) == 1
    assert enters[0].pts_s == pytest.approx(4.5, abs=0.6)
    assert exits[0].pts_s == pytest.approx(11.5, abs=0.6)
    assert exits[0].details["dwell_s"] == pytest.approx(7.0, abs=1.0)
    directions = sorted(e.details["direction"] for e in crossing if e.type == "line_cross")
    assert directions == ["left_to_right", "right_to_left", "right_to_left"]


def test_a_crowd_is_reported_once_when_enough_people_stay_long_enough() -> None:
    people = tuple(
        Actor(
            id=i,
            class_id=PERSON,
            width=24,
            height=60,
            colour=(40 + 20 * i, 80, 200 - 15 * i),
            path=(
                Waypoint(t=0.0, x=0.08 * i + 0.1, y=0.5),
                Waypoint(t=12.0, x=0.08 * i + 0.12, y=0.5),
            ),
        )
        for i in range(8)
    )
    scenario = Scenario(name="crowd-still", actors=people, duration_s=12.0)

    events = run(
        scenario,
        {"abandoned": {"enabled": False}, "crowd": {"enabled": True, "min_count": 6, "hold_s": 3}},
    )

    crowds = [e for e in events if e.type == "crowd"]
    assert len(crowds) == 1
    assert crowds[0].details["count"] >= 6
    assert 3.0 <= crowds[0].pts_s <= 6.0


def test_detecting_every_second_frame_keeps_the_same_crossings() -> None:
    quiet = {"abandoned": {"enabled": False}, "motion": {"enabled": False}}
    every = run(line_crossing(), quiet)
    halved = run(line_crossing(), {**quiet, "detect_every": 2})

    def directions(events: list[VisionEvent]) -> list[str]:
        return sorted(e.details["direction"] for e in events if e.type == "line_cross")

    assert (
        directions(halved)
        == directions(every)
        == ["left_to_right", "right_to_left", "right_to_left"]
    )
