"""Hostile input through the API, on SQLite: file names and paths that try to climb out of the
evidence, tile and static folders; uploads over their limits; photos and videos that are cut
short, carry a corrupt EXIF block or claim 64 megapixels; and CSV imports, registry snapshots
and docking sidecars mutated at random. Each is answered or refused with a problem document
— never a server error — and nothing is written or read outside the folders meant for it."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.schools.generator import GeneratorConfig, generate_region
from tests.conftest import make_settings
from tests.integration.test_api_plates_hotlists import CSV as HOTLIST
from tests.integration.test_api_traffic_review import REGISTRY
from tests.integration.test_citizens import DEVICE, report, sign_in
from tests.integration.test_evidence_vault import CLIP
from tests.unit.citizens.test_media_fuzz import JPEG, MP4, exif_overwritten, png_bomb
from tests.unit.factories import fast_passwords, login_as
from tests.unit.fuzzing import FUZZ, hostile, json_mutated

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
API = settings(FUZZ, max_examples=50)
SECRET = b"kupol-secret-outside-the-folder"
CLIMBS = ["../secret.txt", "..\\secret.txt", "/etc/passwd", "a/../../secret.txt",
          "....//....//secret.txt", "%2e%2e/secret.txt", "..", ".", "", " ", "a\\..\\..\\b",
          "x" * 300 + ".mp4"]  # fmt: skip
"""File names that try to leave their folder, or are no names."""


@dataclasses.dataclass
class Hostile:
    api: TestClient
    container: Container
    root: Path
    staff: dict[str, str]


@pytest.fixture
def hostile_api(tmp_path: Path, sqlite_url: str) -> Iterator[Hostile]:
    """The app with small limits (1 MB of media, 2 MB of evidence), a tile folder beside a
    secret file, and a user holding every staff role."""
    tiles = tmp_path / "tiles"
    (tiles / "1" / "0").mkdir(parents=True)
    (tiles / "1" / "0" / "0.png").write_bytes(png_bomb(1, 1))
    (tmp_path / "secret.txt").write_bytes(SECRET)
    container = build_container(
        make_settings(
            database_url=sqlite_url, data_dir=tmp_path / "data",
            citizens={"max_media_mb": 1}, evidence={"max_upload_bytes": 2_000_000},
            server={"map_tiles": str(tiles)},
        )
    )  # fmt: skip
    with TestClient(create_app(container)) as api:
        staff = login_as(api, container, "hostile", "admin", "operator", "investigator",
                         "traffic_officer", "analyst")  # fmt: skip
        yield Hostile(api=api, container=container, root=tmp_path, staff=staff)
    container.db.dispose()


def assert_refused_or_done(response: Any, *done: int) -> None:
    """A success in ``done``, or a 4xx problem document; never a server error."""
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400 and response.status_code not in (404, 405, 412):
        assert response.headers["content-type"].startswith("application/problem+json")
    elif response.status_code < 400:
        assert response.status_code in done, response.text[:500]


def files_outside(root: Path, data: Path) -> set[Path]:
    """Files under ``root`` but not under the data folder (where kupol writes)."""
    return {p for p in root.rglob("*") if p.is_file() and data not in p.parents}


# Paths -------------------------------------------------------------------------------------


def test_tile_and_static_paths_never_leave_their_folders(hostile_api: Hostile) -> None:
    api = hostile_api.api
    assert api.get("/tiles/1/0/0.png").status_code == 200
    for path in (
        "/tiles/1/0/../../secret.txt", "/tiles/1/0/..%2f..%2f..%2fsecret.txt.png",
        "/tiles/-1/0/0.png", "/tiles/99/0/0.png", "/tiles/1/-1/0.png", f"/tiles/1/{2**70}/0.png",
        "/tiles/1/0/%2e%2e.png", "/static/../secret.txt", "/static/..%2f..%2fsecret.txt",
        "/static/%2e%2e/%2e%2e/bootstrap.py", "/static/..%5c..%5cbootstrap.py",
        "/static/" + "%2e%2e/" * 12 + "etc/passwd", "/static/app.css%00.py",
    ):  # fmt: skip
        response = api.get(path)
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        assert SECRET not in response.content and b"import " not in response.content


def test_an_evidence_file_name_is_kept_as_a_plain_name(hostile_api: Hostile) -> None:
    api, before = hostile_api.api, files_outside(hostile_api.root, hostile_api.root / "data")
    for n, name in enumerate(CLIMBS):
        response = api.post("/api/evidence", headers=hostile_api.staff,
                            files={"file": (name, CLIP + bytes([n]), "video/mp4")})  # fmt: skip
        assert_refused_or_done(response, 201, 200)
        if response.status_code < 300:
            stored = response.json()["filename"]
            assert "/" not in stored and "\\" not in stored and stored not in ("..", ".")
    assert files_outside(hostile_api.root, hostile_api.root / "data") == before


def test_a_docked_folder_s_file_names_never_climb_out(hostile_api: Hostile) -> None:
    before = files_outside(hostile_api.root, hostile_api.root / "data")
    sidecar = json.dumps({"device_id": "badge-1"}).encode()
    files = []
    for n, name in enumerate(CLIMBS):
        files.append(("files", (name, CLIP + bytes([n]), "video/mp4")))
        files.append(("files", (name.rsplit(".", 1)[0] + ".json", sidecar, "application/json")))
    response = hostile_api.api.post("/api/evidence/dock", files=files, headers=hostile_api.staff)
    assert_refused_or_done(response, 200)
    assert files_outside(hostile_api.root, hostile_api.root / "data") == before


def test_a_resumable_upload_s_file_name_is_a_plain_name(hostile_api: Hostile) -> None:
    import base64

    for name in CLIMBS:
        value = base64.b64encode(name.encode()).decode()
        response = hostile_api.api.post(
            "/api/evidence/uploads",
            headers={**hostile_api.staff, "Tus-Resumable": "1.0.0", "Upload-Length": "10",
                     "Upload-Metadata": f"filename {value},filetype dmlkZW8vbXA0"},
        )  # fmt: skip
        assert response.status_code in (201, 422), (name, response.text)


# Limits ------------------------------------------------------------------------------------


def test_uploads_over_their_limits_are_refused(hostile_api: Hostile) -> None:
    api, staff = hostile_api.api, hostile_api.staff
    citizen = sign_in(api, hostile_api.container, "+77015550102")
    big_photo = JPEG + bytes(1 << 20)  # a valid JPEG start, over the 1 MB limit
    refused = report(api, citizen, big_photo)
    assert refused.status_code == 422 and "MB" in refused.json()["detail"]  # type: ignore[attr-defined]
    over = CLIP + bytes(2_000_001)
    response = api.post("/api/evidence", headers=staff, files={"file": ("big.mp4", over)})
    assert response.status_code == 422 and "bytes" in response.json()["detail"]
    response = api.post("/api/evidence/dock", headers=staff,
                        files=[("files", ("big.mp4", over, "video/mp4"))])  # fmt: skip
    assert response.status_code == 422
    tus = {**staff, "Tus-Resumable": "1.0.0", "Upload-Length": str(2_000_001)}
    response = api.post("/api/evidence/uploads", headers=tus)
    assert 400 <= response.status_code < 500


def test_numbers_and_dates_beyond_any_real_one_are_refused(hostile_api: Hostile) -> None:
    api, staff = hostile_api.api, hostile_api.staff
    response = api.post(f"/api/alerts/{10**20}/acknowledge", headers=staff)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "alert_id"
    why = {**staff, "X-Purpose": "monthly helpers' report"}
    response = api.get("/api/helpers/activity?month=0001-01-01", headers=why)
    assert response.status_code == 422 and response.json()["code"] == "out_of_range"
    response = api.post("/api/evidence/export", headers=why, json={"item_ids": [10**20]})
    assert response.status_code == 422


# Media -------------------------------------------------------------------------------------


def test_malformed_media_are_taken_or_refused_in_time(hostile_api: Hostile) -> None:
    api = hostile_api.api
    citizen = sign_in(api, hostile_api.container, "+77015550103")
    for data, kind in (
        (MP4[: len(MP4) // 3], "video/mp4"), (MP4[:40], "video/mp4"), (png_bomb(), "image/png"),
        (JPEG[: len(JPEG) // 2], "image/jpeg"), (exif_overwritten(), "image/jpeg"),
    ):  # fmt: skip
        started = time.monotonic()
        response = api.post(
            "/api/citizen/reports", headers=citizen,
            data={"kind": "traffic_violation", "description": "Red light", "device_id": DEVICE,
                  "lat": "51.1283", "lon": "71.4305"},
            files=[("files", ("m", data, kind))],
        )  # fmt: skip
        assert_refused_or_done(response, 201)
        assert time.monotonic() - started < 10, kind


# Imports, mutated --------------------------------------------------------------------------


@API
@given(data=hostile(HOTLIST))
def test_a_hostile_hotlist_csv_is_imported_or_refused(hostile_api: Hostile, data: bytes) -> None:
    api, staff = hostile_api.api, hostile_api.staff
    listing = api.post("/api/plates/hotlists", headers=staff,
                       json={"name": "fuzz", "kind": "stolen", "fuzzy": False})  # fmt: skip
    hotlist = listing.json()["id"] if listing.status_code == 201 else 1
    response = api.post(f"/api/plates/hotlists/{hotlist}/import", headers=staff,
                        files={"file": ("h.csv", data, "text/csv")})  # fmt: skip
    assert_refused_or_done(response, 200)


@API
@given(data=hostile(REGISTRY.encode()))
def test_a_hostile_vehicle_registry_csv_is_imported_or_refused(
    hostile_api: Hostile, data: bytes
) -> None:
    response = hostile_api.api.post("/api/traffic/registry/import", headers=hostile_api.staff,
                                    files={"file": ("r.csv", data, "text/csv")})  # fmt: skip
    assert_refused_or_done(response, 200)


def small_snapshot() -> dict[str, Any]:
    """Two schools of a synthetic region and a few of each of their records, as JSON."""
    config = GeneratorConfig(schools=12, median_cadets=2, examiners_per_region=1, years=1)
    region = generate_region(seed=3, config=config)
    plain = json.loads(json.dumps(dataclasses.asdict(region.data), default=str))
    plain.pop("as_of")
    schools = {s["id"] for s in plain["schools"][:2]}
    return {
        kind: [r for r in records if r.get("school_id", r.get("id")) in schools][:3]
        if kind == "schools" or (records and "school_id" in records[0])
        else records[:3]
        for kind, records in plain.items()
    }


SNAPSHOT = small_snapshot()


@API
@given(bundle=json_mutated(SNAPSHOT))
def test_a_mutated_registry_snapshot_is_imported_or_refused(
    hostile_api: Hostile, bundle: Any
) -> None:
    response = hostile_api.api.post("/api/schools/import", headers=hostile_api.staff, json=bundle)
    assert_refused_or_done(response, 200)


SIDECAR = {
    "device_id": "badge-0042",
    "officer": "patrol",
    "started_at": "2026-12-03T08:00:00+05:00",
    "ended_at": "2026-12-03T08:30:00+05:00",
    "case_number": "KUI-1",
    "gps": [[51.128, 71.43, "2026-12-03T08:00:05+05:00"]],
}


@API
@given(sidecar=json_mutated(SIDECAR) | st.just([[[[[[]]]]]]), n=st.integers(0, 2**32))
def test_a_docked_clip_with_a_hostile_sidecar_is_imported_or_refused(
    hostile_api: Hostile, sidecar: Any, n: int
) -> None:
    files = [("files", ("a.mp4", CLIP + n.to_bytes(5, "big"), "video/mp4")),
             ("files", ("a.json", json.dumps(sidecar).encode(), "application/json"))]  # fmt: skip
    response = hostile_api.api.post("/api/evidence/dock", files=files, headers=hostile_api.staff)
    assert_refused_or_done(response, 200)


def test_a_sidecar_nested_too_deeply_is_refused_with_its_reason(hostile_api: Hostile) -> None:
    files = [("files", ("a.mp4", CLIP, "video/mp4")),
             ("files", ("a.json", b"[" * 100_000, "application/json"))]  # fmt: skip
    response = hostile_api.api.post("/api/evidence/dock", files=files, headers=hostile_api.staff)
    assert response.status_code == 200
    assert "nested too deeply" in response.json()["refused"][0]["reason"]
