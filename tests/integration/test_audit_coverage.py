"""The audit log covers every personal-data read: each GET route that asks for a purpose
(``Why``) is called on seeded data, with a role that may call it, and leaves an audit entry
with that purpose. Routes whose paths speak of personal data but ask for no purpose are
named, with the reason, in NO_PURPOSE — so a new one cannot slip through unnoticed.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cv2
import numpy as np
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from scipy.io import wavfile
from sqlalchemy import func, select

from kupol.api.deps import get_justification
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import AuditEntry
from kupol.core.auth import Role, allowed_roles
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import utcnow
from kupol.plates.messages import PlateObserved
from kupol.vision.messages import TrackObserved
from tests.conftest import demo_camera
from tests.integration.test_api_traffic_review import (
    REGISTRY,
    camera,
    signing_officer,
    violation,
)
from tests.integration.test_documents import FIELDS
from tests.integration.test_security_matrix import route_needs
from tests.unit.faces.fakes import FakeAnalyzer, photo
from tests.unit.faces.test_matching import seen
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = "audit coverage check"
CASE = "AC-2026-1"
WHY = {"X-Purpose": PURPOSE, "X-Case-Number": CASE}
PLATE = "123ABC02"  # the traffic tests' registry names its owner
NUMBER = "+77757770000"

SKIPPED = {
    "GET /api/cameras/{camera_id}/live.jpg": "needs a running camera pipeline; "
    "test_api_vision checks its audit on a live one",
    "GET /api/cameras/{camera_id}/live.mjpeg": "an endless stream from a running pipeline; "
    "test_api_vision checks the live views' audit",
}
"""Purpose-taking GET routes not called here, and why."""

PERSONAL = re.compile(
    r"^/api/(faces|plates|traffic/(violations|registry|notices)|evidence|redactions|documents"
    r"|incidents|events|tracks|stream|citizens?|helpers|antifraud|scooters/(violations|\{plate)"
    r"|schools/(flags|\{school_id)|devices|cameras/\{camera_id\}/(live|objects))"
)
"""Paths that suggest personal data: faces, plates, people's cases, calls, citizens …"""

NO_PURPOSE = {
    "GET /api/faces/watchlists": "list names and how many persons each holds; no person",
    "GET /api/faces/watchlists/{watchlist_id}": "one list's name and count; no person",
    "GET /api/faces/watchlists/{watchlist_id}/thresholds": "counts of decisions by similarity",
    "GET /api/plates/hotlists": "list names and entry counts; no plate",
    "GET /api/plates/hotlists/{hotlist_id}": "one list's name and entry count; no plate",
    "GET /api/traffic/violations/{violation_id}/verify": "signature and hash checks only",
    "GET /api/evidence/{item_id}/incidents": "incident numbers an item is linked to",
    "GET /api/evidence/{item_id}/alerts": "alerts near the clip: camera, rule and time",
    "GET /api/evidence/{item_id}/custody": "who handled an item, when: the custody record",
    "GET /api/redactions": "an item's redaction jobs: status and counts; the frame is audited",
    "GET /api/redactions/{redaction_id}": "boxes and timings of regions; no image",
    "GET /api/incidents": "field officers' own case list; clips are served audited",
    "GET /api/incidents/{incident_id}": "officers, linked clips and alerts; clips are audited",
    "GET /api/documents": "the inbox: numbers, articles, states; no person (DocumentRow)",
    "GET /api/documents/{document_id}/verify": "signature and record checks only",
    "GET /api/documents/{document_id}/signature": "officers' signatures and certificates",
    "GET /api/devices": "body cameras and the officer holding each: staff, not the public",
    "GET /api/devices/{device_id}/shifts": "officers' body-camera shifts: staff",
    "GET /api/cameras/{camera_id}/objects": "track ids and boxes now; no image, no identity",
    "GET /api/stream": "alert changes, and event summaries to events.read holders only",
    "GET /api/antifraud/transfers/summary": "amounts and counts; no account",
    "GET /api/antifraud/calls/summary": "verdict counts and top reasons; no number",
    "GET /api/antifraud/reports/summary": "report counts by state; no subject",
    "GET /api/citizen/reports": "a citizen's own reports, to that citizen only",
    "GET /api/citizen/reports/{report_id}": "a citizen's own report, to that citizen only",
    "GET /api/citizen/reports/{report_id}/media/{index}/preview": "one's own photo, blurred",
    "GET /api/citizen/helper": "a citizen's own standing as a helper",
    "GET /api/citizen/helper/areas": "the patrol areas: places, no person",
    "GET /api/citizens/ledger/reconcile": "ledger invariants: pseudonymous ids and sums",
    "GET /api/helpers/areas": "the patrol areas: places, no person",
    # Audited without a purpose (the services write the entry); they name people, so asking
    # for a purpose would match the rest — an API change for the console, left to its owners.
    "GET /api/scooters/violations": "audited, no purpose asked: names riders",
    "GET /api/scooters/{plate}": "audited, no purpose asked: a scooter's trips' violations",
    "GET /api/schools/flags": "audited, no purpose asked: names instructors and cadets",
    "GET /api/schools/{school_id}": "flags audited, no purpose asked: names instructors",
}  # fmt: skip
"""GET routes under PERSONAL that ask for no purpose, and why that is right (or known)."""


