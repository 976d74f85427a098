"""What intake learns from a report's media before an officer sees it: when and where the
media say they were taken (used for the report when the citizen gave none), what contradicts
the citizen's claim (:mod:`kupol.citizens.consistency`), and whether a picture was sent before
— the same photo re-encoded, resized, captioned or flipped (:mod:`kupol.citizens.phash`,
searched among every earlier report's media).

The index of earlier pictures lives in memory and is read from the reports' stored hashes the
first time it is needed (a million hashes: a few seconds), then kept up to date by this
process; another process's reports reach it when it next starts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kupol.citizens.consistency import Finding, check_claim
from kupol.citizens.media_meta import MediaMetadata, image_metadata, video_metadata
from kupol.citizens.phash import HashIndex, ImageHash, image_hash, video_hashes
from kupol.citizens.store import ReportRow
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError


@dataclass(frozen=True, kw_only=True)
class MediaFacts:
    """One file as intake read it."""

    meta: MediaMetadata
    hash: ImageHash | None
    """The photo's hash, or the video's first key frame's; None when none could be made."""


def read_media(data: bytes, media_type: str) -> MediaFacts:
    """Metadata and perceptual hash of one photo or video (unreadable parts left empty)."""
    video = media_type.startswith("video/")
    try:
        meta = video_metadata(data) if video else image_metadata(data)
    except InvalidInputError as exc:
        raise InvalidInputError(f"the file cannot be read as a {media_type}: {exc}") from exc
    found: ImageHash | None
    try:
        found = video_hashes(data, max_frames=1)[0].hash if video else image_hash(data)
    except (InvalidInputError, IndexError):
        found = None
    return MediaFacts(meta=meta, hash=found)


def to_plain(findings: Iterable[Finding]) -> list[dict[str, object]]:
    """Findings as stored with the report."""
    return [{"kind": f.code.value, "severity": f.severity.value, "reason": f.reason}
            for f in findings]  # fmt: skip


def claim_findings(
    facts: MediaFacts, *, claimed_at: datetime, place: tuple[float, float], received_at: datetime
) -> list[dict[str, object]]:
    """What the file's metadata says against (or fails to say for) the claim."""
    return to_plain(check_claim(facts.meta, claimed_at, place, received_at))


class SeenPictures:
    """Every earlier report's pictures, by perceptual hash (see the module)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._index: HashIndex | None = None
        self._lock = threading.Lock()

    def _load(self) -> HashIndex:
        if self._index is None:
            index = HashIndex()
            with self._db.reader() as session:
                for report_id, media in session.execute(select(ReportRow.id, ReportRow.media)):
                    for n, item in enumerate(media):
                        hashed = _hash_of(item)
                        if hashed is not None:
                            index.add(f"{report_id}/{n}", hashed)
            self._index = index
        return self._index

    def seen(self, hashed: ImageHash) -> list[tuple[int, int]]:
        """Earlier reports with a near-identical picture: (report id, distance), nearest
        first, one per report."""
        with self._lock:
            matches = self._load().near(hashed)
        out: dict[int, int] = {}
        for match in matches:
            report = int(str(match.id).split("/", 1)[0])
            out.setdefault(report, match.distance)
        return sorted(out.items(), key=lambda kv: (kv[1], kv[0]))

    def add(self, report_id: int, hashes: Iterable[ImageHash | None]) -> None:
        with self._lock:
            index = self._load()
            for n, hashed in enumerate(hashes):
                if hashed is not None:
                    index.add(f"{report_id}/{n}", hashed)


def hash_fields(hashed: ImageHash | None) -> dict[str, object]:
    """A hash as stored in a report's media list (hex strings: JSON has no 64-bit ints)."""
    if hashed is None:
        return {}
    return {"phash": f"{hashed.phash:016x}", "dhash": f"{hashed.dhash:016x}",
            "phash_mirrored": f"{hashed.phash_mirrored:016x}",
            "dhash_mirrored": f"{hashed.dhash_mirrored:016x}"}  # fmt: skip


def _hash_of(item: dict[str, object]) -> ImageHash | None:
    try:
        return ImageHash(
            phash=int(str(item["phash"]), 16), dhash=int(str(item["dhash"]), 16),
            phash_mirrored=int(str(item["phash_mirrored"]), 16),
            dhash_mirrored=int(str(item["dhash_mirrored"]), 16),
        )  # fmt: skip
    except (KeyError, ValueError):
        return None
