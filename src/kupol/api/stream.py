"""The live feed: server-sent events of alert changes and recorded events."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.bootstrap import Container
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import SCOPE_REFRESH_S, CameraScope
from kupol.core.errors import AuthenticationError, NotFoundError
from kupol.core.live import LiveMessage, sse_format

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["live"])
EVENT_FEEDS = frozenset({"CameraEventsRecorded"})


def visible_to(user: Principal, message: LiveMessage | None) -> bool:
    """Whether a live message may go to ``user``: event details need events.read."""
    if message is None or message.type not in EVENT_FEEDS:
        return True
    return user.can(Permission.EVENTS_READ)


def within(message: LiveMessage, cameras: frozenset[str] | None) -> LiveMessage | None:
    """The part of ``message`` about ``cameras`` (``None``: every camera): an alert of another
    camera is dropped, a batch of recorded events keeps only theirs; ``None`` when nothing is
    left.

    Example:
        >>> alert = LiveMessage(type="AlertChanged", data='{"camera_id": "cam-2"}')
        >>> within(alert, frozenset({"cam-1"})) is None, within(alert, None) is alert
        (True, True)
    """
    if cameras is None:
        return message
    body = json.loads(message.data)
    events = body.get("events")
    if isinstance(events, list):
        kept = [e for e in events if e.get("camera_id") in cameras]
        if not kept:
            return None
        if len(kept) == len(events):
            return message
        return LiveMessage(type=message.type, data=json.dumps({**body, "events": kept}))
    camera = body.get("camera_id")
    return message if camera is None or camera in cameras else None


class StreamScope:
    """The cameras one stream's user sees, re-read every ``SCOPE_REFRESH_S`` seconds: a scope
    changed, or a camera registered in one of the user's regions, reaches an open stream."""

    def __init__(self, container: Container, user: Principal) -> None:
        self._container = container
        self._user = user
        self._cameras: frozenset[str] | None = None
        self._read_at: float | None = None

    async def cameras(self) -> frozenset[str] | None:
        """The cameras in scope now (``None``: every camera).

        Raises:
            AuthenticationError: the user was deactivated (NotFoundError: removed).
        """
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= SCOPE_REFRESH_S:
            first = self._read_at is None
            try:
                self._cameras = await asyncio.to_thread(self._read)
            except (AuthenticationError, NotFoundError):
                raise
            except Exception as exc:
                if first:
                    raise
                # The database is away for a moment: the stream goes on with what it had.
                log.warning("live stream of %s keeps its scope: %s", self._user.username, exc)
            self._read_at = now
        return self._cameras

    def _read(self) -> frozenset[str] | None:
        # Raises AuthenticationError (ending the stream) once the user is deactivated.
        user = self._container.auth.principal_of(self._user.username)
        scope = CameraScope.of(user)
        if scope.everywhere:
            return None
        return frozenset(self._container.cameras.known_ids(scope=scope))


@router.get("/stream")
async def stream(request: Request, container: ContainerDep, user: CurrentUser) -> StreamingResponse:
    """An SSE stream (``text/event-stream``) of ``AlertChanged`` and ``CameraEventsRecorded``,
    of the cameras in the user's scope only."""
    user.require(Permission.ALERTS_READ)
    scope = StreamScope(container, user)
    await scope.cameras()  # an unknown or deactivated user gets no stream

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
                if message is None:
                    yield sse_format(None)
                elif visible_to(user, message):
                    try:
                        cameras = await scope.cameras()
                    except (AuthenticationError, NotFoundError):
                        return  # the user was deactivated: their stream ends
                    shown = within(message, cameras)
                    if shown is not None:
                        yield sse_format(shown)
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
