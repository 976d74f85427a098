"""NATS JetStream bus for deployments with several processes or machines.

* ``publish`` returns when JetStream has stored every event (its PubAck); the event id
  travels as ``Nats-Msg-Id`` so a producer retrying after a timeout creates no duplicate.
* Durable consumers are JetStream durable pull consumers with explicit acks: a consumer
  that crashes (raises, or its process dies) gets the un-acked events again after a back-off
  or ``ack_wait``. After ``max_deliver`` attempts an event is terminated and copied to
  ``<prefix>.dead.<consumer>`` so nothing disappears unseen.
* Non-durable consumers are plain NATS subscriptions on the same subjects (live feeds).
* Events published together travel **packed**, up to ``PACK_EVENTS`` (and ``PACK_BYTES``) in
  one JetStream message: per-message work in the client, not the server, is what limits the
  rate. A pack is acknowledged, redelivered or dead-lettered as one; its ``Nats-Msg-Id`` is
  derived from the event ids, so a retried identical publish is still de-duplicated, and
  consumers stay idempotent by event id either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from kupol.core.bus.base import CommandRouter, DeliveryError, Handler, Subscription
from kupol.core.messages import Event, decode_as, encode, message_type

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 0.5
PACK_EVENTS = 500
PACK_BYTES = 512 * 1024
PACK_HEADER = "Kupol-Pack"
_PACK_NAMESPACE = uuid.UUID("3d0f0f3e-8a51-4c0f-9f0e-6b75706f6c32")


class JetStreamBus(CommandRouter):
    """A durable bus on NATS JetStream. See the module docstring for its guarantees."""

    def __init__(
        self,
        *,
        url: str,
        stream: str = "KUPOL",
        subject_prefix: str = "kupol",
        max_deliver: int = 20,
        ack_wait_s: float = 30.0,
        nak_delay_s: float = 0.5,
    ) -> None:
        super().__init__()
        self._url = url
        self._stream = stream
        self._prefix = subject_prefix
        self._max_deliver = max_deliver
        self._ack_wait_s = ack_wait_s
        self._nak_delay_s = nak_delay_s
        self._subscriptions: list[Subscription] = []
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._live_subs: list[Any] = []
        self._stopping = asyncio.Event()

    def subject(self, event_type: type[Event]) -> str:
        """The subject an event type travels on."""
        return f"{self._prefix}.event.{event_type.type_name()}"

    def subscribe(
        self,
        event_type: type[Event],
        handler: Handler,
        *,
        consumer: str,
        durable: bool = True,
        batch_size: int = 1,
    ) -> None:
        sub = Subscription(
            event_type=event_type,
            handler=handler,
            consumer=consumer,
            durable=durable,
            batch_size=max(1, batch_size),
        )
        self._subscriptions.append(sub)
        if self._js is not None:
            # Registered after start (a live feed): begin consuming at once.
            asyncio.get_running_loop().create_task(self._attach(sub))

    def unsubscribe(self, handler: Handler) -> None:
        """Forget the live subscriptions of ``handler``."""
        self._subscriptions = [s for s in self._subscriptions if s.handler is not handler]

    async def start(self) -> None:
        try:
            # Reconnect for ever once running, but do not hang at start-up: a server that
            # is not there now is a clear error (exit 8), not a silent wait.
            self._nc = await asyncio.wait_for(
                nats.connect(self._url, connect_timeout=3, max_reconnect_attempts=-1, name="kupol"),
                timeout=10,
            )
        except Exception as exc:
            raise DeliveryError(f"cannot connect to NATS at {self._url}: {exc}") from exc
        self._js = self._nc.jetstream()
        config = StreamConfig(
            name=self._stream,
            subjects=[f"{self._prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=120.0,
        )
        try:
            await self._js.stream_info(self._stream)
            await self._js.update_stream(config)
        except NotFoundError:
            await self._js.add_stream(config)
        self._stopping.clear()
        for sub in list(self._subscriptions):
            await self._attach(sub)

    async def _attach(self, sub: Subscription) -> None:
        assert self._nc is not None and self._js is not None
        subject = self.subject(sub.event_type)
        if not sub.durable:

            async def on_live(msg: Msg) -> None:
                try:
                    await sub.handler(unpack(sub.event_type, msg))
                except Exception as exc:
                    log.warning("live consumer %s failed: %s", sub.consumer, exc)

            self._live_subs.append(await self._nc.subscribe(subject, cb=on_live))
            return
        durable = f"{sub.consumer}-{sub.event_type.type_name()}".replace(".", "_")
        psub = await self._js.pull_subscribe(
            subject,
            durable=durable,
            stream=self._stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=self._max_deliver,
                ack_wait=self._ack_wait_s,
                max_ack_pending=max(1000, sub.batch_size * 4),
            ),
        )
        self._tasks.append(asyncio.create_task(self._consume(sub, psub), name=durable))

    async def _consume(self, sub: Subscription, psub: JetStreamContext.PullSubscription) -> None:
        while not self._stopping.is_set():
            try:
                msgs = await psub.fetch(sub.batch_size, timeout=FETCH_TIMEOUT_S)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection trouble: the client reconnects by itself
                log.warning("fetch for %s failed: %s", sub.consumer, exc)
                await asyncio.sleep(0.5)
                continue
            first = True
            async for group in self._groups(sub, msgs):
                if not first:
                    # Packs can make one fetch long to work through: keep the later messages
                    # from being redelivered to another worker meanwhile.
                    for msg, _ in group:
                        await msg.in_progress()
                first = False
                await self._handle(sub, group)

    async def _groups(
        self, sub: Subscription, msgs: Sequence[Msg]
    ) -> AsyncIterator[list[tuple[Msg, list[Event]]]]:
        """Decoded messages in groups of at most ``batch_size`` events (a pack stays whole)."""
        group: list[tuple[Msg, list[Event]]] = []
        size = 0
        for msg in msgs:
            try:
                events = unpack(sub.event_type, msg)
            except Exception as exc:
                await self._dead_letter(sub, msg, f"undecodable: {exc}")
                continue
            if group and size + len(events) > sub.batch_size:
                yield group
                group, size = [], 0
            group.append((msg, events))
            size += len(events)
        if group:
            yield group

    async def _handle(self, sub: Subscription, group: list[tuple[Msg, list[Event]]]) -> None:
        try:
            await _deliver(sub, [event for _, events in group for event in events])
        except Exception as exc:
            log.warning("consumer %s failed on %d message(s): %s", sub.consumer, len(group), exc)
            if len(group) > 1:
                # Find the poison message: the others should not wait for it.
                for msg, events in group:
                    await self._handle_one(sub, msg, events)
                return
            msg, events = group[0]
            if len(events) > 1:
                await self._split_pack(sub, msg, events)
            else:
                await self._retry_or_bury(sub, msg, exc)
            return
        for msg, _ in group:
            await msg.ack()

    async def _handle_one(self, sub: Subscription, msg: Msg, events: list[Event]) -> None:
        try:
            await _deliver(sub, events)
        except Exception as exc:
            if len(events) > 1:
                await self._split_pack(sub, msg, events)
            else:
                await self._retry_or_bury(sub, msg, exc)
        else:
            await msg.ack()

    async def _split_pack(self, sub: Subscription, msg: Msg, events: list[Event]) -> None:
        """A pack failed: one bad event must not hold up (or bury) the others. Deliver them one
        by one; the ones that still fail are republished alone, to be retried and, if need be,
        dead-lettered on their own."""
        failing = []
        for event in events:
            try:
                await sub.handler([event])
            except Exception:
                failing.append(event)
        if failing:
            assert self._js is not None
            try:
                for event in failing:
                    await self._js.publish(
                        self.subject(type(event)),
                        encode(event),
                        headers={"Nats-Msg-Id": f"{event.id}-alone"},
                    )
            except Exception as exc:
                await self._retry_or_bury(sub, msg, exc)
                return
            log.warning(
                "consumer %s: %d of %d events of a pack failed; retried alone",
                sub.consumer,
                len(failing),
                len(events),
            )
        await msg.ack()

    async def _retry_or_bury(self, sub: Subscription, msg: Msg, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if delivered >= self._max_deliver:
            await self._dead_letter(sub, msg, f"failed {delivered} times: {exc}")
        else:
            await msg.nak(delay=self._nak_delay_s * delivered)

    async def _dead_letter(self, sub: Subscription, msg: Msg, why: str) -> None:
        log.error(
            "dead-lettering a %s event for %s: %s", sub.event_type.__name__, sub.consumer, why
        )
        assert self._js is not None
        headers = {"Kupol-Reason": why[:500]}
        if msg.headers and PACK_HEADER in msg.headers:
            headers[PACK_HEADER] = msg.headers[PACK_HEADER]  # so the copy can be replayed
        await self._js.publish(f"{self._prefix}.dead.{sub.consumer}", msg.data, headers=headers)
        await msg.term()

    async def publish(self, *events: Event) -> None:
        if self._js is None:
            raise DeliveryError("the NATS bus is not started")
        futures = []
        try:
            for subject, payload, headers in packs(events, self.subject):
                futures.append(await self._js.publish_async(subject, payload, headers=headers))
            acks = asyncio.gather(*futures)
            # Read the outcome even when nobody waits any more (cancelled at shutdown), so
            # asyncio does not report an exception that was "never retrieved".
            acks.add_done_callback(lambda f: f.cancelled() or f.exception())
            await asyncio.wait_for(acks, timeout=30)
        except Exception as exc:
            raise DeliveryError(f"JetStream did not accept the events: {exc}") from exc

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for live in self._live_subs:
            with contextlib.suppress(Exception):
                await live.unsubscribe()
        self._live_subs.clear()
        if self._nc is not None:
            # Not drain(): it waits on pull subscriptions that have nothing left to give.
            # Publishes were all acknowledged already, so flush and close lose nothing.
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=2)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), 5)
        self._nc = None
        self._js = None

    async def ping(self) -> None:
        if self._nc is None or not self._nc.is_connected or self._js is None:
            raise DeliveryError("not connected to NATS")
        await self._js.stream_info(self._stream)

    async def purge(self) -> None:
        """Delete every stored event and consumer (tests and `kupol bus reset`)."""
        assert self._js is not None
        with contextlib.suppress(NotFoundError):
            await self._js.delete_stream(self._stream)


async def _deliver(sub: Subscription, events: list[Event]) -> None:
    """Hand ``events`` to the consumer in slices no larger than it asked for."""
    for start in range(0, len(events), sub.batch_size):
        await sub.handler(events[start : start + sub.batch_size])


def packs(
    events: Sequence[Event], subject_of: Callable[[type[Event]], str]
) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(subject, payload, headers) for each JetStream message carrying ``events``."""
    by_type: dict[type[Event], list[Event]] = defaultdict(list)
    for event in events:
        by_type[type(event)].append(event)
    for event_type, group in by_type.items():
        chunk: list[tuple[Event, bytes]] = []
        size = 0
        for event in group:
            body = encode(event)
            if chunk and (len(chunk) >= PACK_EVENTS or size + len(body) > PACK_BYTES):
                yield _pack(subject_of(event_type), chunk)
                chunk, size = [], 0
            chunk.append((event, body))
            size += len(body) + 1
        if chunk:
            yield _pack(subject_of(event_type), chunk)


def _pack(subject: str, chunk: list[tuple[Event, bytes]]) -> tuple[str, bytes, dict[str, str]]:
    if len(chunk) == 1:
        event, body = chunk[0]
        return subject, body, {"Nats-Msg-Id": str(event.id)}
    ids = ",".join(str(event.id) for event, _ in chunk)
    payload = b"[" + b",".join(body for _, body in chunk) + b"]"
    return (
        subject,
        payload,
        {
            "Nats-Msg-Id": str(uuid.uuid5(_PACK_NAMESPACE, ids)),
            PACK_HEADER: str(len(chunk)),
        },
    )


def unpack(event_type: type[Event], msg: Msg) -> list[Event]:
    """The events one JetStream message carries (one, or a pack)."""
    if msg.headers and PACK_HEADER in msg.headers:
        items = json.loads(msg.data)
        if not isinstance(items, list):
            raise ValueError("a pack must be a JSON array")
        return [decode_as(event_type, item) for item in items]
    return [decode_as(event_type, msg.data)]


__all__ = ["JetStreamBus", "message_type", "packs", "unpack"]
