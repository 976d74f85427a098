"""A vehicle's route exported to the evidence vault: the document, its crops, the audit record,
who may export, and the API and CLI on top."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth import Permission, Principal, Role
from kupol.core.auth.permissions import PERMISSIONS
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from kupol.evidence.model import EvidenceItem
from kupol.plates import casefile
from kupol.plates.messages import PlateObserved
from kupol.plates.queries import PlateQueries
from kupol.plates.store import PlateStore
from tests.conftest import add_user, make_settings
from tests.unit.factories import audit_of, login_as
from tests.unit.plates.test_sightings import CAMERAS, WHY, T, plates
from tests.unit.test_cli import Kupol, kupol

__all__ = ["kupol", "plates"]
CASE = "КУИ-2026-0412"
WINDOW = {"since": T, "until": T + timedelta(hours=2)}


def cropped(
    container: Container, plate: str, camera: str, minutes: float, shade: int | None
) -> PlateObserved:
    """A read of ``plate``; with a crop (its own pixels, so its own SHA-256) unless ``shade``
    is None."""
    at = T + timedelta(minutes=minutes)
    crop = None
    if shade is not None:
        image = np.full((20, 60, 3), shade, np.uint8)
        crop = container.plate_domain.files.save_crop(image, camera_id=camera, at=at)
    return PlateObserved(
        camera_id=camera, plate=plate, seen_at=at, confidence=0.9, direction="north",
        crop_uri=crop.uri if crop else None, crop_sha256=crop.sha256 if crop else None,
    )  # fmt: skip


def items(container: Container) -> list[EvidenceItem]:
    with container.db.reader() as session:
        return list(session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)))


def export(container: Container, actor: Principal, **changes: Any) -> casefile.ExportedRoute:
    arguments: dict[str, Any] = {"plate": "123 ABC 01", "case_number": CASE, **WINDOW, **changes}
    return container.plate_case_files.export(actor=actor, why=WHY, **arguments)


def test_a_route_goes_to_the_vault_in_order_with_its_crops_and_one_audit_record(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    store.record(
        [
            cropped(container, "123ABC01", "ast-2", 12, shade=40),
            cropped(container, "123ABC01", "ast-1", 0, shade=20),
            cropped(container, "123ABC01", "kar-1", 40, shade=None),  # 190 km in 28 minutes
            cropped(container, "999XYZ01", "ast-1", 5, shade=60),
        ]
    )
    investigator = add_user(container, "inv", "investigator")[0]

    result = export(container, investigator)

    assert (result.plate, result.case_number, result.sightings) == ("123ABC01", CASE, 3)
    assert (result.legs, result.possible_clones, result.crops) == (2, 1, 2)
    assert not result.crops_truncated and (result.crops_missing, result.crop_mismatches) == (0, 0)
    stored = items(container)
    # The crops first, in the route's order, then the document.
    assert [i.id for i in stored] == [*result.crop_items, result.evidence_item]
    *photos, file = stored
    assert [(i.category, i.media_type, i.case_number) for i in photos] == [
        ("photo", "image/jpeg", CASE)
    ] * 2
    assert "123ABC01" in (photos[0].description or "") and "ast-1" in (photos[0].description or "")
    assert (file.category, file.media_type, file.case_number) == (
        "document",
        "application/json",
        CASE,
    )
    assert re.fullmatch(r"vehicle-route-123ABC01-\d{8}T\d{6}Z\.json", file.filename)
    data = container.evidence.read_bytes(result.evidence_item)
    assert hashlib.sha256(data).hexdigest() == result.sha256 == file.sha256

    document = json.loads(data)
    assert document["format"] == "kupol-vehicle-route/1"
    assert (document["plate"], document["case_number"]) == ("123ABC01", CASE)
    assert (document["plate_kind"], document["region"]) == ("kz_individual", "01")
    assert (document["exported_by"], document["purpose"]) == ("inv", WHY.purpose)
    assert document["window"] == {
        "since": T.isoformat(),
        "until": (T + timedelta(hours=2)).isoformat(),
    }
    sightings = document["sightings"]
    assert [s["camera_id"] for s in sightings] == ["ast-1", "ast-2", "kar-1"]
    assert [s["seen_at"] for s in sightings] == [
        (T + timedelta(minutes=m)).isoformat() for m in (0, 12, 40)
    ]
    assert sightings[0]["latitude"] == CAMERAS["ast-1"][0] and sightings[0]["direction"] == "north"
    # Each crop: its item in the vault, whose bytes are the ones recorded at capture.
    for sighting, photo in zip(sightings[:2], photos, strict=True):
        crop = sighting["crop"]
        assert crop["status"] == "ingested" and crop["evidence_item"] == photo.id
        assert crop["sha256"] == photo.sha256 == sighting["crop_sha256"]
        assert crop["sha256_matches"] is True
        assert hashlib.sha256(container.evidence.read_bytes(photo.id)).hexdigest() == photo.sha256
    assert sightings[2]["crop"] is None and sightings[2]["crop_sha256"] is None
    assert [(leg["from_camera"], leg["to_camera"]) for leg in document["legs"]] == [
        ("ast-1", "ast-2"), ("ast-2", "kar-1")
    ]  # fmt: skip
    assert document["legs"][0]["needed_speed_kmh"] is None
    assert document["legs"][1]["to_sighting"] == sightings[2]["id"]
    [clone] = document["possible_clones"]
    assert (clone["leg"], clone["first_camera"], clone["second_camera"]) == (1, "ast-2", "kar-1")
    assert clone["needed_speed_kmh"] > 200
    assert (document["crops_total"], document["crops_exported"]) == (2, 2)
    assert not document["crops_truncated"] and document["crop_mismatches"] == []

    # The route read as a route view with the purpose, then one export record.
    [view] = audit_of(container, "plate_sighting")
    assert (view.action, view.resource_id, view.purpose) == ("route", "123ABC01", WHY.purpose)
    assert view.case_number == CASE  # read for the case it was exported to
    [record] = audit_of(container, "vehicle_route")
    assert (record.actor, record.action, record.resource_id) == ("inv", "export", "123ABC01")
    assert record.details["evidence_item"] == result.evidence_item
    assert record.details["crop_items"] == list(result.crop_items)
    assert record.details["purpose"] == WHY.purpose and record.details["sightings"] == 3


def test_a_crop_changed_or_gone_since_capture_is_said_so_not_passed_off(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    changed = cropped(container, "123ABC01", "ast-1", 0, shade=20)
    gone = cropped(container, "123ABC01", "ast-2", 12, shade=40)
    store.record([changed, gone])
    files = container.plate_domain.files
    assert changed.crop_uri and gone.crop_uri
    files.path(changed.crop_uri).write_bytes(b"not the picture the camera took")
    files.delete(gone.crop_uri)
    officer = add_user(container, "officer", "traffic_officer")[0]

    result = export(container, officer)

    assert (result.crops, result.crops_missing, result.crop_mismatches) == (1, 1, 1)
    document = json.loads(container.evidence.read_bytes(result.evidence_item))
    first, second = document["sightings"]
    assert first["crop"]["sha256_matches"] is False
    assert first["crop_sha256"] == changed.crop_sha256 != first["crop"]["sha256"]
    assert first["crop"]["sha256"] == hashlib.sha256(b"not the picture the camera took").hexdigest()
    assert document["crop_mismatches"] == [first["id"]]
    assert second["crop"]["status"] == "missing" and second["crop"]["evidence_item"] is None
    photo = items(container)[0]
    assert "differs from the one recorded at capture" in (photo.description or "")


def test_a_second_case_gets_the_crops_the_vault_holds_already_counted_as_such(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    store.record([cropped(container, "123ABC01", "ast-1", 0, shade=20)])
    investigator = add_user(container, "inv", "investigator")[0]
    first = export(container, investigator)
    second = export(container, investigator, case_number="КУИ-2026-0999")
    assert (first.crops, first.crops_already_in_vault) == (1, 0)
    assert (second.crops, second.crops_already_in_vault) == (1, 1)
    assert second.crop_items == first.crop_items  # the vault's one item, under the first case
    assert casefile.MAX_CROPS + 1 <= casefile.MAX_EXPORT  # a route fits one export package


def test_at_most_the_cap_of_crops_go_in_those_of_an_impossible_leg_first(
    container: Container, plates: tuple[PlateStore, PlateQueries], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(casefile, "MAX_CROPS", 2)
    store, _ = plates
    store.record(
        [
            cropped(container, "123ABC01", "ast-1", 0, shade=10),
            cropped(container, "123ABC01", "ast-2", 12, shade=20),
            cropped(container, "123ABC01", "ast-1", 30, shade=30),
            cropped(container, "123ABC01", "kar-1", 40, shade=40),  # 190 km in 10 minutes
        ]
    )
    officer = add_user(container, "officer", "operator")[0]

    result = export(container, officer)

    assert result.crops == 2 and result.crops_truncated
    document = json.loads(container.evidence.read_bytes(result.evidence_item))
    statuses = [s["crop"]["status"] for s in document["sightings"]]
    assert statuses == ["not_exported", "not_exported", "ingested", "ingested"]
    assert document["crops_truncated"] and document["crops_limit"] == 2
    assert (document["crops_total"], document["crops_exported"]) == (4, 2)
    assert all(s["crop_sha256"] for s in document["sightings"])
    assert len(items(container)) == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_who_sees_routes_and_puts_evidence_in_the_vault_exports(
    container: Container, plates: tuple[PlateStore, PlateQueries], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = plates
    store.record([cropped(container, "123ABC01", "ast-1", 0, shade=20)])
    analyst = add_user(container, "cyber", "fraud_analyst")[0]  # may ingest, not see plates
    with pytest.raises(PermissionDeniedError, match=r"plates\.search"):
        export(container, analyst)
    officer = add_user(container, "officer", "traffic_officer")[0]
    without = PERMISSIONS[Permission.EVIDENCE_INGEST] - {Role.TRAFFIC_OFFICER}
    monkeypatch.setitem(PERMISSIONS, Permission.EVIDENCE_INGEST, without)
    with pytest.raises(PermissionDeniedError, match=r"evidence\.ingest"):
        export(container, officer)
    assert items(container) == []
    assert audit_of(container, "plate_sighting") == audit_of(container, "vehicle_route") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "changes",
    [
        {"case_number": "  "},
        {"case_number": "x" * 65},
        {"case_number": "КУИ\n412"},
        {"since": datetime(2026, 11, 25, 8, 0)},
        {"until": T},
        {"plate": " - "},
    ],
    ids=["blank case", "long case", "control character", "naive time", "empty window", "no plate"],
)
def test_a_bad_case_number_window_or_plate_is_refused_before_anything_is_read(
    container: Container, plates: tuple[PlateStore, PlateQueries], changes: dict[str, Any]
) -> None:
    store, _ = plates
    store.record([cropped(container, "123ABC01", "ast-1", 0, shade=20)])
    investigator = add_user(container, "inv", "investigator")[0]
    with pytest.raises(InvalidInputError):
        export(container, investigator, **changes)
    assert items(container) == [] and audit_of(container, "plate_sighting") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_plate_not_seen_in_the_window_has_nothing_to_export(
    container: Container, plates: tuple[PlateStore, PlateQueries]
) -> None:
    store, _ = plates
    store.record([cropped(container, "123ABC01", "ast-1", 0, shade=20)])
    investigator = add_user(container, "inv", "investigator")[0]
    with pytest.raises(NotFoundError):
        export(container, investigator, plate="777KKK17")
    with pytest.raises(NotFoundError):
        export(container, investigator, since=T + timedelta(minutes=1))
    assert items(container) == [] and audit_of(container, "vehicle_route") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_exports_a_route_with_a_purpose_for_who_may_ingest_evidence(
    container: Container, plates: tuple[PlateStore, PlateQueries], api: Any
) -> None:
    store, _ = plates
    store.record(
        [
            cropped(container, "123ABC01", "ast-1", 0, shade=20),
            cropped(container, "123ABC01", "kar-1", 20, shade=None),
        ]
    )
    officer = login_as(api, container, "officer", "traffic_officer")
    analyst = login_as(api, container, "analyst", "analyst")
    purpose = {"X-Purpose": WHY.purpose}
    body = {
        "plate": "123ABC01",
        "since": T.isoformat(),
        "until": (T + timedelta(hours=1)).isoformat(),
        "case_number": CASE,
    }
    url = "/api/plates/route/export"
    assert api.post(url, json=body, headers=officer).status_code == 428
    assert api.post(url, json=body, headers={**analyst, **purpose}).status_code == 403
    made = api.post(url, json=body, headers={**officer, **purpose})
    assert made.status_code == 201, made.text
    exported = made.json()
    assert (exported["sightings"], exported["possible_clones"], exported["crops"]) == (2, 1, 1)
    assert exported["case_number"] == CASE and len(exported["crop_items"]) == 1
    item = api.get(f"/api/evidence/{exported['evidence_item']}", headers={**officer, **purpose})
    assert item.json()["sha256"] == exported["sha256"]
    assert item.json()["category"] == "document"

    elsewhere = {**body, "plate": "777KKK17"}
    assert api.post(url, json=elsewhere, headers={**officer, **purpose}).status_code == 404
    naive = {**body, "since": "2026-11-25T08:00"}
    assert api.post(url, json=naive, headers={**officer, **purpose}).status_code == 422
    extra = {**body, "hours": 2}
    assert api.post(url, json=extra, headers={**officer, **purpose}).status_code == 422
    control = {**body, "case_number": "A\tB"}
    assert api.post(url, json=control, headers={**officer, **purpose}).status_code == 422


def test_a_route_is_exported_from_the_command_line(
    kupol: Kupol, sqlite_url: str, tmp_path: Path
) -> None:
    seeded = build_container(make_settings(database_url=sqlite_url, data_dir=tmp_path))
    try:
        for camera_id, (lat, lon) in CAMERAS.items():
            seeded.cameras.register(
                camera=CameraCreate(id=camera_id, name=camera_id, latitude=lat, longitude=lon),
                actor=SYSTEM,
            )
        seeded.plate_store.record([cropped(seeded, "123ABC01", "ast-1", 0, shade=20)])
    finally:
        seeded.db.dispose()
    assert kupol("users", "add", "officer", "--role", "traffic_officer").exit_code == 0
    assert kupol("users", "add", "cyber", "--role", "fraud_analyst").exit_code == 0
    window = ("--since", "2026-11-25T07:00", "--until", "2026-11-25T09:00")
    args = ("--purpose", WHY.purpose, *window)

    made = kupol("plates", "export-route", "123ABC01", "--as", "officer", "--case", CASE, *args)

    assert made.exit_code == 0, made.output
    exported = json.loads(made.stdout)
    assert (exported["plate"], exported["case_number"], exported["crops"]) == ("123ABC01", CASE, 1)
    refused = kupol("plates", "export-route", "123ABC01", "--as", "cyber", "--case", CASE, *args)
    assert refused.exit_code == 6, refused.output
    unseen = kupol("plates", "export-route", "777KKK17", "--as", "officer", "--case", CASE, *args)
    assert unseen.exit_code == 4, unseen.output
    blank = kupol("plates", "export-route", "123ABC01", "--as", "officer", "--case", " ", *args)
    assert blank.exit_code == 2, blank.output
