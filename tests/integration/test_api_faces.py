"""The faces API: who may do what, refusals with reasons, and the audit of every look-up
(face models faked; their own tests use real photos)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit.model import AuditEntry
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import utcnow
from tests.unit.faces.fakes import FakeAnalyzer, photo
from tests.unit.faces.test_matching import seen
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "hit review on shift"}
CASE = {"X-Purpose": "robbery investigation", "X-Case-Number": "2026-0417"}


@pytest.fixture
def faces(container: Container) -> Container:
    container.faces.analyzer.use(FakeAnalyzer())
    container.cameras.register(
        camera=CameraCreate(id="cam-a", name="A", latitude=51.1, longitude=71.4), actor=SYSTEM
    )
    return container


def make_person(api: Any, headers: dict[str, str]) -> tuple[int, int]:
    listing = api.post(
        "/api/faces/watchlists", json={"name": "Wanted", "kind": "wanted"}, headers=headers
    )
    assert listing.status_code == 201, listing.text
    person = api.post(
        f"/api/faces/watchlists/{listing.json()['id']}/persons",
        json={"name": "Aidos Test", "reason": "wanted for robbery", "reference": "KUI-1"},
        headers=headers,
    )
    assert person.status_code == 201, person.text
    return listing.json()["id"], person.json()["id"]


def test_an_investigator_builds_a_list_and_refused_photos_say_why(
    api: Any, faces: Container
) -> None:
    investigator = login_as(api, faces, "inv", "investigator")
    watchlist_id, person_id = make_person(api, investigator)
    url = f"/api/faces/persons/{person_id}/photos"
    ok = api.post(url, files={"photo": ("a.png", photo(7))}, headers=investigator)
    assert ok.status_code == 201, ok.text
    for data, code in (
        (photo(7, faces=0), "no_face"),
        (photo(7, faces=3), "several_faces"),
        (photo(7, poor=True), "poor_face"),
        (b"%PDF-1.4", "not_image"),
    ):
        refused = api.post(url, files={"photo": ("x.png", data)}, headers=investigator)
        assert refused.status_code == 422
        assert refused.json()["code"] == code
    persons = api.get(
        f"/api/faces/watchlists/{watchlist_id}/persons", headers={**investigator, **PURPOSE}
    )
    assert [len(p["photos"]) for p in persons.json()] == [1]


def test_operators_review_hits_but_cannot_change_lists_search_or_export(
    api: Any, faces: Container
) -> None:
    investigator = login_as(api, faces, "inv", "investigator")
    operator = login_as(api, faces, "op", "operator")
    _, person_id = make_person(api, investigator)
    api.post(
        f"/api/faces/persons/{person_id}/photos",
        files={"photo": ("a.png", photo(7))},
        headers=investigator,
    )
    faces.faces.matcher.record([seen(faces, 7, at=utcnow())])

    hits = api.get("/api/faces/hits?status=pending", headers={**operator, **PURPOSE})
    assert [h["person"] for h in hits.json()] == ["Aidos Test"]
    hit_id = hits.json()[0]["id"]
    probe = api.get(f"/api/faces/hits/{hit_id}/probe.jpg", headers={**operator, **PURPOSE})
    assert probe.headers["content-type"] == "image/jpeg"
    decided = api.post(
        f"/api/faces/hits/{hit_id}/decision",
        json={"status": "rejected", "note": "different person, no scar"},
        headers=operator,
    )
    assert decided.json()["status"] == "rejected"

    refused = [
        api.post("/api/faces/watchlists", json={"name": "X1", "kind": "other"}, headers=operator),
        api.post(
            "/api/faces/search", files={"photo": ("p.png", photo(7))}, headers={**operator, **CASE}
        ),
        api.post(
            "/api/faces/export/00000000-0000-0000-0000-000000000000",
            headers={**operator, **CASE},
        ),
        api.get("/api/faces/sightings/1/crop.jpg", headers={**operator, **CASE}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    # Analysts and administrators see no faces at all.
    analyst = login_as(api, faces, "an", "analyst")
    admin = login_as(api, faces, "adm", "admin")
    for headers in (analyst, admin):
        assert api.get("/api/faces/hits", headers={**headers, **PURPOSE}).status_code == 403
        assert api.get("/api/faces/watchlists", headers=headers).status_code == 403


def test_a_search_without_a_case_number_is_refused_and_one_with_it_is_audited(
    api: Any, faces: Container
) -> None:
    investigator = login_as(api, faces, "inv", "investigator")
    faces.faces.matcher.record([seen(faces, 42, at=utcnow())])
    refused = api.post(
        "/api/faces/search",
        files={"photo": ("p.png", photo(42))},
        headers={**investigator, "X-Purpose": "robbery investigation"},
    )
    assert refused.status_code == 428
    found = api.post(
        "/api/faces/search",
        files={"photo": ("p.png", photo(42))},
        data={"cameras": "cam-a"},
        headers={**investigator, **CASE},
    )
    assert found.status_code == 200, found.text
    [sighting] = found.json()["sightings"]
    crop = api.get(
        f"/api/faces/sightings/{sighting['id']}/crop.jpg", headers={**investigator, **CASE}
    )
    assert crop.status_code == 200
    with faces.db.reader() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.resource_type == "face_sighting")
            .order_by(AuditEntry.seq)
        ).all()
    assert [(e.action, e.case_number) for e in entries] == [
        ("search", "2026-0417"),
        ("view", "2026-0417"),
    ]


def test_times_without_a_utc_offset_are_refused_with_a_clear_error(
    api: Any, faces: Container
) -> None:
    investigator = login_as(api, faces, "inv", "investigator")
    watchlist_id, _ = make_person(api, investigator)
    naive = api.post(
        f"/api/faces/watchlists/{watchlist_id}/persons",
        json={"name": "B Person", "reason": "wanted for theft", "expires_at": "2030-01-01T00:00"},
        headers=investigator,
    )
    assert naive.status_code == 422
    assert "expires_at" in naive.text
    search = api.post(
        "/api/faces/search",
        files={"photo": ("p.png", photo(42))},
        data={"since": "2026-01-01T00:00"},
        headers={**investigator, **CASE},
    )
    assert search.status_code == 422
