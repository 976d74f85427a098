"""Privacy in exports: every face that is not the subject of the case is blurred.

An export is for a case (case number required, investigators only) and is audited. It takes
an event's evidence — snapshots and clips — and blurs each face the detector finds unless its
template matches the subject's photo; with no subject photo, every face is blurred. The
archive carries a manifest with the SHA-256 of each original and each exported file, so the
redacted copy can be traced back to the evidence it came from.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from uuid import UUID

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PurposeRequiredError,
)
from kupol.core.messages import utcnow
from kupol.events.model import CameraEvent
from kupol.faces.files import FaceFiles, decode_image, encode_jpeg
from kupol.faces.probe import one_usable_face
from kupol.faces.types import FaceAnalyzer, Image

BLUR_MARGIN = 0.25
MAX_CLIP_FRAMES = 900


@dataclass(frozen=True, kw_only=True)
class Redaction:
    """What was done to one image."""

    blurred: int
    kept: int


def blur_boxes(image: Image, boxes: list[tuple[float, float, float, float]]) -> Image:
    """``image`` with each box (widened a little) pixelated beyond recognition."""
    out = image.copy()
    height, width = out.shape[:2]
    for x1, y1, x2, y2 in boxes:
        w, h = x2 - x1, y2 - y1
        left, top = int(max(0, x1 - BLUR_MARGIN * w)), int(max(0, y1 - BLUR_MARGIN * h))
        right = int(min(width, x2 + BLUR_MARGIN * w))
        bottom = int(min(height, y2 + BLUR_MARGIN * h))
        if right - left < 2 or bottom - top < 2:
            continue
        region = out[top:bottom, left:right]
        # Pixelate to 6 blocks across, then blur the blocks: not reversible by sharpening.
        small = np.asarray(
            cv2.resize(region, (6, max(1, 6 * region.shape[0] // region.shape[1]))), np.uint8
        )
        coarse = np.asarray(
            cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST),
            np.uint8,
        )
        out[top:bottom, left:right] = cv2.GaussianBlur(coarse, (0, 0), max(2.0, w / 8))
    return out


class Redactor:
    """Blurs the faces in images that are not the subject's."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        subject: NDArray[np.float32] | None,
        threshold: float,
    ) -> None:
        self._analyzer = analyzer
        self._subject = subject
        self._threshold = threshold

    def apply(self, image: Image) -> tuple[Image, Redaction]:
        """The image with non-subject faces blurred."""
        faces = self._analyzer.analyze(image, embed_unusable=True)
        keep: list[tuple[float, float, float, float]] = []
        blur: list[tuple[float, float, float, float]] = []
        for face in faces:
            is_subject = (
                self._subject is not None
                and face.quality.usable
                and face.embedding.size > 0
                and float(np.dot(face.embedding, self._subject)) >= self._threshold
            )
            (keep if is_subject else blur).append(face.box)
        # Faces the detector finds but alignment dropped are blurred too.
        for box in self._analyzer.detect(image):
            if not any(_iou(box.box, k) > 0.3 for k in keep + blur):
                blur.append(box.box)
        return blur_boxes(image, blur), Redaction(blurred=len(blur), kept=len(keep))


