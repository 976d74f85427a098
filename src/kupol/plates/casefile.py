"""A vehicle's route, exported to the evidence vault as a case file.

An investigator who has reconstructed where a vehicle went (:meth:`PlateQueries.route
<kupol.plates.queries.PlateQueries.route>`) hands that route to a case: one document (JSON,
format ``kupol-vehicle-route/1``) with the plate's sightings in order — cameras, places, times,
what the camera saw of the vehicle — the legs between them and the legs no single vehicle could
drive (a possible cloned plate); and each sighting's plate crop as an evidence item of its own,
named in the document by its item id and SHA-256. Everything goes into the evidence vault under
the case's number, where custody, retention and signed export packages take over.

A crop's bytes are checked against the SHA-256 recorded when the camera stored it: a file that
changed since is still handed over (it is what there is), but the document and the item's
description say it differs, and the export's result counts it.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.evidence.service import MAX_EXPORT, EvidenceVault, Metadata
from kupol.faces.files import FaceFiles
from kupol.plates.formats import normalise
from kupol.plates.model import PlateSighting
from kupol.plates.queries import MAX_LIMIT, PlateQueries, Route, SightingView

FORMAT = "kupol-vehicle-route/1"
MAX_CROPS = MAX_EXPORT - 1
"""At most this many crops go into the vault with one route (the document says when more had
one): with the document they make one signed export package of the vault (at most
:data:`~kupol.evidence.service.MAX_EXPORT` items), and a route of a thousand sightings is a
thousand photos, more than a case file needs."""


@dataclass(frozen=True, kw_only=True)
class ExportedRoute:
    """Where a route's case file went."""

    evidence_item: int
    """The document's item in the vault."""
    sha256: str
    filename: str
    case_number: str
    plate: str
    sightings: int
    legs: int
    possible_clones: int
    crops: int
    """Crops put in the vault with the route."""
    crop_items: tuple[int, ...]
    crops_truncated: bool
    """More sightings had a crop than :data:`MAX_CROPS`; the rest were left out."""
    crops_missing: int
    """Crops recorded for a sighting but no longer on disk (purged, moved)."""
    crop_mismatches: int
    """Crops whose bytes no longer have the SHA-256 recorded when they were stored."""
    crops_already_in_vault: int = 0
    """Crops the vault held already (the same bytes, filed under the case they came with)."""


@dataclass(frozen=True, kw_only=True)
class _Crop:
    """What became of one sighting's crop."""

    status: str
    """``ingested``, ``missing`` (not on disk) or ``not_exported`` (over the cap)."""
    recorded_sha256: str | None
    evidence_item: int | None = None
    sha256: str | None = None
    """The SHA-256 of the bytes put in the vault."""
    sha256_matches: bool | None = None
    already_in_vault: bool = False