def _takes_purpose(dependant: Dependant) -> bool:
    return dependant.call is get_justification or any(
        _takes_purpose(d) for d in dependant.dependencies
    )


def purpose_routes(app: Any) -> Iterator[tuple[str, bool]]:
    """``("METHOD /path", whether it takes Why)`` for every API route."""
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None and route.include_in_schema:
            for method in route.methods:
                yield f"{method} {route.path_format}", _takes_purpose(dependant)


def audit_after(container: Container, seq: int) -> list[AuditEntry]:
    with container.db.reader() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))
        )


def last_seq(container: Container) -> int:
    with container.db.reader() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def _clip() -> bytes:
    """A one-second MP4 (8 fps, grey): enough for a redaction's frame."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 8, (64, 48))
        for _ in range(8):
            writer.write(np.full((48, 64, 3), 128, np.uint8))
        writer.release()
        return path.read_bytes()


def _wav() -> bytes:
    buffer = io.BytesIO()
    tone = np.sin(np.linspace(0, 2000 * np.pi, 3 * 16_000)) * 0.3
    noise = np.random.default_rng(1).standard_normal(tone.size) * 0.05
    wavfile.write(buffer, 16_000, ((tone + noise) * 32767).astype(np.int16))
    return buffer.getvalue()


class Readers:
    """One signed-in user per role, made when first asked for (``reader-<role>``)."""

    def __init__(self, api: TestClient, container: Container) -> None:
        self._api, self._container = api, container
        self._headers: dict[Role, dict[str, str]] = {}

    def __call__(self, role: Role) -> dict[str, str]:
        if role not in self._headers:
            name = f"reader-{role.value}"
            self._headers[role] = login_as(self._api, self._container, name, role.value)
        return self._headers[role]


def seed(api: TestClient, container: Container, readers: Readers) -> dict[str, str]:
    """One record of each kind, made through the API and the services (as the cameras would
    send them); ``"GET /path"`` → the URL that reads it."""
    container.faces.analyzer.use(FakeAnalyzer())
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-a")), actor=SYSTEM)
    camera(container)  # the traffic tests' crossing camera
    now = utcnow()
    urls = _events_and_tracks(api, container, readers(Role.DEVICE), now)
    urls |= _faces(api, container, readers(Role.INVESTIGATOR), now)
    officer = signing_officer(api, container)
    urls |= _plates(api, container, officer, now)
    urls |= _traffic(api, container, officer)
    urls |= _antifraud(api, readers(Role.FRAUD_ANALYST))
    urls |= _evidence_and_documents(api, readers(Role.INVESTIGATOR), officer)
    return urls | {
        "GET /api/citizens/review": "/api/citizens/review",
        "GET /api/helpers": "/api/helpers",
        "GET /api/helpers/shifts": "/api/helpers/shifts?"
        + urlencode({"start": (now - timedelta(days=7)).isoformat(), "end": now.isoformat()}),
        "GET /api/helpers/activity": f"/api/helpers/activity?month={now.date().isoformat()}",
    }


def _post(api: TestClient, url: str, headers: dict[str, str], **request: Any) -> Any:
    response = api.post(url, headers={**headers, **WHY}, **request)
    assert response.status_code in (200, 201, 202), f"{url}: {response.text}"
    return response.json()


def _events_and_tracks(
    api: TestClient, container: Container, device: dict[str, str], now: datetime
) -> dict[str, str]:
    snapshot = b"\xff\xd8 a snapshot \xff\xd9"
    (container.evidence_dir / "cam-a").mkdir(parents=True, exist_ok=True)
    (container.evidence_dir / "cam-a" / "snap.jpg").write_bytes(snapshot)
    evidence = {
        "kind": "snapshot",
        "uri": "cam-a/snap.jpg",
        "sha256": hashlib.sha256(snapshot).hexdigest(),
        "media_type": "image/jpeg",
    }
    event = {
        "id": "00000000-0000-4000-8000-000000000001",
        "camera_id": "cam-a",
        "type": "motion",
        "confidence": 0.9,
        "occurred_at": (now - timedelta(minutes=1)).isoformat(),
        "evidence": [evidence],
    }
    _post(api, "/api/events", device, json={"events": [event]})
    container.tracks.record(
        [
            TrackObserved(
                camera_id="cam-a",
                run_id="run1",
                track_id=7,
                stage="start",
                object_class="person",
                started_at=now,
                seen_at=now,
                confidence=0.8,
                box=(0.1, 0.2, 0.2, 0.6),
            )
        ]
    )
    return {
        "GET /api/events": "/api/events",
        "GET /api/events/{event_id}": f"/api/events/{event['id']}",
        "GET /api/events/{event_id}/evidence/{index}": f"/api/events/{event['id']}/evidence/0",
        "GET /api/tracks": "/api/tracks",
        "GET /api/tracks/{track_id}": "/api/tracks/cam-a/run1/7",
    }


def _faces(
    api: TestClient, container: Container, investigator: dict[str, str], now: datetime
) -> dict[str, str]:
    """A person with a photo, a hit on them, and a sighting found by a search — face
    sightings are shown only to whoever searched for them: the reading investigator."""
    listing = _post(
        api, "/api/faces/watchlists", investigator, json={"name": "Wanted", "kind": "wanted"}
    )
    person = _post(
        api,
        f"/api/faces/watchlists/{listing['id']}/persons",
        investigator,
        json={"name": "Aidos Test", "reason": "wanted for robbery", "reference": "K-1"},
    )
    enrolled = _post(
        api,
        f"/api/faces/persons/{person['id']}/photos",
        investigator,
        files={"photo": ("a.png", photo(7))},
    )
    container.faces.matcher.record([seen(container, 7, at=now), seen(container, 42, at=now)])
    [hit] = api.get("/api/faces/hits", headers={**investigator, **WHY}).json()
    found = _post(
        api,
        "/api/faces/search",
        investigator,
        files={"photo": ("p.png", photo(42))},
        data={"cameras": "cam-a"},
    )
    sighting = found["sightings"][0]["id"]
    return {
        "GET /api/faces/watchlists/{watchlist_id}/persons": (
            f"/api/faces/watchlists/{listing['id']}/persons"
        ),
        "GET /api/faces/photos/{photo_id}/image.jpg": (
            f"/api/faces/photos/{enrolled['id']}/image.jpg"
        ),
        "GET /api/faces/hits": "/api/faces/hits",
        "GET /api/faces/hits/{hit_id}": f"/api/faces/hits/{hit['id']}",
        "GET /api/faces/hits/{hit_id}/{which}.jpg": f"/api/faces/hits/{hit['id']}/probe.jpg",
        "GET /api/faces/sightings/{sighting_id}/crop.jpg": (
            f"/api/faces/sightings/{sighting}/crop.jpg"
        ),
    }


def _plates(
    api: TestClient, container: Container, officer: dict[str, str], now: datetime
) -> dict[str, str]:
    """A read with its crop, and a hotlist with one plate."""
    crop = container.plate_domain.files.save_crop(
        np.zeros((20, 60, 3), np.uint8), camera_id="cam-a", at=now
    )
    read = PlateObserved(
        camera_id="cam-a",
        plate=PLATE,
        seen_at=now,
        confidence=0.9,
        crop_uri=crop.uri,
        crop_sha256=crop.sha256,
    )
    container.plate_store.record([read])
    [sighting] = api.get(
        "/api/plates/sightings", params={"plate": PLATE}, headers={**officer, **WHY}
    ).json()
    hotlist = _post(api, "/api/plates/hotlists", officer, json={"name": "Stolen", "kind": "stolen"})
    entries = f"/api/plates/hotlists/{hotlist['id']}/entries"
    _post(api, entries, officer, json={"plate": PLATE, "reason": "stolen car"})
    window = {
        "plate": PLATE,
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": now.isoformat(),
    }
    return {
        "GET /api/plates/sightings": f"/api/plates/sightings?plate={PLATE}",
        "GET /api/plates/sightings/{sighting_id}/crop.jpg": (
            f"/api/plates/sightings/{sighting['id']}/crop.jpg"
        ),
        "GET /api/plates/route": f"/api/plates/route?{urlencode(window)}",
        "GET /api/plates/hotlists/{hotlist_id}/entries": entries,
    }


def _traffic(api: TestClient, container: Container, officer: dict[str, str]) -> dict[str, str]:
    """A violation, approved with its owner on the registry: a notice."""
    container.traffic.recorder.record([violation(container)])
    registry = {"file": ("r.csv", REGISTRY.encode())}
    _post(api, "/api/traffic/registry/import", officer, files=registry)
    queue = api.get("/api/traffic/violations", headers={**officer, **WHY}).json()
    [pending] = queue["items"]
    _post(api, f"/api/traffic/violations/{pending['id']}/approve", officer, json={})
    [notice] = api.get("/api/traffic/notices", headers={**officer, **WHY}).json()["items"]
    one, letter = f"/api/traffic/violations/{pending['id']}", f"/api/traffic/notices/{notice['id']}"
    return {
        "GET /api/traffic/violations": "/api/traffic/violations",
        "GET /api/traffic/violations/{violation_id}": one,
        "GET /api/traffic/violations/{violation_id}/evidence/{index}": f"{one}/evidence/0",
        "GET /api/traffic/registry/{plate}": f"/api/traffic/registry/{PLATE}",
        "GET /api/traffic/notices": "/api/traffic/notices",
        "GET /api/traffic/notices/{notice_id}": letter,
        "GET /api/traffic/notices/{notice_id}/letter.html": f"{letter}/letter.html",
    }


def _antifraud(api: TestClient, analyst: dict[str, str]) -> dict[str, str]:
    """A report on a number to the Anti-Fraud Centre, and a voice recording."""
    report = _post(
        api,
        "/api/antifraud/reports",
        analyst,
        json={
            "kind": "number",
            "subject": NUMBER,
            "category": "call_centre",
            "summary": "rang strangers in minutes from one handset",
        },
    )
    voice = _post(
        api,
        "/api/antifraud/voices",
        analyst,
        files={"file": ("call.wav", _wav(), "audio/wav")},
        data={"source": "call", "reference": "CALL-1"},
    )
    return {
        "GET /api/antifraud/transfers": "/api/antifraud/transfers",
        "GET /api/antifraud/mules": "/api/antifraud/mules",
        "GET /api/antifraud/numbers/{number}": f"/api/antifraud/numbers/{NUMBER}",
        "GET /api/antifraud/groups": "/api/antifraud/groups",
        "GET /api/antifraud/reports": "/api/antifraud/reports",
        "GET /api/antifraud/reports/{report_id}/exchange.json": (
            f"/api/antifraud/reports/{report['id']}/exchange.json"
        ),
        "GET /api/antifraud/voices": "/api/antifraud/voices",
        "GET /api/antifraud/voices/{recording_id}": (
            f"/api/antifraud/voices/{voice['recording']['id']}"
        ),
    }


def _evidence_and_documents(
    api: TestClient, investigator: dict[str, str], officer: dict[str, str]
) -> dict[str, str]:
    """A clip in the vault, a redaction of it (its search may still run: the frame is read
    from the original), and a protocol."""
    clip = _post(
        api,
        "/api/evidence",
        investigator,
        files={"file": ("c.mp4", _clip(), "video/mp4")},
        data={"category": "bodycam", "case_number": CASE},
    )
    redaction = _post(api, "/api/redactions", investigator, json={"item_id": clip["id"]})
    document = _post(api, "/api/documents", officer, json={"fields": FIELDS})
    return {
        "GET /api/evidence": "/api/evidence",
        "GET /api/evidence/{item_id}": f"/api/evidence/{clip['id']}",
        "GET /api/evidence/{item_id}/file": f"/api/evidence/{clip['id']}/file",
        "GET /api/redactions/{redaction_id}/frame": f"/api/redactions/{redaction['id']}/frame",
        "GET /api/documents/{document_id}": f"/api/documents/{document['id']}",
        "GET /api/documents/{document_id}/pdf": f"/api/documents/{document['id']}/pdf",
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_purpose_taking_read_leaves_an_audit_entry_with_the_purpose(
    api: TestClient, container: Container
) -> None:
    taking = {key for key, takes in purpose_routes(api.app) if takes and key.startswith("GET ")}
    assert set(SKIPPED) <= taking, f"skipped routes that are gone: {set(SKIPPED) - taking}"
    readers = Readers(api, container)
    urls = seed(api, container, readers)
    assert set(urls) == taking - set(SKIPPED), "call each purpose-taking GET route, or skip it"
    needs = route_needs(api.app)
    silent = []
    for key, url in urls.items():
        role = next(r for r in Role if all(r in allowed_roles(p) for p in needs[key]))
        before = last_seq(container)
        response = api.get(url, headers={**readers(role), **WHY})
        assert response.status_code == 200, f"{key} as {role}: {response.text}"
        entries = audit_after(container, before)
        if not any(e.purpose == PURPOSE and e.actor == f"reader-{role.value}" for e in entries):
            silent.append(f"{key} as {role}: {[(e.action, e.purpose) for e in entries]}")
    assert not silent, "reads of personal data left no audit entry:\n" + "\n".join(silent)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_personal_data_routes_without_a_purpose_are_known_with_the_reason(
    api: TestClient,
) -> None:
    routes = dict(purpose_routes(api.app))
    personal = {k for k in routes if k.startswith("GET ") and PERSONAL.match(k.split(" ", 1)[1])}
    unknown = {k for k in personal if not routes[k]} - set(NO_PURPOSE)
    assert not unknown, f"personal data read without a purpose, and not in NO_PURPOSE: {unknown}"
    stale = {k for k in NO_PURPOSE if k not in routes or routes[k]}
    assert not stale, f"NO_PURPOSE names routes that are gone or now take a purpose: {stale}"
    assert set(NO_PURPOSE) <= personal, "NO_PURPOSE should only name PERSONAL paths"
