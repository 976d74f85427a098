"""The transactional outbox: announcements survive a crash and a refusing bus."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import pytest

from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.bus.base import DeliveryError
from kupol.core.bus.memory import InProcessBus
from kupol.core.messages import Event
from kupol.core.outbox import OutboxRelay
from kupol.events.messages import CameraEventObserved
from kupol.settings import Settings


def motion() -> CameraEventObserved:
    return CameraEventObserved(
        camera_id="cam-o", type="motion", confidence=0.9, occurred_at=datetime.now(UTC)
    )


def prepare(container: Container) -> None:
    container.cameras.register(
        camera=CameraCreate(id="cam-o", name="o", latitude=1, longitude=2), actor=SYSTEM
    )
    container.alerts.create_rule(rule=AlertRuleCreate(name="any"), actor=SYSTEM)


def test_announcements_left_by_a_crash_are_published_when_kupol_starts_again(
    container: Container, settings: Settings
) -> None:
    prepare(container)
    # The process "dies" right after the recording transaction commits.
    container.recorder.record([motion()])
    assert container.outbox.pending_count() == 1  # the alert raised

    restarted = build_container(settings)
    seen: list[str] = []

    async def remember(events: Sequence[AlertChanged]) -> None:
        seen.extend(e.change for e in events)

    restarted.bus.subscribe(AlertChanged, remember, consumer="dispatch")

    async def run() -> None:
        await restarted.start(with_sources=False)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        await restarted.stop()

    asyncio.run(run())
    assert seen == ["raised"]
    assert build_container(settings).outbox.pending_count() == 0


def test_nothing_is_announced_for_a_recording_that_rolled_back(container: Container) -> None:
    prepare(container)

    def failing_processor(session, events):  # type: ignore[no-untyped-def]
        raise RuntimeError("database trouble mid-transaction")

    container.recorder.add_processor(failing_processor)
    with pytest.raises(RuntimeError):
        container.recorder.record([motion()])
    assert container.outbox.pending_count() == 0


# --- several nodes sharing one outbox ---------------------------------------------------


class NodeBus(InProcessBus):
    """The bus one node publishes to: remembers what it was given, or refuses it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[UUID] = []
        self.refuse = False

    async def publish(self, *events: Event) -> None:
        if self.refuse:
            raise DeliveryError("the bus is down")
        self.seen.extend(e.id for e in events)


class Node:
    """One node's relay over the shared database, with the bus it publishes to."""

    def __init__(self, container: Container, *, grace_s: float) -> None:
        self.bus = NodeBus()
        self.relay = OutboxRelay(db=container.db, bus=self.bus, grace_s=grace_s, lease_s=30)

    @property
    def seen(self) -> list[UUID]:
        return self.bus.seen

    def write(self, container: Container, count: int) -> list[CameraEventObserved]:
        events = [motion() for _ in range(count)]
        with container.db.unit_of_work() as session:
            self.relay.add(session, events)
        return events


def test_a_nodes_fresh_announcements_are_left_to_it_until_its_grace_runs_out(
    container: Container,
) -> None:
    # A grace long enough that a loaded machine's stall does not run it out before the checks.
    writer, other = Node(container, grace_s=2.0), Node(container, grace_s=2.0)
    events = writer.write(container, 3)

    async def run() -> None:
        assert await other.relay.relay() == 0  # the writer's for now
        await writer.relay.publish_now(events)
        assert await other.relay.relay() == 0  # published; the writer deletes them
        assert await writer.relay.relay() == 0
        late = writer.write(container, 2)  # the writer "dies" before publishing these
        await asyncio.sleep(2.1)
        assert await other.relay.relay() == 2
        assert sorted(other.seen) == sorted(e.id for e in late)

    asyncio.run(run())
    assert sorted(writer.seen) == sorted(e.id for e in events)
    assert container.outbox.pending_count() == 0


def test_a_refused_announcement_is_retried_by_its_own_node_at_once(container: Container) -> None:
    writer = Node(container, grace_s=60)
    writer.bus.refuse = True
    events = writer.write(container, 2)

    async def run() -> None:
        await writer.relay.publish_now(events)  # refused: stays in the outbox
        assert writer.seen == []
        writer.bus.refuse = False
        assert await writer.relay.relay() == 2  # its own claim does not hold it back

    asyncio.run(run())
    assert sorted(writer.seen) == sorted(e.id for e in events)


