"""Voice checks: an analyst submits a recording (a fraud call, a victim's complaint) and learns
whether the voice is synthetic and which recordings already checked have a similar voice —
one fraudster heard by many victims, across numbers.

kupol keeps each recording's SHA-256, speaker embedding and synthetic-speech score, never the
audio. Every check and every view is audited: a voice is personal data. Similar voices are
*candidates* for an analyst (cosine ≥ :data:`speakers.SAME_SPEAKER`); the error rates measured
at that threshold are in docs/antifraud.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select

from kupol.antifraud.audio import RATE, audio_from_bytes
from kupol.antifraud.model import VoiceRecording
from kupol.antifraud.numbers import Numbering, NumberKind
from kupol.antifraud.speakers import SAME_SPEAKER, SpeakerEncoder, similarity
from kupol.antifraud.voices import SyntheticSpeechDetector
from kupol.core.audit import AuditLog, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConfigError, InvalidInputError, NotFoundError

log = logging.getLogger(__name__)

SOURCES = ("call", "complaint", "other")
MAX_BYTES = 50 * 2**20
MAX_MATCHES = 20
SYNTHETIC_AT = 0.5


@dataclass(frozen=True, kw_only=True)
class RecordingView:
    """A checked recording, as listed."""

    id: int
    sha256: str
    filename: str
    source: str
    reference: str
    number: str | None
    seconds: float
    synthetic: float | None
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True, kw_only=True)
class Match:
    """A recording whose voice is like another's."""

    recording: RecordingView
    similarity: float


@dataclass(frozen=True, kw_only=True)
class VoiceCheck:
    """A recording and what kupol makes of its voice."""

    recording: RecordingView
    synthetic: bool | None
    """The detector's verdict at probability 0.5; None when no detector is loaded."""
    matches: list[Match]
    """Recordings with a similar voice, most similar first (at most 20)."""
    threshold: float
    duplicate: bool = False


def _view(row: VoiceRecording) -> RecordingView:
    return RecordingView(
        id=row.id, sha256=row.sha256, filename=row.filename, source=row.source,
        reference=row.reference, number=row.number, seconds=row.seconds,
        synthetic=row.synthetic, submitted_by=row.submitted_by, submitted_at=row.submitted_at,
    )  # fmt: skip


