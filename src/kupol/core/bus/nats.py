"""NATS JetStream bus for deployments with several processes or machines.

* ``publish`` returns when JetStream has stored every event (its PubAck); the event id
  travels as ``Nats-Msg-Id`` so a producer retrying after a timeout creates no duplicate.
  Through a NATS restart it waits (up to ``publish_timeout_s``) and sends again what was
  not acknowledged; a refusal is certain, or said to be unconfirmed
  (:mod:`kupol.core.bus.nats_publish`).
* The client reconnects by itself for ever (every ``RECONNECT_WAIT_S``); pull consumers
  carry on after it, and are made again if the server came back without them.
* Durable consumers are JetStream durable pull consumers with explicit acks: a consumer
  that crashes (raises, or its process dies) gets the un-acked events again after a back-off
  or ``ack_wait``. After ``max_deliver`` attempts an event is terminated and copied to
  ``<prefix>-dead.<consumer>`` (a stream of its own, kept for ever, while the events' stream
  ages out after ``keep_hours``) so nothing disappears unseen. A consumer whose database is
  down (it raises :class:`~kupol.core.errors.ServiceUnavailableError`) keeps its events in
  progress and tries again with back-off: an outage uses up no deliveries.
* Non-durable consumers are plain NATS subscriptions on the same subjects (live feeds), and on
  the live subjects where :meth:`JetStreamBus.announce` sends what needs no storing.
* Events published together travel **packed**, up to ``PACK_EVENTS`` (and ``PACK_BYTES``) in
  one JetStream message: per-message work in the client, not the server, is what limits the
  rate. A pack is acknowledged, redelivered or dead-lettered as one; its ``Nats-Msg-Id`` is
  derived from the event ids, so a retried identical publish is still de-duplicated, and
  consumers stay idempotent by event id either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from kupol.core.bus.base import (
    CommandRouter,
    DeliveryError,
    Handler,
    Subscription,
    is_transient,
)
from kupol.core.bus.nats_publish import Reconnections, publish_confirmed
from kupol.core.messages import Event, decode_as, decode_list_as, encode, message_type

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 0.5
RECONNECT_WAIT_S = 1.0
HOLD_DELAYS_S = (0.2, 0.5, 1.0, 2.0)
"""A consumer whose database is down tries its events again after these pauses (then every
2 s: a try costs a refused connection, and the events flow again soon after the database)."""
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
        publish_timeout_s: float = 10.0,
        consumer_tasks: int = 1,
        keep_hours: float = 168.0,
        max_gb: float = 0.0,
    ) -> None:
        super().__init__()
        self._keep_hours = keep_hours
        self._max_gb = max_gb
        self._url = url
        self._consumer_tasks = max(1, consumer_tasks)
        self._publish_timeout_s = publish_timeout_s
        self._reconnections = Reconnections()
        self._down_since: float | None = None
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

    def live_subject(self, event_type: type[Event]) -> str:
        """The subject an event type is announced on: outside the stream, so not stored."""
        return f"{self._prefix}-live.event.{event_type.type_name()}"

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
        sub = Subscription(
            event_type=event_type,
            handler=handler,
            consumer=consumer,
            durable=durable,
            batch_size=max(1, batch_size),
            wanted=wanted,
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
                nats.connect(
                    self._url,
                    connect_timeout=3,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=RECONNECT_WAIT_S,
                    name="kupol",
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                ),
                timeout=10,
            )
        except Exception as exc:
            raise DeliveryError(f"cannot connect to NATS at {self._url}: {exc}") from exc
        self._js = self._nc.jetstream()
        await self._ensure_stream()
        self._stopping.clear()
        for sub in list(self._subscriptions):
            await self._attach(sub)

    async def _ensure_stream(self, *, update: bool = True) -> None:
        """Make the streams if the server has not got them (and bring their settings up to
        date): the events' stream, kept ``keep_hours`` (0: for ever) and at most ``max_gb``
        (0: no limit; when full, new events are refused, not old ones dropped), and the dead
        letters' stream beside it, kept for ever."""
        assert self._js is not None
        config = StreamConfig(
            name=self._stream,
            subjects=[f"{self._prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=120.0,
            max_age=self._keep_hours * 3600 if self._keep_hours > 0 else None,
            max_bytes=int(self._max_gb * 1024**3) if self._max_gb > 0 else None,
            discard=DiscardPolicy.NEW if self._max_gb > 0 else DiscardPolicy.OLD,
        )
        dead = StreamConfig(
            name=self.dead_stream, subjects=[f"{self._prefix}-dead.>"], storage=StorageType.FILE
        )
        for wanted in (config, dead):
            try:
                await self._js.stream_info(wanted.name or "")
                if update:
                    await self._js.update_stream(wanted)
            except NotFoundError:
                await self._js.add_stream(wanted)

    @property
    def dead_stream(self) -> str:
        """The stream dead letters are kept in (for ever: the events' stream may age out)."""
        return f"{self._stream}_DEAD"

    # The client's own error callback logs a traceback at every reconnection attempt (one a
    # second through an outage): one line when the connection goes, one when it is back.

    async def _on_error(self, exc: Exception) -> None:
        if self._down_since is None:
            log.warning("NATS: %s: %s", type(exc).__name__, exc)

    async def _on_disconnected(self) -> None:
        if not self._stopping.is_set() and self._down_since is None:
            self._down_since = asyncio.get_running_loop().time()
            log.warning("NATS connection to %s lost; reconnecting", self._url)

    async def _on_reconnected(self) -> None:
        now = asyncio.get_running_loop().time()
        down, self._down_since = now - (self._down_since or now), None
        log.warning("NATS reconnected to %s after %.1f s", self._url, down)
        # Not awaited here: the client waits for this callback before it carries on.
        task = asyncio.get_running_loop().create_task(self._after_reconnection())
        self._tasks = [t for t in self._tasks if not t.done()] + [task]

    async def _after_reconnection(self) -> None:
        """A server that came back without its storage has no stream (publishes get no
        answer): make it again, trying while JetStream starts; then wake the publishes and
        consumers waiting for the connection."""
        for _ in range(20):
            try:
                await self._ensure_stream(update=False)
                break
            except Exception as exc:
                log.debug("stream %s not checked yet: %s", self._stream, exc)
                await asyncio.sleep(0.25)
        self._reconnections.happened()

    async def _attach(self, sub: Subscription) -> None:
        assert self._nc is not None and self._js is not None
        subject = self.subject(sub.event_type)
        if not sub.durable:

            async def on_live(msg: Msg) -> None:
                if sub.wanted is not None and not sub.wanted():
                    return  # no one listens: not even decoded
                try:
                    await sub.handler(unpack(sub.event_type, msg))
                except Exception as exc:
                    log.warning("live consumer %s failed: %s", sub.consumer, exc)

            for live in (subject, self.live_subject(sub.event_type)):
                self._live_subs.append(await self._nc.subscribe(live, cb=on_live))
            return
        for _ in range(self._consumer_tasks):  # each its own pull subscription, as nodes do
            psub = await self._pull(sub)
            self._tasks.append(asyncio.create_task(self._consume(sub, psub), name=psub_name(sub)))

    async def _pull(self, sub: Subscription) -> JetStreamContext.PullSubscription:
        """The durable pull consumer of ``sub`` (made if the server has not got it)."""
        assert self._js is not None
        return await self._js.pull_subscribe(
            self.subject(sub.event_type),
            durable=psub_name(sub),
            stream=self._stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=self._max_deliver,
                ack_wait=self._ack_wait_s,
                max_ack_pending=max(1000, sub.batch_size * 4),
            ),
        )

    async def _consume(self, sub: Subscription, psub: JetStreamContext.PullSubscription) -> None:
        attached = self._reconnections.count
        failures = 0
        per_message = float(PACK_EVENTS)  # events a message may carry: assume packs at first
        while not self._stopping.is_set():
            if attached != self._reconnections.count:
                # Reconnected: the server may have come back without this consumer (its
                # storage lost); bind to it again, making it if need be (a few tries while
                # JetStream starts).
                try:
                    fresh = await self._pull(sub)
                except Exception as exc:
                    log.debug("consumer %s not attached yet: %s", sub.consumer, exc)
                    await asyncio.sleep(0.5)
                    continue
                with contextlib.suppress(Exception):
                    await psub.unsubscribe()
                psub, attached = fresh, self._reconnections.count
            try:
                # About one handler batch of events, not of messages: batch_size packs would
                # hold up to batch_size × PACK_EVENTS events on this worker while the others
                # starve, and the last of them would outlive ack_wait and come back.
                want = max(1, round(sub.batch_size / per_message))
                msgs = await psub.fetch(want, timeout=FETCH_TIMEOUT_S)
                failures = 0
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection trouble: the client reconnects by itself
                failures += 1
                if failures == 1:
                    log.warning("fetch for %s failed: %s", sub.consumer, exc)
                await asyncio.sleep(0.5)
                continue
            # The largest pack lately, forgotten slowly: a few single events between packs
            # must not make the next fetch take hundreds of packs.
            largest = max((int((m.headers or {}).get(PACK_HEADER, 1)) for m in msgs), default=1)
            per_message = max(float(largest), per_message * 0.9)
            try:
                await self._work_through(sub, msgs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # An ack, a nak or a dead letter that could not be sent (the connection went
                # away): what was not acknowledged is delivered again. The loop goes on.
                log.warning("consumer %s: %s; unacknowledged events come again", sub.consumer, exc)

    async def _work_through(self, sub: Subscription, msgs: Sequence[Msg]) -> None:
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
            if is_transient(exc):
                await self._hold(sub, group, exc)
                return
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
            if is_transient(exc):
                await self._hold(sub, [(msg, events)], exc)
            elif len(events) > 1:
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
            except Exception as exc:
                if is_transient(exc):  # not this event's fault: keep the whole pack
                    await self._hold(sub, [(msg, events)], exc)
                    return
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

    async def _hold(
        self, sub: Subscription, group: list[tuple[Msg, list[Event]]], exc: Exception
    ) -> None:
        """The consumer's surroundings are down (its database): keep the messages in progress
        (JetStream gives them to no one else) and try again with back-off until they are
        handled or the bus stops. Unlike a nak, this uses up none of their deliveries, so an
        outage longer than ``max_deliver`` back-offs dead-letters nothing."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        log.warning("consumer %s holds %d message(s) until it can take them: %s",
                    sub.consumer, len(group), exc)  # fmt: skip
        events = [event for _, batch in group for event in batch]
        attempt = 0
        while not self._stopping.is_set():
            delay = HOLD_DELAYS_S[min(attempt, len(HOLD_DELAYS_S) - 1)]
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                break
            for msg, _ in group:
                with contextlib.suppress(Exception):  # NATS may be down too: tried again
                    await msg.in_progress()
            try:
                await _deliver(sub, events)
            except Exception as again:
                if is_transient(again):
                    continue
                await self._handle(sub, group)  # now it is the events' fault after all
                return
            for msg, _ in group:
                await msg.ack()
            log.warning("consumer %s took its held messages after %.1f s",
                        sub.consumer, loop.time() - began)  # fmt: skip
            return

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
        await self._js.publish(f"{self._prefix}-dead.{sub.consumer}", msg.data, headers=headers)
        await msg.term()

    async def publish(self, *events: Event) -> None:
        if self._js is None or self._nc is None:
            raise DeliveryError("the NATS bus is not started")
        outgoing = [
            (subject, payload, headers, int(headers.get(PACK_HEADER, 1)))
            for subject, payload, headers in packs(events, self.subject)
        ]
        await publish_confirmed(nc=self._nc, js=self._js, reconnections=self._reconnections,
                                packs=outgoing, timeout_s=self._publish_timeout_s)  # fmt: skip

    async def announce(self, *events: Event) -> None:
        """Plain NATS messages on the live subjects: the live consumers listening now get
        them; JetStream does not store them (a console's ticker needs no replay, and the
        recorder's notice of a batch takes two thirds as many bytes again as its events:
        173 against 261 an event)."""
        if self._nc is None or not self._nc.is_connected:
            return
        for subject, payload, headers in packs(events, self.live_subject):
            await self._nc.publish(subject, payload, headers=headers)

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
        for stream in (self._stream, self.dead_stream):
            with contextlib.suppress(NotFoundError):
                await self._js.delete_stream(stream)


def psub_name(sub: Subscription) -> str:
    """The JetStream durable consumer name of a subscription."""
    return f"{sub.consumer}-{sub.event_type.type_name()}".replace(".", "_")


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
        return decode_list_as(event_type, msg.data)
    return [decode_as(event_type, msg.data)]


__all__ = ["JetStreamBus", "message_type", "packs", "unpack"]