def test_two_relays_taking_the_same_rows_publish_each_once(container: Container) -> None:
    writer = Node(container, grace_s=0.01)
    events = writer.write(container, 1200)  # more than a relay's batch of 500
    relays = [Node(container, grace_s=0.01) for _ in range(2)]

    async def run() -> None:
        await asyncio.sleep(0.05)
        await asyncio.gather(*(node.relay.relay() for node in relays))

    asyncio.run(run())
    published = relays[0].seen + relays[1].seen
    assert sorted(published) == sorted(e.id for e in events)
    assert len(set(published)) == len(published)
    assert container.outbox.pending_count() == 0


def test_flush_publishes_everything_pending_claimed_or_not(container: Container) -> None:
    writer, other = Node(container, grace_s=60), Node(container, grace_s=60)
    events = writer.write(container, 2)
    assert asyncio.run(other.relay.flush()) == 2
    assert sorted(other.seen) == sorted(e.id for e in events)


def test_a_relay_with_nothing_to_publish_waits_for_no_writer(sqlite_url: str) -> None:
    """On SQLite a claim is a write transaction: an empty outbox must not take (and wait
    for) the one write lock every second while the node's writers hold it."""
    import time

    from kupol.core.db import Database

    db = Database.from_url(sqlite_url)
    writer = db.engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
        relay = OutboxRelay(db=db, bus=InProcessBus(), grace_s=5, lease_s=30)
        started = time.monotonic()
        assert asyncio.run(relay.relay()) == 0
        assert time.monotonic() - started < 5  # the busy timeout is 10 s
    finally:
        writer.rollback()
        writer.close()
        db.dispose()


# --- the fast path under concurrency ----------------------------------------------------


class SlowBus(NodeBus):
    """A bus whose acknowledgement takes a while (JetStream's PubAck under load); counts the
    most publications it had under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.under_way = self.most_at_once = 0

    async def publish(self, *events: Event) -> None:
        self.under_way += 1
        self.most_at_once = max(self.most_at_once, self.under_way)
        try:
            await asyncio.sleep(0.2)
            await super().publish(*events)
        finally:
            self.under_way -= 1


def test_a_nodes_consumer_tasks_publish_side_by_side_not_through_the_background_loop(
    container: Container,
) -> None:
    """Two consumer tasks of one node finishing their batches together: each publishes its
    own announcements at once (the second used to find the first publishing and leave its
    announcements to the background loop, up to a second later)."""
    node = Node(container, grace_s=5)
    node.bus = bus = SlowBus()
    node.relay = OutboxRelay(db=container.db, bus=bus, grace_s=5, lease_s=30)
    first, second = node.write(container, 2), node.write(container, 3)

    async def run() -> None:
        await asyncio.gather(node.relay.publish_now(first), node.relay.publish_now(second))

    asyncio.run(run())
    assert sorted(node.seen) == sorted(e.id for e in first + second)
    assert bus.most_at_once == 2  # side by side


def test_announcements_made_during_a_publication_go_out_as_soon_as_it_is_done(
    container: Container,
) -> None:
    """The in-process bus delivers inside publish, so a consumer announcing something then
    cannot wait for the publication it is part of: its announcements are handed to the
    background loop, which is woken for them rather than left to its next round."""
    relay_bus = NodeBus()
    relay = OutboxRelay(db=container.db, bus=relay_bus, grace_s=0, lease_s=30, interval_s=30)
    outer, inner = [motion()], [motion()]

    async def publish(*events: Event) -> None:
        relay_bus.seen.extend(e.id for e in events)
        if any(e.id == outer[0].id for e in events):
            await relay.publish_now(inner)  # a consumer of the outer event announcing

    relay_bus.publish = publish  # type: ignore[method-assign]
    quietly = relay._relay_quietly
    first_round = asyncio.Event()

    async def counted() -> None:
        await quietly()
        first_round.set()

    relay._relay_quietly = counted  # type: ignore[method-assign]

    async def run() -> None:
        relay.start()
        await first_round.wait()  # the loop's first round, with nothing to publish, is over
        with container.db.unit_of_work() as session:
            relay.add(session, outer + inner)
        await relay.publish_now(outer)
        for _ in range(250):
            if inner[0].id in relay_bus.seen:
                break
            await asyncio.sleep(0.02)
        await relay.stop()

    asyncio.run(run())
    assert inner[0].id in relay_bus.seen  # within seconds, not the loop's 30 s
