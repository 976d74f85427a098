"""Redaction with the real face and plate models on clips made of real data: a bystander's face
is hidden beyond recognition (the face model cannot match it any more) while the kept
subject's face stays recognisable; a region drawn by hand is hidden; plates are no longer
readable; the redacted copy is a new item linked to its original, with custody on both."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kupol.bootstrap import Container
from kupol.evidence import redaction
from kupol.faces.democlip import write_walkby_clip
from kupol.faces.engine import FaceEngine
from tests.conftest import need_data
from tests.unit.factories import fast_passwords, login_as

# The models and the video work are the same on either database: SQLite only.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures(fast_passwords.__name__),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
WALKERS = ("alex_lacamoire1.jpg", "obama1.jpg", "johnsnow_test1.jpg")
WHY = {"X-Purpose": "release of body-camera footage, case 2612-0042"}
SECONDS_EACH = 2.5


def wait(api: Any, headers: dict[str, str], rid: int, status: str) -> dict[str, Any]:
    deadline = time.time() + 300
    while time.time() < deadline:
        job = api.get(f"/api/redactions/{rid}", headers=headers).json()
        if job["status"] in (status, "failed"):
            assert job["status"] == status, job["error"]
            return job  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"redaction {rid} did not become {status}")


def embeddings(engine: FaceEngine, path: Path, start: float, end: float) -> list[np.ndarray]:
    found = []
    for t, image in redaction.frames(path):
        if start <= t < end:
            found += [f.embedding for f in engine.analyze(image) if f.embedding.size]
    return found


def test_a_bystanders_face_is_hidden_and_the_subjects_kept(
    api: Any, container: Container, tmp_path: Path
) -> None:
    faces = need_data("faces", "face_recognition", "knn_examples")
    clip = write_walkby_clip(
        [faces / "test" / n for n in WALKERS], tmp_path / "walk.mp4", seconds_each=SECONDS_EACH
    )
    officer = login_as(api, container, "inv", "investigator")
    analyst = login_as(api, container, "analyst", "analyst")
    item = api.post(
        "/api/evidence",
        files={"file": ("walk.mp4", clip.read_bytes(), "video/mp4")},
        data={"category": "bodycam", "case_number": "2612-0042"},
        headers=officer,
    ).json()
    assert (
        api.post("/api/redactions", json={"item_id": item["id"]}, headers=officer).status_code
        == 428
    )
    assert (
        api.post(
            "/api/redactions", json={"item_id": item["id"]}, headers={**analyst, **WHY}
        ).status_code
        == 403
    )
    started = api.post("/api/redactions", json={"item_id": item["id"]}, headers={**officer, **WHY})
    assert started.status_code == 202, started.text
    job = wait(api, officer, started.json()["id"], "planned")
    tracks = {t["id"]: t for t in job["tracks"]}
    subject = [
        i for i, t in tracks.items() if t["kind"] == "face" and t["samples"][-1][0] < SECONDS_EACH
    ]
    assert subject, "the first walker's face was found"
    url = f"/api/redactions/{job['id']}"
    frame = api.get(f"{url}/frame?t=1.0", headers={**officer, **WHY})
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    bad = api.patch(
        url, json={"add": [{"t0": 0, "t1": 1, "box": [0.5, 0.5, 0.4, 0.9]}]}, headers=officer
    )
    assert bad.status_code == 422
    assert api.patch(url, json={"keep": ["nope"]}, headers=officer).status_code == 422
    edited = api.patch(
        url,
        json={"keep": subject, "add": [{"t0": 0, "t1": 0.5, "box": [0.0, 0.0, 0.2, 0.2]}]},
        headers=officer,
    ).json()
    assert set(edited["kept"]) == set(subject)
    manual = [t for t in edited["tracks"] if t["kind"] == "manual"]
    assert len(manual) == 1
    applied = api.post(f"{url}/apply", headers=officer)
    assert applied.status_code == 202
    done = wait(api, officer, job["id"], "done")
    assert api.patch(url, json={"keep": []}, headers=officer).status_code == 409

    copy = api.get(f"/api/evidence/{done['result_item_id']}", headers={**officer, **WHY}).json()
    assert copy["derived_from"] == item["id"] and copy["case_number"] == "2612-0042"
    assert copy["filename"] == "walk-redacted.mp4"
    custody = api.get(f"/api/evidence/{item['id']}/custody", headers=officer).json()
    redact = [e for e in custody if e["action"] == "redact"]
    assert redact and redact[0]["details"]["copy"] == copy["id"]
    assert container.evidence.verify().ok

    # What the face model can still see: the subject, and no one else.
    out = tmp_path / "redacted.mp4"
    out.write_bytes(container.evidence.store.read(copy["sha256"]))
    engine = FaceEngine()
    walkers = {
        n: embeddings(engine, clip, i * (SECONDS_EACH + 0.5), (i + 1) * (SECONDS_EACH + 0.5))
        for i, n in enumerate(WALKERS)
    }
    span = SECONDS_EACH + 0.5

    def best(face: np.ndarray, who: str) -> float:
        """The face's best cosine similarity to ``who``'s faces in the original."""
        return float((np.stack(walkers[who]) @ face).max())

    subject = embeddings(engine, out, 0, span)
    assert subject, "the kept subject's face is still there"
    assert all(best(f, WALKERS[0]) >= 0.94 for f in subject)  # still recognisable
    others = embeddings(engine, out, span, 3 * span)
    # No face left where the bystanders walked that the search (0.9) would match to them.
    assert all(best(f, w) < 0.9 for f in others for w in WALKERS[1:]), len(others)
    # The hand-drawn region is hidden: its corner is flat where the original had texture.
    original = redaction.frame_at(clip, 0.2)[:100, :200].astype(float)
    hidden = redaction.frame_at(out, 0.2)[:100, :200].astype(float)
    assert hidden.std() < original.std()


def test_plates_are_no_longer_readable(api: Any, container: Container, tmp_path: Path) -> None:
    from kupol.plates.democlip import write_plates_clip
    from kupol.plates.formats import normalise

    source = need_data("video", "cars-intel.mp4")
    made = write_plates_clip(source, tmp_path / "cars.mp4", segments=((5.5, 8.0), (15.8, 18.3)))
    officer = login_as(api, container, "traffic", "traffic_officer")
    item = api.post(
        "/api/evidence",
        files={"file": ("cars.mp4", made.path.read_bytes(), "video/mp4")},
        data={"category": "camera"},
        headers=officer,
    ).json()
    job = api.post(
        "/api/redactions", json={"item_id": item["id"], "every_s": 0.2}, headers={**officer, **WHY}
    ).json()
    job = wait(api, officer, job["id"], "planned")
    assert any(t["kind"] == "plate" for t in job["tracks"])
    api.post(f"/api/redactions/{job['id']}/apply", headers=officer)
    done = wait(api, officer, job["id"], "done")
    copy = api.get(f"/api/evidence/{done['result_item_id']}", headers={**officer, **WHY}).json()
    out = tmp_path / "redacted.mp4"
    out.write_bytes(container.evidence.store.read(copy["sha256"]))
    reader = container.plate_domain.readers.get()
    wanted = {normalise(v.plate) for v in made.vehicles}

    def read(path: Path) -> int:
        hits = 0
        for i, (_, image) in enumerate(redaction.frames(path)):
            if i % 3 == 0:
                hits += sum(normalise(r.text) in wanted for r in reader.read_photo(image))
        return hits

    before, after = read(made.path), read(out)
    assert before >= 3, f"the plates were readable on the original ({before} reads)"
    assert after == 0, f"{after} plates read on the redacted copy"
