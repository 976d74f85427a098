"""Docking-station import: a body camera's folder of clips, each with its sidecar metadata,
put in the vault in one go.

``<clip>.mp4`` beside ``<clip>.json``::

    {"device_id": "badge-0042", "officer": "patrol", "started_at": "2026-12-03T08:00:00+05:00",
     "ended_at": "2026-12-03T08:30:00+05:00", "case_number": null,
     "sha256": "…",                       # optional: checked against the file
     "gps": [[51.128, 71.430, "2026-12-03T08:00:05+05:00"], …]}   # optional track

A clip whose sidecar is missing or wrong, or whose file does not match the sidecar's SHA-256,
is reported with its reason and the others are imported; a clip imported before (the same
content) is recorded as a duplicate, not stored twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError
from kupol.evidence.service import EvidenceVault, Metadata, parse_time

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
}


@dataclass(kw_only=True)
class DockReport:
    """What a folder import did, clip by clip."""

    imported: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(file name, reason)."""


def _sidecar(clip: Path) -> dict[str, Any]:
    path = clip.with_suffix(".json")
    if not path.is_file():
        raise InvalidInputError("no sidecar .json beside it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"its sidecar is not JSON (or nested too deeply): {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError("its sidecar must be a JSON object")
    if not isinstance(data.get("device_id"), str) or not data["device_id"]:
        raise InvalidInputError("its sidecar names no device_id")
    gps = data.get("gps", [])
    if not isinstance(gps, list) or any(
        not (
            isinstance(p, list)
            and len(p) == 3
            and -90 <= float(p[0]) <= 90
            and -180 <= float(p[1]) <= 180
        )
        for p in gps
    ):
        raise InvalidInputError("its sidecar's gps must be [latitude, longitude, time] points")
    return data


def import_folder(
    vault: EvidenceVault, folder: Path, *, actor: Principal, category: str = "bodycam"
) -> DockReport:
    """Import every clip of ``folder`` (not its subfolders), in name order."""
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder")
    report = DockReport()
    for clip in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES):
        try:
            data = _sidecar(clip)
            meta = Metadata(
                filename=clip.name,
                media_type=MEDIA_TYPES[clip.suffix.lower()],
                category=category,
                device_id=str(data["device_id"])[:64],
                officer=(str(data["officer"])[:64] if data.get("officer") else None),
                started_at=parse_time(data.get("started_at"), "started_at"),
                ended_at=parse_time(data.get("ended_at"), "ended_at"),
                case_number=(str(data["case_number"])[:64] if data.get("case_number") else None),
                description=(
                    f"GPS track of {len(data['gps'])} points" if data.get("gps") else None
                ),
                gps=tuple((float(p[0]), float(p[1]), str(p[2])) for p in data.get("gps", [])),
            )
            with clip.open("rb") as stream:
                found = vault.ingest(
                    stream, meta, actor=actor, expected_sha256=_sha256(data.get("sha256"))
                )
        except (InvalidInputError, ValueError, TypeError, OverflowError, OSError) as exc:
            report.refused.append((clip.name, str(exc)))
            continue
        (report.duplicates if found.duplicate else report.imported).append(found.item.id)
    return report


def _sha256(value: object) -> str | None:
    """The sidecar's SHA-256, if it gives one (a value that is not one is refused)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidInputError("its sidecar's sha256 is not 64 hexadecimal digits")
    return value
