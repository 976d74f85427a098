"""Publishing to JetStream through a NATS restart: each publish ends confirmed, refused for
certain, or reported unconfirmed — never "refused" for events the server went on to store.

What goes wrong without this (measured in ``tests/integration/test_fault_restarts.py``): the
NATS client keeps what is published while it reconnects in a buffer and sends it once the
server is back. A publish that gave up meanwhile (the caller told "refused") was then stored
all the same, and a message sent just before a crash waited for an acknowledgement that
never came. So:

* nothing is handed to the client while it is disconnected — a publish waits for the
  connection (up to its time-out) and, if it does not come back, is refused for certain;
* what was sent and not acknowledged when the connection comes back is sent again under the
  same ``Nats-Msg-Id``: JetStream stores it once and acknowledges the copy as a duplicate;
* a publish that runs out of time after sending raises
  :class:`~kupol.core.bus.base.DeliveryUnconfirmedError` (some may be stored: send again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError

from kupol.core.bus.base import DeliveryError, DeliveryUnconfirmedError

RETRY_PAUSE_S = 0.2
"""Between attempts the server answered with an error (JetStream still starting, say)."""


class Reconnections:
    """Counts a NATS client's reconnections and wakes whoever waits for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self._next = asyncio.Event()

    def happened(self) -> None:
        """Called by the client's ``reconnected_cb``."""
        self.count += 1
        event, self._next = self._next, asyncio.Event()
        event.set()

    async def wait(self) -> None:
        """Until the next reconnection."""
        await self._next.wait()


@dataclass(eq=False, kw_only=True)
class OutgoingPack:
    """One JetStream message of a publish, and what is known of its fate."""

    subject: str
    payload: bytes
    headers: dict[str, str]
    events: int
    stored: bool = False
    maybe_stored: bool = False
    """Sent, and no answer came: the server may have stored it."""
    error: BaseException | None = None


async def publish_confirmed(
    *,
    nc: Client,
    js: JetStreamContext,
    reconnections: Reconnections,
    packs: Sequence[tuple[str, bytes, dict[str, str], int]],
    timeout_s: float,
) -> None:
    """Publish ``packs`` (subject, payload, headers, events in it); return once JetStream
    confirmed every one, or raise (see the module)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    outgoing = [OutgoingPack(subject=s, payload=p, headers=h, events=n) for s, p, h, n in packs]
    while True:
        waiting = [p for p in outgoing if not p.stored]
        left = deadline - loop.time()
        if not waiting:
            return
        if left <= 0:
            break
        if not nc.is_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reconnections.wait(), left)
            continue
        before = reconnections.count
        await _attempt(js, reconnections, waiting, deadline)
        if reconnections.count == before and nc.is_connected and not all(p.stored for p in waiting):
            # Answered with an error, not cut off: a pause before asking again.
            await asyncio.sleep(min(RETRY_PAUSE_S, max(0.0, deadline - loop.time())))
    _refuse(outgoing, timeout_s, connected=nc.is_connected)


async def _attempt(
    js: JetStreamContext,
    reconnections: Reconnections,
    waiting: list[OutgoingPack],
    deadline: float,
) -> None:
    """Send ``waiting`` once; wait for their acknowledgements until the deadline or a
    reconnection (after which they are sent again)."""
    loop = asyncio.get_running_loop()
    reconnected = asyncio.ensure_future(reconnections.wait())
    sent: dict[asyncio.Future[Any], OutgoingPack] = {}
    try:
        for pack in waiting:
            try:
                future = await js.publish_async(pack.subject, pack.payload, headers=pack.headers)
            except Exception as exc:  # the connection went away under us: nothing handed over
                pack.error = exc
                break
            sent[future] = pack
        pending: set[asyncio.Future[Any]] = set(sent)
        while pending and not reconnected.done() and loop.time() < deadline:
            _, pending = await asyncio.wait(
                pending | {reconnected},
                timeout=deadline - loop.time(),
                return_when=asyncio.FIRST_COMPLETED,
            )
            pending.discard(reconnected)
    finally:
        reconnected.cancel()
        for future in sent:
            if not future.done():
                future.cancel()  # releases the client's in-flight slot
            elif not future.cancelled():
                future.exception()  # read, even if this publish was cancelled meanwhile
    for future, pack in sent.items():
        if future.cancelled():
            pack.maybe_stored = True  # sent, and no answer: it may be there
            pack.error = TimeoutError("no acknowledgement")
        elif (failure := future.exception()) is None:
            pack.stored = True
        else:
            pack.error = failure
            if isinstance(failure, APIError):
                # The server looked at it (duplicates are answered before anything else)
                # and refused it: not stored, by this attempt or an earlier one.
                pack.maybe_stored = False


def _refuse(outgoing: list[OutgoingPack], timeout_s: float, *, connected: bool) -> None:
    left = [p for p in outgoing if not p.stored]
    events = sum(p.events for p in left)
    total = sum(p.events for p in outgoing)
    errors = [p.error for p in left if p.error is not None]
    why = (
        f"{type(errors[-1]).__name__}: {errors[-1]}".rstrip(": ")
        if errors
        else ("no acknowledgement" if connected else "NATS is unreachable")
    )
    if any(p.stored for p in outgoing) or any(p.maybe_stored for p in left):
        raise DeliveryUnconfirmedError(
            f"JetStream did not confirm {events} of {total} events within {timeout_s:g} s "
            f"({why}); some may be stored: send them again with the same ids"
        )
    raise DeliveryError(
        f"JetStream did not accept {events} events within {timeout_s:g} s ({why}); none stored"
    )
