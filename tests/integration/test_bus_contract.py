"""The bus contract, run on the in-process bus and on NATS JetStream alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from nats.js.api import DiscardPolicy

from kupol.core.bus import Bus, InProcessBus
from kupol.core.bus.base import DeliveryError
from kupol.core.messages import Event
from tests.conftest import NATS_URL, need_service


@dataclass(frozen=True, kw_only=True)
class ContractPing(Event):
    n: int
    note: str = ""


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` is true, failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def nats_bus(stream: str, **kwargs: Any) -> Bus:
    from kupol.core.bus.nats import JetStreamBus

    return JetStreamBus(
        url=NATS_URL, stream=stream, subject_prefix=stream.lower(), nak_delay_s=0.05, **kwargs
    )


@pytest.fixture(params=["memory", "nats"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Bus]]:
    """A factory of buses of one kind; NATS ones share a fresh stream deleted afterwards."""
    created: list[Bus] = []
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    if request.param == "nats":
        need_service("NATS", "127.0.0.1", 4222)

    def factory(**kwargs: Any) -> Bus:
        bus = (
            InProcessBus(retry_delays_s=(0.01, 0.01, 0.01))
            if request.param == "memory"
            else nats_bus(stream, **kwargs)
        )
        created.append(bus)
        return bus

    yield factory
    for bus in created:
        await bus.stop()
    if request.param == "nats":
        cleaner = nats_bus(stream)
        await cleaner.start()
        await cleaner.purge()  # type: ignore[attr-defined]
        await cleaner.stop()


def collector() -> tuple[list[ContractPing], Callable[[Sequence[Any]], Awaitable[None]]]:
    seen: list[ContractPing] = []

    async def handle(events: Sequence[Any]) -> None:
        seen.extend(events)

    return seen, handle


async def test_a_published_event_reaches_a_durable_consumer_intact(make_bus) -> None:
    bus = make_bus()
    seen, handle = collector()
    bus.subscribe(ContractPing, handle, consumer="c1")
    await bus.start()
    event = ContractPing(n=7, note="Қазақстан")
    await bus.publish(event)
    await eventually(lambda: len(seen) == 1)
    assert seen[0] == event
    assert type(seen[0]) is ContractPing


async def test_a_consumer_that_crashes_gets_the_event_again_and_nothing_is_lost(make_bus) -> None:
    bus = make_bus()
    attempts: list[int] = []
    handled: list[int] = []

    async def flaky(events: Sequence[Any]) -> None:
        for event in events:
            attempts.append(event.n)
            if attempts.count(event.n) < 3:
                raise RuntimeError("consumer crashed")
            handled.append(event.n)

    bus.subscribe(ContractPing, flaky, consumer="flaky")
    await bus.start()
    await bus.publish(ContractPing(n=1), ContractPing(n=2))
    await eventually(lambda: sorted(set(handled)) == [1, 2])
    assert attempts.count(1) >= 3 and attempts.count(2) >= 3


async def test_every_consumer_gets_every_event_in_batches_no_larger_than_asked(make_bus) -> None:
    bus = make_bus()
    batches: list[int] = []
    seen_a, handle_a = collector()

    async def handle_b(events: Sequence[Any]) -> None:
        batches.append(len(events))

    bus.subscribe(ContractPing, handle_a, consumer="a")
    bus.subscribe(ContractPing, handle_b, consumer="b", batch_size=10)
    await bus.start()
    await bus.publish(*(ContractPing(n=i) for i in range(35)))
    await eventually(lambda: len(seen_a) == 35 and sum(batches) == 35)
    assert sorted(e.n for e in seen_a) == list(range(35))
    assert max(batches) <= 10


async def test_an_idempotent_consumer_applies_a_redelivered_event_once(
    make_bus, sqlite_url
) -> None:
    from kupol.core.bus.inbox import claim
    from kupol.core.db import Database

    db = Database.from_url(sqlite_url)
    applied: list[int] = []

    async def handle(events: Sequence[Any]) -> None:
        with db.unit_of_work() as session:
            new = claim(session, consumer="once", ids=[e.id for e in events])
            applied.extend(e.n for e in events if e.id in new)

    bus = make_bus()
    bus.subscribe(ContractPing, handle, consumer="once")
    await bus.start()
    event = ContractPing(n=5)
    await bus.publish(event)
    await bus.publish(event)  # a producer retrying after a lost acknowledgement
    await bus.publish(ContractPing(n=6))
    await eventually(lambda: 6 in applied)
    await asyncio.sleep(0.3)
    assert sorted(applied) == [5, 6]
    db.dispose()


async def test_a_live_consumer_failing_does_not_hold_up_durable_ones(make_bus) -> None:
    bus = make_bus()
    seen, handle = collector()

    async def broken(events: Sequence[Any]) -> None:
        raise RuntimeError("browser went away")

    bus.subscribe(ContractPing, broken, consumer="live", durable=False)
    bus.subscribe(ContractPing, handle, consumer="store")
    await bus.start()
    await bus.publish(ContractPing(n=1))
    await eventually(lambda: len(seen) == 1)


async def test_a_live_consumer_gets_events_only_while_someone_listens(make_bus) -> None:
    bus = make_bus()
    live, on_live = collector()
    stored, store = collector()
    listening = False
    bus.subscribe(ContractPing, on_live, consumer="live", durable=False, wanted=lambda: listening)
    bus.subscribe(ContractPing, store, consumer="store")
    await bus.start()
    await asyncio.sleep(0.2)  # the live subscription is in place
    await bus.publish(ContractPing(n=1))
    await eventually(lambda: len(stored) == 1)
    await asyncio.sleep(0.3)
    assert live == []  # no one listened: skipped (on NATS, not even decoded)
    listening = True
    await bus.publish(ContractPing(n=2))
    await eventually(lambda: [e.n for e in live] == [2])


async def test_an_announced_event_reaches_live_consumers_only_and_is_not_stored(make_bus) -> None:
    bus = make_bus()
    live, on_live = collector()
    stored, store = collector()
    bus.subscribe(ContractPing, on_live, consumer="live", durable=False)
    bus.subscribe(ContractPing, store, consumer="store")
    await bus.start()
    await asyncio.sleep(0.2)  # the live subscription is in place
    await bus.announce(ContractPing(n=1), ContractPing(n=2))
    await eventually(lambda: sorted(e.n for e in live) == [1, 2])
    await bus.publish(ContractPing(n=3))  # published events still reach both
    await eventually(lambda: [e.n for e in stored] == [3] and len(live) == 3)
    js = getattr(bus, "_js", None)
    if js is not None:  # NATS: only the published event is in the stream
        assert (await js.stream_info(bus._stream)).state.messages == 1  # type: ignore[attr-defined]


async def test_publishing_on_a_stopped_bus_is_refused_not_dropped(make_bus) -> None:
    bus = make_bus()
    await bus.start()
    await bus.stop()
    with pytest.raises(DeliveryError):
        await bus.publish(ContractPing(n=1))


async def test_in_process_publish_fails_loudly_when_a_durable_consumer_keeps_failing() -> None:
    bus = InProcessBus(retry_delays_s=(0.0, 0.0))

    async def always_fails(events: Sequence[Any]) -> None:
        raise RuntimeError("database down")

    bus.subscribe(ContractPing, always_fails, consumer="store")
    with pytest.raises(DeliveryError, match="store"):
        await bus.publish(ContractPing(n=1))


async def test_jetstream_redelivers_to_a_restarted_consumer_what_a_dead_one_never_acked() -> None:
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    first = nats_bus(stream, ack_wait_s=1.0)
    stuck = asyncio.Event()

    async def hangs(events: Sequence[Any]) -> None:
        stuck.set()
        await asyncio.sleep(3600)  # the process "dies" while handling: no ack is ever sent

    first.subscribe(ContractPing, hangs, consumer="worker")
    await first.start()
    await first.publish(ContractPing(n=42))
    await asyncio.wait_for(stuck.wait(), 10)
    await first.stop()

    second = nats_bus(stream, ack_wait_s=1.0)
    seen, handle = collector()
    second.subscribe(ContractPing, handle, consumer="worker")
    await second.start()
    try:
        await eventually(lambda: [e.n for e in seen] == [42], timeout=15)
        published_later = ContractPing(n=43)
        await second.publish(published_later)
        await eventually(lambda: [e.n for e in seen] == [42, 43])
    finally:
        await second.purge()  # type: ignore[attr-defined]
        await second.stop()


async def test_jetstream_drops_a_duplicate_publish_of_the_same_event_id() -> None:
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    bus = nats_bus(stream)
    seen, handle = collector()
    bus.subscribe(ContractPing, handle, consumer="dedupe")
    await bus.start()
    try:
        event = ContractPing(n=1)
        await bus.publish(event)
        await bus.publish(event)
        await bus.publish(ContractPing(n=2))
        await eventually(lambda: 2 in [e.n for e in seen])
        await asyncio.sleep(0.3)
        assert [e.n for e in seen] == [1, 2]
    finally:
        await bus.purge()  # type: ignore[attr-defined]
        await bus.stop()


async def test_one_poison_event_in_a_pack_does_not_hold_up_the_others() -> None:
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    bus = nats_bus(stream, max_deliver=2)
    handled: list[int] = []

    async def allergic_to_three(events: Sequence[Any]) -> None:
        if any(e.n == 3 for e in events):
            raise RuntimeError("cannot store event 3")
        handled.extend(e.n for e in events)

    bus.subscribe(ContractPing, allergic_to_three, consumer="picky", batch_size=10)
    await bus.start()
    try:
        await bus.publish(*(ContractPing(n=i) for i in range(6)))  # one pack of six
        await eventually(lambda: sorted(set(handled)) == [0, 1, 2, 4, 5])
        # Event 3 is retried alone, then dead-lettered alone: kept in the dead letters'
        # stream, which never ages out, with the reason.
        js = bus._js  # type: ignore[attr-defined]
        deadline = asyncio.get_running_loop().time() + 10.0
        while True:
            dead = await js.stream_info(bus.dead_stream)  # type: ignore[attr-defined]
            if dead.state.messages or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert 3 not in handled
        assert dead.state.messages == 1 and not dead.config.max_age
        letter = await js.get_last_msg(bus.dead_stream, f"{stream.lower()}-dead.picky")  # type: ignore[attr-defined]
        assert "cannot store event 3" in letter.headers["Kupol-Reason"]
    finally:
        await bus.purge()  # type: ignore[attr-defined]
        await bus.stop()


async def test_jetstream_consumer_tasks_work_on_batches_at_once_each_event_once() -> None:
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    bus = nats_bus(stream, consumer_tasks=2)
    seen: list[int] = []
    busy = 0
    most = 0

    async def slow(events: Sequence[Any]) -> None:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.2)  # a batch's database round trips
        seen.extend(e.n for e in events)
        busy -= 1

    bus.subscribe(ContractPing, slow, consumer="store", batch_size=5)
    await bus.start()
    try:
        for n in range(40):
            await bus.publish(ContractPing(n=n))  # one message each: many small batches
        await eventually(lambda: len(seen) >= 40, timeout=20)
        await asyncio.sleep(0.5)
        assert sorted(seen) == list(range(40))  # each once
        assert most == 2  # two batches in hand at once, never more
    finally:
        await bus.purge()  # type: ignore[attr-defined]
        await bus.stop()


def test_a_durable_consumer_cannot_be_skipped_while_no_one_listens() -> None:
    async def handle(events: Sequence[Any]) -> None:
        pass

    with pytest.raises(ValueError, match="only a live consumer"):
        InProcessBus().subscribe(ContractPing, handle, consumer="store", wanted=lambda: False)


async def test_jetstream_ages_events_out_as_configured_and_refuses_new_ones_when_full() -> None:
    """Without limits the stream grows for ever (every event is kept after it is consumed).
    The settings bound it; a stream made before takes the new limits at the next start."""
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    first = nats_bus(stream, keep_hours=0)  # as before: kept for ever
    await first.start()
    try:
        js = first._js  # type: ignore[attr-defined]
        assert not (await js.stream_info(stream)).config.max_age
        await first.stop()
        bounded = nats_bus(stream, keep_hours=2, max_gb=1.5)
        await bounded.start()
        js = bounded._js  # type: ignore[attr-defined]
        config = (await js.stream_info(stream)).config
        assert config.max_age == 2 * 3600
        assert config.max_bytes == int(1.5 * 1024**3)
        assert config.discard == DiscardPolicy.NEW  # refuse new events, never drop old ones
        dead = (await js.stream_info(f"{stream}_DEAD")).config
        assert not dead.max_age and (dead.max_bytes or -1) < 0  # -1: no limit
        await bounded.stop()
    finally:
        cleaner = nats_bus(stream)
        await cleaner.start()
        await cleaner.purge()  # type: ignore[attr-defined]
        await cleaner.stop()


async def test_a_full_stream_refuses_new_events_and_keeps_those_it_took() -> None:
    need_service("NATS", "127.0.0.1", 4222)
    stream = f"KT{uuid.uuid4().hex[:10].upper()}"
    bus = nats_bus(stream, max_gb=2000 / 1024**3, publish_timeout_s=1)  # room for a few
    await bus.start()
    try:
        taken: list[ContractPing] = []
        with pytest.raises(DeliveryError):
            for n in range(100):
                ping = ContractPing(n=n, note="x" * 100)
                await bus.publish(ping)
                taken.append(ping)
        assert taken  # some fitted; then the next one was refused, not an old one dropped
        js = bus._js  # type: ignore[attr-defined]
        assert (await js.stream_info(stream)).state.messages == len(taken)
        first = await js.get_msg(stream, 1)
        assert first.headers["Nats-Msg-Id"] == str(taken[0].id)
    finally:
        await bus.purge()  # type: ignore[attr-defined]
        await bus.stop()
