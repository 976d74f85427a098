"""The live feed: server-sent events of alert changes and recorded events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.core.auth import Permission, Principal
from kupol.core.live import LiveMessage, sse_format

router = APIRouter(prefix="/api", tags=["live"])
EVENT_FEEDS = frozenset({"CameraEventsRecorded"})


def visible_to(user: Principal, message: LiveMessage | None) -> bool:
    """Whether a live message may go to ``user``: event details need events.read."""
    if message is None or message.type not in EVENT_FEEDS:
        return True
    return user.can(Permission.EVENTS_READ)


@router.get("/stream")
async def stream(request: Request, container: ContainerDep, user: CurrentUser) -> StreamingResponse:
    """An SSE stream (``text/event-stream``) of ``AlertChanged`` and ``CameraEventsRecorded``."""
    user.require(Permission.ALERTS_READ)

    async def frames() -> AsyncIterator[str]:
        feed = container.live.listen()
        # Register with the feed before the client sees the stream open: a message sent in
        # between would otherwise be lost to it.
        first = asyncio.ensure_future(anext(feed))
        await asyncio.sleep(0)
        try:
            yield "retry: 3000\n\n"
            message = await first
            while True:
                if await request.is_disconnected():
                    return
                if visible_to(user, message):
                    yield sse_format(message)
                message = await anext(feed)
        finally:
            first.cancel()
            # A client that hangs up before the first message leaves that read running:
            # closing the feed under it fails ("aclose(): asynchronous generator is already
            # running", logged as a never-retrieved task error). Let it end first.
            await asyncio.gather(first, return_exceptions=True)
            await feed.aclose()

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