class FaceExport:
    """Exports of an event's evidence with bystanders' faces blurred."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        files: FaceFiles,
        analyzer: FaceAnalyzer,
        subject_threshold: float,
    ) -> None:
        self._db = db
        self._audit = audit
        self._files = files
        self._analyzer = analyzer
        self._threshold = subject_threshold

    def _evidence(self, camera_id: str, ref: dict[str, object]) -> bytes:
        """An evidence file of the event, as the evidence endpoint serves it: only from the
        event's own camera folder, and only if it still has its recorded SHA-256."""
        uri = str(ref.get("uri", ""))
        root = self._files.path(camera_id)
        path = self._files.path(uri)
        if not path.is_relative_to(root) or not path.is_file():
            raise NotFoundError(f"evidence {uri!r} is not on this server")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != ref.get("sha256"):
            raise ConflictError(
                f"evidence {uri!r} does not match its recorded SHA-256: it was changed after "
                "it was recorded, and is not exported"
            )
        return data

    def export_event(
        self,
        *,
        event_id: UUID,
        subject_photo: bytes | None,
        actor: Principal,
        why: Justification,
    ) -> bytes:
        """A ZIP of the event's snapshots and clips, redacted, with a manifest."""
        actor.require(Permission.FACES_EXPORT)
        if not (why.case_number or "").strip():
            raise PurposeRequiredError("an export needs a case number")
        subject = None
        if subject_photo is not None:
            subject = one_usable_face(
                self._analyzer,
                subject_photo,
                use="telling the subject apart",
                crop_hint="the subject",
                what="subject photo",
            ).embedding
        with self._db.reader() as session:
            event = session.scalar(
                select(CameraEvent).where(
                    CameraEvent.id == event_id,
                    CameraScope.of(actor).clause(CameraEvent.camera_id),
                )
            )
            if event is None:
                raise NotFoundError(f"no event {event_id}")
            evidence = list(event.evidence)
            camera_id = event.camera_id
        redactor = Redactor(self._analyzer, subject, self._threshold)
        manifest: dict[str, object] = {
            "event_id": str(event_id),
            "camera_id": camera_id,
            "case_number": why.case_number,
            "purpose": why.purpose,
            "exported_by": actor.username,
            "exported_at": utcnow().isoformat(),
            "subject_photo_given": subject is not None,
            "rule": "every face not matching the subject photo is blurred",
            "files": [],
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, ref in enumerate(evidence):
                media = str(ref.get("media_type", ""))
                if media not in ("image/jpeg", "video/webm"):
                    continue
                original = self._evidence(camera_id, ref)
                if media == "image/jpeg":
                    image, redaction = redactor.apply(decode_image(original, what="snapshot"))
                    data, name = encode_jpeg(image), f"{number:02d}-{ref.get('kind')}.jpg"
                else:
                    data, redaction = redact_clip(original, redactor)
                    name = f"{number:02d}-{ref.get('kind')}.webm"
                archive.writestr(name, data)
                files = manifest["files"]
                assert isinstance(files, list)
                files.append(
                    {
                        "name": name,
                        "original_uri": ref["uri"],
                        "original_sha256": ref.get("sha256"),
                        "sha256": _sha256(data),
                        "faces_blurred": redaction.blurred,
                        "faces_kept": redaction.kept,
                    }
                )
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action="export",
                resource_type="camera_event",
                resource_id=str(event_id),
                purpose=why.purpose,
                case_number=why.case_number,
                client=why.client,
                details={"files": manifest["files"], "subject_photo_given": subject is not None},
            )
        )
        return buffer.getvalue()


def redact_clip(data: bytes, redactor: Redactor) -> tuple[bytes, Redaction]:
    """A WebM clip re-encoded with every frame redacted."""
    blurred = kept = 0
    output = io.BytesIO()
    with (
        av.open(io.BytesIO(data), mode="r") as source,
        av.open(output, mode="w", format="webm") as sink,
    ):
        video = source.streams.video[0]
        rate = video.average_rate or Fraction(5)
        stream = sink.add_stream("libvpx", rate=rate)
        stream.width = video.codec_context.width // 2 * 2
        stream.height = video.codec_context.height // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_000_000
        for count, frame in enumerate(source.decode(video)):
            if count >= MAX_CLIP_FRAMES:
                raise InvalidInputError(f"clip longer than {MAX_CLIP_FRAMES} frames")
            image = frame.to_ndarray(format="bgr24")[: stream.height, : stream.width]
            redacted, redaction = redactor.apply(np.ascontiguousarray(image))
            blurred += redaction.blurred
            kept += redaction.kept
            out_frame = av.VideoFrame.from_ndarray(redacted, format="bgr24")
            for packet in stream.encode(out_frame):
                sink.mux(packet)
        for packet in stream.encode():
            sink.mux(packet)
    return output.getvalue(), Redaction(blurred=blurred, kept=kept)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
