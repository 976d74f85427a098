"""Cloned plates: only sightings no vehicle could drive between raise a suspicion."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import kupol.plates.cloned as cloned
from kupol.plates.cloned import Sighting, distance_km, implausible

T = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ASTANA = (51.1283, 71.4305)
KARAGANDA = (49.8047, 73.1094)  # about 190 km from Astana


def seen(place: tuple[float, float], minutes: float, camera: str = "cam") -> Sighting:
    return Sighting(
        plate="123ABC01",
        camera_id=camera,
        latitude=place[0],
        longitude=place[1],
        at=T + timedelta(minutes=minutes),
    )


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(cloned).failed == 0


def test_distance_between_astana_and_karaganda() -> None:
    assert distance_km(seen(ASTANA, 0), seen(KARAGANDA, 0)) == pytest.approx(190, abs=5)


@pytest.mark.parametrize(
    ("minutes", "suspicious"),
    [(30, True), (55, True), (65, False), (180, False)],  # 190 km: 200 km/h takes 57 min
)
def test_a_plate_in_two_cities_too_soon_is_suspicious(minutes: float, suspicious: bool) -> None:
    result = implausible(seen(ASTANA, 0), seen(KARAGANDA, minutes))
    assert (result is not None) is suspicious


def test_order_does_not_matter_and_the_suspicion_says_why() -> None:
    result = implausible(seen(KARAGANDA, 20, "kar"), seen(ASTANA, 0, "ast"))
    assert result is not None
    assert (result.first.camera_id, result.second.camera_id) == ("ast", "kar")
    assert result.needed_speed_kmh > 200


def test_nearby_cameras_and_camera_clocks_get_the_benefit_of_the_doubt() -> None:
    near = (ASTANA[0] + 0.005, ASTANA[1])  # about 550 m away, seen in the same second
    assert implausible(seen(ASTANA, 0), seen(near, 0)) is None
    # 3 km in 20 s looks like 540 km/h, but a minute of clock difference makes it plausible.
    far = (ASTANA[0] + 0.027, ASTANA[1])
    assert implausible(seen(ASTANA, 0), seen(far, 20 / 60)) is None
    assert implausible(seen(ASTANA, 0), seen(far, 20 / 60), clock_skew_s=0) is not None


def test_different_plates_are_refused() -> None:
    other = Sighting(plate="777KKK17", camera_id="x", latitude=0, longitude=0, at=T)
    with pytest.raises(ValueError, match="different plates"):
        implausible(seen(ASTANA, 0), other)


def test_the_deployments_settings_decide_what_is_a_possible_clone(tmp_path: Path) -> None:
    """``[plates]`` max_speed_kmh, clone_min_distance_km and clone_clock_skew_s reach the
    store and the route view."""
    from kupol.bootstrap import build_container
    from kupol.plates.cloned import ClonePolicy
    from tests.conftest import make_settings

    far = (ASTANA[0] + 0.027, ASTANA[1])  # 3 km, seen 20 s apart
    strict = ClonePolicy(clock_skew_s=0)
    assert strict.judge(seen(ASTANA, 0), seen(far, 20 / 60)) is not None
    assert ClonePolicy().judge(seen(ASTANA, 0), seen(far, 20 / 60)) is None
    wide = ClonePolicy(min_distance_km=500)
    assert wide.judge(seen(ASTANA, 0), seen(KARAGANDA, 20)) is None
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'k.sqlite'}", data_dir=tmp_path / "data",
        plates={"max_speed_kmh": 120, "clone_min_distance_km": 5, "clone_clock_skew_s": 10},
    )  # fmt: skip
    container = build_container(settings)
    try:
        for part in (container.plate_store, container.plates):
            assert part._clones == ClonePolicy(
                max_speed_kmh=120, min_distance_km=5, clock_skew_s=10
            )
    finally:
        container.db.dispose()
