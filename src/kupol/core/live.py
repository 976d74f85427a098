"""Fan-out of bus events to live clients (the console's SSE feed). Never blocks the bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from kupol.core.messages import Event, encode


@dataclass(frozen=True, kw_only=True)
class LiveMessage:
    """One message for live clients: the event's type name and its JSON body."""

    type: str
    data: str


class LiveFeed:
    """Each client gets a bounded queue; a client too slow to keep up loses its oldest items
    (it can reload the page: the database is the record, the feed is a convenience)."""

    def __init__(self, *, queue_size: int = 256) -> None:
        self._clients: set[asyncio.Queue[LiveMessage]] = set()
        self._queue_size = queue_size

    @property
    def clients(self) -> int:
        """How many clients are listening."""
        return len(self._clients)

    def listening(self) -> bool:
        """Whether any client listens (the bus skips the feed's events otherwise)."""
        return bool(self._clients)

    async def on_events(self, events: Sequence[Event]) -> None:
        """Bus handler: pass events on to every client."""
        if not self._clients:
            return
        for event in events:
            message = LiveMessage(type=event.type_name(), data=encode(event).decode())
            for queue in list(self._clients):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(message)

    async def listen(
        self, *, heartbeat_s: float = 15.0
    ) -> AsyncGenerator[LiveMessage | None, None]:
        """Messages for one client; ``None`` at every heartbeat interval without news."""
        queue: asyncio.Queue[LiveMessage] = asyncio.Queue(self._queue_size)
        self._clients.add(queue)
        try:
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    yield None
        finally:
            self._clients.discard(queue)


def sse_format(message: LiveMessage | None) -> str:
    """Server-sent-events framing of one message (a comment line for heartbeats)."""
    if message is None:
        return ": heartbeat\n\n"
    return f"event: {message.type}\ndata: {json.dumps(json.loads(message.data))}\n\n"
