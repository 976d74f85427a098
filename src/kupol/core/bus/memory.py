"""The in-process bus: synchronous delivery, retries, nothing to install.

``publish`` runs each durable consumer before it returns (cosmicpython's message bus),
so "accepted" means "handled and committed": a crash after ``publish`` returned loses
nothing, and a crash before it means the producer was never told the event was taken.
A failing durable consumer is retried with back-off; if it still fails, ``publish``
raises :class:`DeliveryError` and the producer keeps the event (and may try again:
consumers are idempotent). Non-durable consumers (live feeds) never hold a publisher up.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence

from kupol.core.bus.base import CommandRouter, DeliveryError, Handler, Subscription
from kupol.core.messages import Event

log = logging.getLogger(__name__)


class InProcessBus(CommandRouter):
    """A bus for one process. See the module docstring for its guarantees.

    Example:
        >>> import asyncio
        >>> from kupol.core.messages import Event
        >>> bus = InProcessBus()
        >>> seen = []
        >>> async def remember(events): seen.extend(events)
        >>> bus.subscribe(Event, remember, consumer="demo")
        >>> asyncio.run(bus.publish(Event()))
        >>> len(seen)
        1
    """

    def __init__(self, *, retry_delays_s: Sequence[float] = (0.05, 0.2, 1.0)) -> None:
        super().__init__()
        self._subscriptions: dict[type[Event], list[Subscription]] = defaultdict(list)
        self._retry_delays = tuple(retry_delays_s)
        self._running = True

    def subscribe(
        self,
        event_type: type[Event],
        handler: Handler,
        *,
        consumer: str,
        durable: bool = True,
        batch_size: int = 1,
        wanted: Callable[[], bool] | None = None,
    ) -> None:
        self._subscriptions[event_type].append(
            Subscription(
                event_type=event_type,
                handler=handler,
                consumer=consumer,
                durable=durable,
                batch_size=max(1, batch_size),
                wanted=wanted,
            )
        )

    def unsubscribe(self, handler: Handler) -> None:
        """Remove every subscription of ``handler`` (live feeds that went away)."""
        for subs in self._subscriptions.values():
            subs[:] = [s for s in subs if s.handler is not handler]

    async def publish(self, *events: Event) -> None:
        if not self._running:
            raise DeliveryError("the bus is stopped")
        await self._fan_out(events, live_only=False)

    async def announce(self, *events: Event) -> None:
        if self._running:
            await self._fan_out(events, live_only=True)

    async def _fan_out(self, events: Sequence[Event], *, live_only: bool) -> None:
        """Each type's events to its consumers (only the non-durable ones: ``live_only``)."""
        by_type: dict[type[Event], list[Event]] = defaultdict(list)
        for event in events:
            by_type[type(event)].append(event)
        for event_type, batch in by_type.items():
            for sub in self._matching(event_type):
                if live_only and sub.durable:
                    continue
                for start in range(0, len(batch), sub.batch_size):
                    await self._deliver(sub, batch[start : start + sub.batch_size])

    def _matching(self, event_type: type[Event]) -> list[Subscription]:
        return [
            s
            for t, subs in list(self._subscriptions.items())
            if issubclass(event_type, t)
            for s in list(subs)
        ]

    async def _deliver(self, sub: Subscription, batch: Sequence[Event]) -> None:
        if sub.wanted is not None and not sub.wanted():
            return
        attempt = 0
        while True:
            try:
                await sub.handler(batch)
                return
            except Exception as exc:
                if not sub.durable:
                    log.warning(
                        "live consumer %s failed, events skipped for it: %s", sub.consumer, exc
                    )
                    return
                if attempt >= len(self._retry_delays):
                    raise DeliveryError(
                        f"consumer {sub.consumer!r} failed {attempt + 1} times on "
                        f"{len(batch)} {sub.event_type.__name__} event(s): {exc}"
                    ) from exc
                log.warning(
                    "consumer %s failed (attempt %d), retrying: %s", sub.consumer, attempt + 1, exc
                )
                await asyncio.sleep(self._retry_delays[attempt])
                attempt += 1

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    async def ping(self) -> None:
        if not self._running:
            raise DeliveryError("the bus is stopped")
