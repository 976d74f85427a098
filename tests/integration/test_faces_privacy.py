"""Exports blur every face but the subject's, with the real face models on a real photo."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import Justification
from kupol.core.auth.service import SYSTEM
from kupol.core.errors import PermissionDeniedError, PurposeRequiredError
from kupol.core.messages import utcnow
from kupol.events.model import CameraEvent
from kupol.faces.engine import FaceEngineConfig, shared_engine
from kupol.faces.files import encode_jpeg
from kupol.vision.clips import ClipFrame, write_clip
from tests.conftest import add_user, need_data

pytestmark = pytest.mark.slow
CASE = Justification(purpose="court disclosure", case_number="2026-0099")


def event_with_evidence(container: Container, image: np.ndarray, tmp_path: Path) -> uuid.UUID:
    container.cameras.register(
        camera=CameraCreate(id="cam-x", name="X", latitude=51.1, longitude=71.4), actor=SYSTEM
    )
    snapshot = container.faces.files.save(encode_jpeg(image), folder="cam-x/test")
    clip_path = container.evidence_dir / "cam-x" / "test" / "clip.webm"
    write_clip(
        [ClipFrame(pts_s=t / 5, jpeg=encode_jpeg(image)) for t in range(3)], clip_path, fps=5
    )
    clip_sha = hashlib.sha256(clip_path.read_bytes()).hexdigest()
    event_id = uuid.uuid4()
    with container.db.unit_of_work() as session:
        session.add(
            CameraEvent(
                id=event_id,
                camera_id="cam-x",
                type="face_match",
                occurred_at=utcnow(),
                recorded_at=utcnow(),
                confidence=0.9,
                payload={},
                evidence=[
                    {
                        "kind": "snapshot",
                        "uri": snapshot.uri,
                        "sha256": snapshot.sha256,
                        "media_type": "image/jpeg",
                    },
                    {
                        "kind": "clip",
                        "uri": "cam-x/test/clip.webm",
                        "sha256": clip_sha,
                        "media_type": "video/webm",
                    },
                ],
            )
        )
    return event_id


def test_an_export_keeps_the_subjects_face_and_blurs_the_bystander(
    container: Container, tmp_path: Path
) -> None:
    couple = cv2.imread(str(need_data("faces", "deepface") / "couple.jpg"))
    scale = 900 / couple.shape[1]
    couple = cv2.resize(couple, None, fx=scale, fy=scale)
    engine = shared_engine(FaceEngineConfig())
    faces = sorted(engine.analyze(couple), key=lambda f: f.box[0])
    assert len(faces) == 2
    # The subject's photo: the left person's head, cut from the picture.
    x1, y1, x2, y2 = (int(v) for v in faces[0].box)
    w = x2 - x1
    subject = couple[max(0, y1 - w) : y2 + w, max(0, x1 - w) : x2 + w]
    investigator = add_user(container, "investigator", "investigator")[0]
    event_id = event_with_evidence(container, couple, tmp_path)

    archive = container.faces.export.export_event(
        event_id=event_id, subject_photo=encode_jpeg(subject), actor=investigator, why=CASE
    )

    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        snapshot = cv2.imdecode(
            np.frombuffer(zipped.read(manifest["files"][0]["name"]), np.uint8), cv2.IMREAD_COLOR
        )
    assert [(f["faces_kept"], f["faces_blurred"]) for f in manifest["files"]] == [(1, 1), (3, 3)]
    assert manifest["case_number"] == "2026-0099"

    def change(face_index: int) -> float:
        bx1, by1, bx2, by2 = (int(v) for v in faces[face_index].box)
        before = couple[by1:by2, bx1:bx2].astype(float)
        after = snapshot[by1:by2, bx1:bx2].astype(float)
        return float(np.abs(before - after).mean())

    assert change(0) < 6, "the subject's face must stay as it was (JPEG noise only)"
    assert change(1) > 15, "the bystander's face must be blurred"
    # Without a subject photo every face is blurred.
    archive = container.faces.export.export_event(
        event_id=event_id, subject_photo=None, actor=investigator, why=CASE
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
    assert manifest["files"][0]["faces_blurred"] == 2


def test_only_investigators_export_and_only_for_a_case(
    container: Container, tmp_path: Path
) -> None:
    image = np.zeros((120, 160, 3), np.uint8)
    event_id = event_with_evidence(container, image, tmp_path)
    operator = add_user(container, "operator", "operator")[0]
    investigator = add_user(container, "investigator", "investigator")[0]
    with pytest.raises(PermissionDeniedError):
        container.faces.export.export_event(
            event_id=event_id, subject_photo=None, actor=operator, why=CASE
        )
    with pytest.raises(PurposeRequiredError):
        container.faces.export.export_event(
            event_id=event_id,
            subject_photo=None,
            actor=investigator,
            why=Justification(purpose="just looking around"),
        )


def test_evidence_changed_after_it_was_recorded_is_not_exported(
    container: Container, tmp_path: Path
) -> None:
    from kupol.core.errors import ConflictError

    image = np.zeros((120, 160, 3), np.uint8)
    event_id = event_with_evidence(container, image, tmp_path)
    (container.evidence_dir / "cam-x" / "test" / "clip.webm").write_bytes(b"tampered")
    investigator = add_user(container, "investigator", "investigator")[0]
    with pytest.raises(ConflictError, match="SHA-256"):
        container.faces.export.export_event(
            event_id=event_id, subject_photo=None, actor=investigator, why=CASE
        )
