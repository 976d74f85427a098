"""Event endpoints: ingestion by devices, audited search and viewing by people."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import FileResponse
from pydantic import AwareDatetime

from kupol.api.deps import ContainerDep, CurrentUser, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.errors import (
    ConflictError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from kupol.events.messages import CameraEventObserved, EvidenceRef
from kupol.events.queries import EventFilter
from kupol.events.schemas import CameraEventBatch, CameraEventIn, CameraEventRead, IngestReceipt

router = APIRouter(prefix="/api/events", tags=["events"])
Ingester = Annotated[Principal, Depends(require(Permission.EVENTS_INGEST))]


def to_message(event: CameraEventIn) -> CameraEventObserved:
    """The bus message for a validated API event."""
    return CameraEventObserved(
        id=event.id,
        camera_id=event.camera_id,
        type=event.type,
        occurred_at=event.occurred_at,
        confidence=event.confidence,
        zone=event.zone,
        payload=event.payload,
        evidence=tuple(EvidenceRef(**e.model_dump()) for e in event.evidence),
    )


@router.post("", response_model=IngestReceipt, status_code=status.HTTP_202_ACCEPTED)
async def ingest_events(
    batch: CameraEventBatch, container: ContainerDep, user: Ingester
) -> IngestReceipt:
    """Submit camera events. The 202 answer means the bus has accepted them durably. A 503
    "Service unavailable" means none was accepted; a 503 "Event not confirmed" means some may
    have been (the bus went away after they were sent). Either way the same ids can be sent
    again safely: an event is stored once per id."""
    known = await asyncio.to_thread(container.cameras.known_ids)
    problems = [
        FieldProblem(field=f"events.{i}.camera_id", message=f"unknown camera {e.camera_id!r}")
        for i, e in enumerate(batch.events)
        if e.camera_id not in known
    ]
    if problems:
        raise InvalidInputError(
            "events name cameras that are not registered; none accepted", problems=problems
        )
    scope = CameraScope.of(user)
    if not scope.everywhere:
        # A bound device, or a person scoped to cameras and regions: only for those.
        mine = await asyncio.to_thread(container.cameras.known_ids, scope=scope)
        foreign = sorted({e.camera_id for e in batch.events if e.camera_id not in mine})
        if foreign:
            raise PermissionDeniedError(
                f"{user.username} may submit events only for the cameras in their scope "
                f"({scope}), not for {', '.join(foreign)}; none accepted"
            )
    await container.bus.publish(*(to_message(e) for e in batch.events))
    return IngestReceipt(accepted=len(batch.events), ids=[e.id for e in batch.events])


@router.get("", response_model=list[CameraEventRead])
def search_events(
    container: ContainerDep,
    user: CurrentUser,
    why: Why,
    camera_id: str | None = None,
    type: str | None = None,
    zone: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CameraEventRead]:
    """Search events (audited with the stated purpose)."""
    filters = EventFilter(
        camera_id=camera_id,
        type=type,
        zone=zone,
        since=since,
        until=until,
        min_confidence=min_confidence,
        limit=limit,
    )
    return container.events.search(filters=filters, actor=user, why=why)


@router.get("/{event_id}", response_model=CameraEventRead)
def get_event(
    event_id: UUID, container: ContainerDep, user: CurrentUser, why: Why
) -> CameraEventRead:
    """One event (audited)."""
    return container.events.get(event_id=event_id, actor=user, why=why)


@router.get("/{event_id}/evidence/{index}", response_class=FileResponse)
def get_evidence(
    event_id: UUID, index: int, container: ContainerDep, user: CurrentUser, why: Why
) -> FileResponse:
    """An evidence file of an event (audited as an evidence view)."""
    ref = container.events.evidence(event_id=event_id, index=index, actor=user, why=why)
    # Only files under the event's own camera folder are served: a device cannot point its
    # event at another camera's evidence, nor outside the evidence folder.
    root = (container.evidence_dir / ref["camera_id"]).resolve()
    path = (root / ref["uri"].removeprefix(ref["camera_id"] + "/")).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError("the evidence file is not on this server")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != ref["sha256"]:
        raise ConflictError(
            f"evidence #{index} of event {event_id} does not match its recorded SHA-256: "
            "the file was changed after it was recorded"
        )
    return FileResponse(
        Path(path),
        media_type=ref.get("media_type", "application/octet-stream"),
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Evidence-SHA256": digest,
        },
    )
