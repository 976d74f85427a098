"""Live views, pipeline health, analytics schema and tracks.

Seeing a camera's picture is seeing people: every live view and snapshot is audited with its
purpose (a stream once, when it opens), and so is every track search or view.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from kupol.api.deps import ContainerDep, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.errors import ServiceUnavailableError
from kupol.vision.config import CameraAnalytics
from kupol.vision.detections import class_name
from kupol.vision.events import normalised
from kupol.vision.queries import TrackFilter
from kupol.vision.worker import CameraWorker

if TYPE_CHECKING:
    from kupol.bootstrap import Container

router = APIRouter(tags=["vision"])
Viewer = Annotated[Principal, Depends(require(Permission.LIVE_VIEW))]
Reader = Annotated[Principal, Depends(require(Permission.CAMERAS_READ))]
TrackReader = Annotated[Principal, Depends(require(Permission.TRACKS_READ))]
BOUNDARY = "kupolframe"


def _worker(container: Container, camera_id: str, user: Principal) -> CameraWorker:
    # 404 for an unknown camera, and for one outside the user's scope
    container.cameras.get(camera_id, scope=CameraScope.of(user))
    worker = container.vision.worker(camera_id) if container.vision is not None else None
    if worker is None:
        raise ServiceUnavailableError(
            f"camera {camera_id!r} has no running pipeline (no stream, disabled, or starting)"
        )
    return worker


@router.get("/api/cameras/{camera_id}/live.jpg", response_class=Response)
def live_snapshot(
    camera_id: str,
    container: ContainerDep,
    user: Viewer,
    why: Why,
    annotate: bool = Query(True, description="Draw boxes, track ids and zones."),
) -> Response:
    """The latest analysed frame as JPEG (audited)."""
    worker = _worker(container, camera_id, user)
    jpeg = worker.live_jpeg(annotate=annotate)
    if jpeg is None:
        raise ServiceUnavailableError(f"camera {camera_id!r} has no frame yet")
    container.audit.access(
        actor=user, why=why, action="snapshot", resource_type="camera", resource_id=camera_id
    )
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/api/cameras/{camera_id}/live.mjpeg", response_class=StreamingResponse)
async def live_stream(
    camera_id: str, request: Request, container: ContainerDep, user: Viewer, why: Why
) -> StreamingResponse:
    """The annotated live view as an MJPEG stream (audited once, when it opens)."""
    worker = _worker(container, camera_id, user)
    await asyncio.to_thread(
        container.audit.access,
        actor=user,
        why=why,
        action="live_view",
        resource_type="camera",
        resource_id=camera_id,
    )
    period = 1.0 / max(1.0, worker.analytics.analysis_fps)

    async def frames() -> AsyncIterator[bytes]:
        last: float | None = None
        while worker.alive and not await request.is_disconnected():
            objects = worker.live_objects()
            if objects is not None and objects[0] != last:
                last = objects[0]
                jpeg = await asyncio.to_thread(worker.live_jpeg)
                if jpeg is not None:
                    yield (
                        (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n"
                        ).encode()
                        + jpeg
                        + b"\r\n"
                    )
            await asyncio.sleep(period / 2)

    return StreamingResponse(
        frames(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/api/cameras/{camera_id}/objects")
def live_objects(camera_id: str, container: ContainerDep, user: Viewer) -> dict[str, Any]:
    """What the camera's pipeline tracks now: class, track id and box (0..1) of each object;
    how many are in each zone, and line crossings since the pipeline last (re)started."""
    worker = _worker(container, camera_id, user)
    seen = worker.live_objects()
    if seen is None:
        return {"camera_id": camera_id, "pts_s": None, "objects": [], "counts": {}}
    pts_s, tracked = seen
    height, width = 1, 1
    view = worker.live_size()
    if view is not None:
        width, height = view
    return {
        "camera_id": camera_id,
        "pts_s": round(pts_s, 2),
        "counts": worker.live_counts(),
        "objects": [
            {
                "track_id": int(t),
                "class": class_name(int(c), worker.names),
                "confidence": round(float(p), 3),
                "box": normalised(b, width, height),
            }
            for b, c, t, p in zip(
                tracked.xyxy, tracked.class_id, tracked.tracker_id, tracked.confidence, strict=True
            )
        ],
    }


@router.get("/api/vision/health")
def pipelines_health(container: ContainerDep, user: Reader) -> list[dict[str, object]]:
    """Every running camera pipeline in the user's scope: state, frames in/out per second,
    lag, drops, errors."""
    if container.vision is None:
        return []
    scope = CameraScope.of(user)
    shown = None if scope.everywhere else container.cameras.known_ids(scope=scope)
    return [
        vars(h).copy() for h in container.vision.health() if shown is None or h.camera_id in shown
    ]


@router.get("/api/vision/analytics-schema")
def analytics_schema(_: Reader) -> dict[str, Any]:
    """The JSON schema of a camera's ``analytics`` (zones are the camera's own field)."""
    schema = CameraAnalytics.model_json_schema()
    schema.get("properties", {}).pop("zones", None)
    return schema


@router.get("/api/tracks")
def search_tracks(
    container: ContainerDep,
    user: TrackReader,
    why: Why,
    camera_id: str | None = None,
    object_class: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Tracked objects, newest first (audited with every track returned)."""
    filters = TrackFilter(
        camera_id=camera_id, object_class=object_class, since=since, until=until, limit=limit
    )
    return container.track_queries.search(filters=filters, actor=user, why=why)


@router.get("/api/tracks/{track_id:path}")
def get_track(
    track_id: str, container: ContainerDep, user: TrackReader, why: Why
) -> dict[str, Any]:
    """One track with its path: where the object went in the camera's view (audited)."""
    return container.track_queries.get(track_id=track_id, actor=user, why=why)
