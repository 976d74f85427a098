"""The live feed: server-sent events of alert changes and recorded events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.core.auth import Permission
from kupol.core.live import sse_format

router = APIRouter(prefix="/api", tags=["live"])
EVENT_FEEDS = frozenset({"CameraEventsRecorded"})


@router.get("/stream")
async def stream(request: Request, container: ContainerDep, user: CurrentUser) -> StreamingResponse:
    """An SSE stream (``text/event-stream``) of ``AlertChanged`` and ``CameraEventsRecorded``."""
    user.require(Permission.ALERTS_READ)
    can_see_events = user.can(Permission.EVENTS_READ)

    async def frames() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        async for message in container.live.listen():
            if await request.is_disconnected():
                return
            if message is not None and message.type in EVENT_FEEDS and not can_see_events:
                continue  # event details are for holders of events.read only
            yield sse_format(message)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