class RouteCaseFiles:
    """Builds a vehicle route's case file and puts it, with its crops, in the evidence vault."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        queries: PlateQueries,
        files: FaceFiles,
        vault: EvidenceVault,
    ) -> None:
        self._db = db
        self._audit = audit
        self._queries = queries
        self._files = files
        self._vault = vault

    def export(
        self,
        *,
        actor: Principal,
        why: Justification,
        plate: str,
        since: datetime,
        until: datetime,
        case_number: str,
    ) -> ExportedRoute:
        """Export the route of ``plate`` between ``since`` and ``until`` to the vault under
        ``case_number``: the crops first, each its own item, then the document; audited (the
        route itself is read, and audited, as a route view with the same purpose).

        Raises:
            InvalidInputError: no case number, no plate, or not a window of aware times.
            NotFoundError: the plate was not seen (by the actor's cameras) in the window.
            PermissionDeniedError: the actor may not see routes or put evidence in the vault.
        """
        actor.require(Permission.PLATES_SEARCH)
        actor.require(Permission.EVIDENCE_INGEST)
        case_number = case_number.strip()
        if not 1 <= len(case_number) <= 64 or not case_number.isprintable():
            raise InvalidInputError("case_number must be 1–64 printable characters")
        if since.tzinfo is None or until.tzinfo is None:
            raise InvalidInputError("since and until need their UTC offset")
        if until <= since:
            raise InvalidInputError("until must be after since")
        if not normalise(plate):
            raise InvalidInputError("give the plate")
        # The route is read for this case: its audit record names the export's case number.
        why = replace(why, case_number=case_number)
        route = self._queries.route(plate=plate, since=since, until=until, actor=actor, why=why)
        if not route.sightings:
            raise NotFoundError(f"{route.plate} was not seen between {since} and {until}")
        crops = self._crops(route, since=since, until=until, actor=actor, case=case_number)
        now = utcnow()
        document = _document(
            route, crops, actor=actor, why=why, since=since, until=until, case=case_number, now=now
        )
        data = json.dumps(document, ensure_ascii=False, indent=1).encode()
        filename = f"vehicle-route-{route.plate}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
        ingested = self._vault.ingest(
            io.BytesIO(data),
            Metadata(
                filename=filename, media_type="application/json", category="document",
                case_number=case_number, started_at=route.sightings[0].seen_at,
                ended_at=route.sightings[-1].seen_at,
                description=f"Vehicle route case file ({FORMAT}): {route.plate}, "
                f"{len(route.sightings)} sightings, {len(route.suspicions)} possible cloned-plate "
                f"legs, {document['crops_exported']} crops; exported by {actor.username} "
                f"({why.purpose})",
            ),
            actor=actor,
        )  # fmt: skip
        exported = [c for c in crops.values() if c.evidence_item is not None]
        result = ExportedRoute(
            evidence_item=ingested.item.id, sha256=ingested.item.sha256, filename=filename,
            case_number=case_number, plate=route.plate, sightings=len(route.sightings),
            legs=len(route.legs), possible_clones=len(route.suspicions), crops=len(exported),
            crop_items=tuple(c.evidence_item for c in exported if c.evidence_item is not None),
            crops_truncated=document["crops_truncated"],
            crops_missing=sum(c.status == "missing" for c in crops.values()),
            crop_mismatches=sum(c.sha256_matches is False for c in crops.values()),
            crops_already_in_vault=sum(c.already_in_vault for c in crops.values()),
        )  # fmt: skip
        self._audit.append(
            AuditRecord(
                actor=actor.username, roles=actor.roles, action="export",
                resource_type="vehicle_route", resource_id=route.plate, purpose=why.purpose,
                case_number=case_number, client=why.client,
                details={**asdict(result), "crop_items": list(result.crop_items),
                         "purpose": why.purpose, "since": since.isoformat(),
                         "until": until.isoformat(),
                         "sighting_ids": [s.id for s in route.sightings]},
            )
        )  # fmt: skip
        return result

    def _crops(
        self, route: Route, *, since: datetime, until: datetime, actor: Principal, case: str
    ) -> dict[int, _Crop]:
        """Each cropped sighting's crop (by sighting id), the first :data:`MAX_CROPS` put in
        the vault: those at the ends of a possible cloned-plate leg first — the pictures to
        check before acting on one — then the rest in time order."""
        ids = [s.id for s in route.sightings if s.has_crop]
        if not ids:
            return {}
        with self._db.reader() as session:
            stored = {
                id_: (uri, sha256)
                for id_, uri, sha256 in session.execute(
                    select(PlateSighting.id, PlateSighting.crop_uri, PlateSighting.crop_sha256)
                    # The window lets PostgreSQL read only its months' partitions.
                    .where(
                        PlateSighting.id.in_(ids),
                        PlateSighting.seen_at >= since,
                        PlateSighting.seen_at < until,
                    )
                )
                if uri is not None
            }
        on_clone_legs = {
            s.id
            for i, leg in enumerate(route.legs)
            if leg.needed_speed_kmh is not None
            for s in route.sightings[i : i + 2]
        }
        views = [s for s in route.sightings if s.id in stored]
        chosen = {s.id for s in sorted(views, key=lambda s: s.id not in on_clone_legs)[:MAX_CROPS]}
        crops: dict[int, _Crop] = {}
        for view in views:
            uri, recorded = stored[view.id]
            crops[view.id] = (
                self._ingest_crop(view, uri, recorded, actor=actor, case=case)
                if view.id in chosen
                else _Crop(status="not_exported", recorded_sha256=recorded)
            )
        return crops

    def _ingest_crop(
        self, view: SightingView, uri: str, recorded: str | None, *, actor: Principal, case: str
    ) -> _Crop:
        try:
            data = self._files.read(uri)
        except NotFoundError:
            return _Crop(status="missing", recorded_sha256=recorded)
        matches = hashlib.sha256(data).hexdigest() == recorded if recorded else None
        at = view.seen_at.astimezone(UTC)
        description = (
            f"Plate crop {view.plate}, camera {view.camera_name} ({view.camera_id}), "
            f"{at:%Y-%m-%d %H:%M:%S} UTC; plate sighting {view.id}"
        )
        if matches is False:
            description += f"; its SHA-256 differs from the one recorded at capture ({recorded})"
        ingested = self._vault.ingest(
            io.BytesIO(data),
            Metadata(
                filename=f"plate-crop-{view.plate}-{view.id}.jpg", media_type="image/jpeg",
                category="photo", case_number=case, started_at=at, ended_at=at,
                description=description,
            ),
            actor=actor,
        )  # fmt: skip
        return _Crop(
            status="ingested", recorded_sha256=recorded, evidence_item=ingested.item.id,
            sha256=ingested.item.sha256, sha256_matches=matches,
            already_in_vault=ingested.duplicate,
        )  # fmt: skip


def _document(
    route: Route,
    crops: dict[int, _Crop],
    *,
    actor: Principal,
    why: Justification,
    since: datetime,
    until: datetime,
    case: str,
    now: datetime,
) -> dict[str, Any]:
    """The case file's content (``kupol-vehicle-route/1``)."""
    sightings = route.sightings
    clone_legs = [i for i, leg in enumerate(route.legs) if leg.needed_speed_kmh is not None]
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "exported_by": actor.username,
        "purpose": why.purpose,
        "case_number": case,
        "plate": route.plate,
        # The plate's format and the region it was registered in, where the format says.
        "plate_kind": sightings[0].kind,
        "region": sightings[0].region,
        "window": {"since": _utc(since), "until": _utc(until)},
        # A user bound to some cameras sees the vehicle's way through those cameras only.
        "cameras": str(CameraScope.of(actor)),
        "sightings_at_limit": len(sightings) >= MAX_LIMIT,
        "sightings": [
            {
                "id": s.id,
                "seen_at": _utc(s.seen_at),
                "camera_id": s.camera_id,
                "camera_name": s.camera_name,
                "latitude": s.latitude,
                "longitude": s.longitude,
                "confidence": s.confidence,
                "direction": s.direction,
                "vehicle_class": s.vehicle_class,
                "vehicle_colour": s.vehicle_colour,
                "crop_sha256": crops[s.id].recorded_sha256 if s.id in crops else None,
                "crop": _crop_dict(crops.get(s.id)),
            }
            for s in sightings
        ],
        "legs": [
            {"from_sighting": a.id, "to_sighting": b.id, **asdict(leg)}
            for (a, b), leg in zip(itertools.pairwise(sightings), route.legs, strict=True)
        ],
        "possible_clones": [
            {
                "leg": i,
                "first_sighting": sightings[i].id,
                "second_sighting": sightings[i + 1].id,
                "first_camera": s.first.camera_id,
                "second_camera": s.second.camera_id,
                "distance_km": round(s.distance_km, 2),
                "hours": round(s.hours, 3),
                "needed_speed_kmh": round(s.needed_speed_kmh, 1),
            }
            for i, s in zip(clone_legs, route.suspicions, strict=True)
        ],
        "crops_total": len(crops),
        "crops_exported": sum(c.evidence_item is not None for c in crops.values()),
        "crops_limit": MAX_CROPS,
        "crops_truncated": any(c.status == "not_exported" for c in crops.values()),
        "crop_mismatches": [i for i, c in crops.items() if c.sha256_matches is False],
    }


def _crop_dict(crop: _Crop | None) -> dict[str, Any] | None:
    if crop is None:
        return None
    found = asdict(crop)
    found.pop("recorded_sha256")  # the sighting's crop_sha256
    return found


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