class VoiceChecks:
    """Checks recordings and finds recordings of the same voice."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        numbering: Numbering,
        encoder: Callable[[], SpeakerEncoder],
        detector: SyntheticSpeechDetector | None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._numbering = numbering
        self._encoder = encoder
        self._detector = detector

    def check(
        self,
        *,
        actor: Principal,
        why: Justification,
        data: bytes,
        filename: str,
        source: str,
        reference: str,
        number: str | None = None,
    ) -> VoiceCheck:
        """Check a recording: synthetic or not, and the recordings with a similar voice. The
        same file checked again is not stored twice (``duplicate``); audited.

        Raises:
            InvalidInputError: an unknown source, no reference, a malformed number, a file
                over 50 MB, not audio, or under half a second of speech.
            ConfigError: the speaker model is missing.
        """
        actor.require(Permission.VOICES_CHECK)
        if source not in SOURCES:
            raise InvalidInputError(f"source must be one of {', '.join(SOURCES)}")
        reference = reference.strip()
        if not 3 <= len(reference) <= 120 or not reference.isprintable():
            raise InvalidInputError("reference must be 3–120 printable characters (a call, a case)")
        name = filename.strip() or "recording"
        if len(name) > 300 or "/" in name or "\\" in name:
            raise InvalidInputError("filename must be a plain name of at most 300 characters")
        e164 = self._number(number)
        if len(data) > MAX_BYTES:
            raise InvalidInputError(f"the recording is larger than {MAX_BYTES // 2**20} MB")
        sha = hashlib.sha256(data).hexdigest()
        with self._db.reader() as session:
            known = session.scalar(select(VoiceRecording).where(VoiceRecording.sha256 == sha))
            known_id = known.id if known is not None else None
        if known_id is not None:
            result = self._result(known_id, duplicate=True)
        else:
            samples = audio_from_bytes(data, name)
            encoder = self._encoder()
            embedding = encoder.embed(samples)
            synthetic = (
                float(self._detector.scores([samples])[0]) if self._detector is not None else None
            )
            with self._db.unit_of_work() as session:
                row = VoiceRecording(
                    sha256=sha, filename=name, source=source, reference=reference, number=e164,
                    seconds=round(samples.size / RATE, 2), synthetic=synthetic,
                    embedding=embedding.astype("<f4").tobytes(),
                    encoder=str(encoder.card.get("sha256", "unknown"))[:64],
                    submitted_by=actor.username,
                )  # fmt: skip
                session.add(row)
                session.flush()
                new_id = row.id
            result = self._result(new_id, duplicate=False)
        self._audit.access(
            actor=actor, why=why, action="voice_check", resource_type="voice_recording",
            resource_id=str(result.recording.id),
            details={"source": source, "reference": reference, "number": e164,
                     "duplicate": result.duplicate, "matches": len(result.matches)},
        )  # fmt: skip
        return result

    def get(self, *, actor: Principal, why: Justification, recording_id: int) -> VoiceCheck:
        """A checked recording and its similar voices now (audited).

        Raises:
            NotFoundError: no such recording.
        """
        actor.require(Permission.VOICES_CHECK)
        result = self._result(recording_id, duplicate=False)
        self._audit.access(
            actor=actor, why=why, action="view", resource_type="voice_recording",
            resource_id=str(recording_id), details={"matches": len(result.matches)},
        )  # fmt: skip
        return result

    def recordings(
        self, *, actor: Principal, why: Justification, number: str | None = None, limit: int = 100
    ) -> list[RecordingView]:
        """Recordings checked, newest first, or those of one number (audited)."""
        actor.require(Permission.VOICES_CHECK)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        e164 = self._number(number)
        query = select(VoiceRecording).order_by(VoiceRecording.id.desc()).limit(limit)
        if e164 is not None:
            query = query.where(VoiceRecording.number == e164)
        with self._db.reader() as session:
            rows = [_view(r) for r in session.scalars(query)]
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="voice_recording",
            details={"number": e164, "returned": len(rows)},
        )  # fmt: skip
        return rows

    def linked_to_numbers(self, numbers: Iterable[str]) -> list[dict[str, object]]:
        """For a case file (the caller audits): the recordings of ``numbers`` and, for each,
        the recordings of other numbers with a similar voice."""
        wanted = sorted(set(numbers))
        if not wanted:
            return []
        with self._db.reader() as session:
            ids = list(
                session.scalars(
                    select(VoiceRecording.id)
                    .where(VoiceRecording.number.in_(wanted))
                    .order_by(VoiceRecording.id)
                )
            )
        out: list[dict[str, object]] = []
        for recording_id in ids:
            result = self._result(recording_id, duplicate=False)
            out.append(
                {
                    "recording": _plain(result.recording),
                    "synthetic": result.synthetic,
                    "similar_voices": [
                        {"similarity": m.similarity, **_plain(m.recording)} for m in result.matches
                    ],
                }
            )
        return out

    def _number(self, number: str | None) -> str | None:
        if number is None or not number.strip():
            return None
        placed = self._numbering.classify(number.strip())
        if placed.kind is NumberKind.INVALID:
            raise InvalidInputError(f"number {number!r} is not a telephone number")
        return placed.e164

    def _result(self, recording_id: int, *, duplicate: bool) -> VoiceCheck:
        with self._db.reader() as session:
            row = session.get(VoiceRecording, recording_id)
            if row is None:
                raise NotFoundError(f"no voice recording {recording_id}")
            target = np.frombuffer(row.embedding, dtype="<f4")
            others = list(
                session.scalars(
                    select(VoiceRecording).where(
                        VoiceRecording.id != row.id, VoiceRecording.encoder == row.encoder
                    )
                )
            )
            view = _view(row)
        scored = sorted(
            (
                (round(similarity(target, np.frombuffer(o.embedding, dtype="<f4")), 4), o)
                for o in others
            ),
            key=lambda pair: -pair[0],
        )
        matches = [Match(recording=_view(o), similarity=s) for s, o in scored if s >= SAME_SPEAKER][
            :MAX_MATCHES
        ]
        return VoiceCheck(
            recording=view,
            synthetic=None if view.synthetic is None else view.synthetic >= SYNTHETIC_AT,
            matches=matches,
            threshold=SAME_SPEAKER,
            duplicate=duplicate,
        )


def _plain(view: RecordingView) -> dict[str, object]:
    return {
        "id": view.id, "sha256": view.sha256, "filename": view.filename, "source": view.source,
        "reference": view.reference, "number": view.number, "seconds": view.seconds,
        "synthetic": view.synthetic, "submitted_at": view.submitted_at.isoformat(),
    }  # fmt: skip


def try_load_detector() -> SyntheticSpeechDetector | None:
    """The shipped synthetic-speech detector, or None (logged) when it cannot load."""
    try:
        return SyntheticSpeechDetector.load()
    except ConfigError as exc:
        log.warning("voice checks run without the synthetic-speech detector: %s", exc)
        return None
