"""Camera shapes: what a valid camera is, and which field is wrong when it is not."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kupol.cameras.schemas import CameraCreate, CameraUpdate
from tests.conftest import demo_camera

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]


def invalid_fields(model: type[Any], body: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def test_a_minimal_camera_is_valid_and_fixed_and_enabled_by_default() -> None:
    camera = CameraCreate.model_validate(demo_camera())

    assert camera.kind == "fixed"
    assert camera.enabled
    assert camera.zones == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "Cam_01"}, "id"),
        ({"id": "-cam"}, "id"),
        ({"id": "c"}, "id"),
        ({"latitude": 90.5}, "latitude"),
        ({"longitude": -181}, "longitude"),
        ({"heading_deg": 360}, "heading_deg"),
        ({"kind": "satellite"}, "kind"),
        ({"region_code": "21"}, "region_code"),
        ({"stream_url": "ftp://cam.local/stream"}, "stream_url"),
        ({"stream_url": "javascript:alert(1)"}, "stream_url"),
        (
            {"zones": [{"name": "road", "polygon": SQUARE}, {"name": "road", "polygon": SQUARE}]},
            "zones",
        ),
        ({"zones": [{"name": "road", "polygon": [[0, 0], [1, 1]]}]}, "zones.0.polygon"),
        (
            {"zones": [{"name": "road", "polygon": [[0, 0], [1.5, 0], [1, 1]]}]},
            "zones.0.polygon.1.0",
        ),
        ({"owner": "someone"}, "owner"),
    ],
)
def test_an_invalid_camera_names_the_wrong_field(fields: dict[str, Any], field: str) -> None:
    assert field in invalid_fields(CameraCreate, demo_camera(**fields))


@pytest.mark.parametrize(
    "url", ["rtsp://10.0.0.1/1", "https://cam/mjpg", "/srv/video.mp4", "file:///srv/video.mp4"]
)
def test_known_stream_url_schemes_are_accepted(url: str) -> None:
    assert CameraCreate.model_validate(demo_camera(stream_url=url)).stream_url == url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream_url": "ftp://cam.local/stream"}, "stream_url"),
        ({"zones": [{"name": "a", "polygon": SQUARE}, {"name": "a", "polygon": SQUARE}]}, "zones"),
        ({"latitude": -91}, "latitude"),
        ({"name": None}, "name"),
        ({"latitude": None}, "latitude"),
        ({"enabled": None}, "enabled"),
        ({"id": "new-id"}, "id"),
    ],
)
def test_an_update_is_checked_like_a_new_camera(body: dict[str, Any], field: str) -> None:
    assert field in invalid_fields(CameraUpdate, body)


def test_an_update_may_clear_the_optional_fields() -> None:
    changes = CameraUpdate.model_validate({"stream_url": None, "heading_deg": None})

    assert changes.model_dump(exclude_unset=True) == {"stream_url": None, "heading_deg": None}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:p@ss@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        ("rtsp://admin:pa/ss@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        ("http://cam/snap?user=admin&pwd=secret&ch=2", "http://cam/snap?user=***&pwd=***&ch=2"),
        ("rtsp://10.0.0.5:554/live", "rtsp://10.0.0.5:554/live"),
    ],
)
def test_stream_credentials_never_show_even_when_oddly_written(url: str, shown: str) -> None:
    from kupol.cameras.schemas import redact_url

    assert redact_url(url) == shown
