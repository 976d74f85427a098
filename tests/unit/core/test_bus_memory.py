"""The in-process bus: durable consumers are retried and must succeed; live ones never block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from kupol.core.bus import InProcessBus
from kupol.core.bus.base import DeliveryError
from kupol.core.messages import Command, Event


@dataclass(frozen=True, kw_only=True)
class DoorOpened(Event):
    door: str


@dataclass(frozen=True, kw_only=True)
class FrontDoorOpened(DoorOpened):
    pass


@dataclass(frozen=True, kw_only=True)
class OpenDoor(Command):
    door: str


class Consumer:
    """Records every batch it is given; fails the first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.batches: list[list[str]] = []

    async def __call__(self, events: Sequence[DoorOpened]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"consumer down (call {self.calls})")
        self.batches.append([e.door for e in events])

    @property
    def doors(self) -> list[str]:
        return [door for batch in self.batches for door in batch]


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus(retry_delays_s=(0.0, 0.0, 0.0))


async def test_a_durable_consumer_gets_each_event_once_in_order(bus: InProcessBus) -> None:
    consumer = Consumer()
    bus.subscribe(DoorOpened, consumer, consumer="c")

    await bus.publish(DoorOpened(door="A"), DoorOpened(door="B"))

    assert consumer.doors == ["A", "B"]


async def test_events_are_handed_over_in_batches_of_the_asked_size(bus: InProcessBus) -> None:
    consumer = Consumer()
    bus.subscribe(DoorOpened, consumer, consumer="c", batch_size=2)

    await bus.publish(*(DoorOpened(door=d) for d in "ABCDE"))

    assert consumer.batches == [["A", "B"], ["C", "D"], ["E"]]


async def test_a_consumer_of_a_base_class_gets_subclass_events(bus: InProcessBus) -> None:
    consumer = Consumer()
    bus.subscribe(DoorOpened, consumer, consumer="c")

    await bus.publish(FrontDoorOpened(door="front"))

    assert consumer.doors == ["front"]


async def test_a_consumer_that_raises_is_retried_and_the_event_is_not_lost(
    bus: InProcessBus,
) -> None:
    consumer = Consumer(failures=2)
    bus.subscribe(DoorOpened, consumer, consumer="flaky")

    await bus.publish(DoorOpened(door="A"))

    assert consumer.calls == 3
    assert consumer.doors == ["A"]


async def test_a_consumer_that_always_fails_makes_publish_raise_delivery_error(
    bus: InProcessBus,
) -> None:
    consumer = Consumer(failures=1000)
    bus.subscribe(DoorOpened, consumer, consumer="broken")

    with pytest.raises(DeliveryError, match="'broken' failed 4 times") as caught:
        await bus.publish(DoorOpened(door="A"))

    assert consumer.calls == 4  # the first try and three retries
    assert caught.value.status == 503


async def test_a_failing_live_consumer_does_not_block_publish_or_other_consumers(
    bus: InProcessBus,
) -> None:
    live, durable = Consumer(failures=1000), Consumer()
    bus.subscribe(DoorOpened, live, consumer="console", durable=False)
    bus.subscribe(DoorOpened, durable, consumer="recorder")

    await bus.publish(DoorOpened(door="A"))

    assert live.calls == 1  # not retried
    assert durable.doors == ["A"]


async def test_a_stopped_bus_refuses_events_and_is_not_ready(bus: InProcessBus) -> None:
    await bus.stop()

    with pytest.raises(DeliveryError):
        await bus.publish(DoorOpened(door="A"))
    with pytest.raises(DeliveryError):
        await bus.ping()

    await bus.start()
    await bus.ping()


async def test_an_unsubscribed_handler_gets_nothing_more(bus: InProcessBus) -> None:
    consumer = Consumer()
    bus.subscribe(DoorOpened, consumer, consumer="c", durable=False)

    bus.unsubscribe(consumer)
    await bus.publish(DoorOpened(door="A"))

    assert consumer.calls == 0


async def test_a_command_runs_its_one_handler_and_returns_its_result(bus: InProcessBus) -> None:
    async def open_door(command: OpenDoor) -> str:
        return f"opened {command.door}"

    bus.register(OpenDoor, open_door)

    assert await bus.execute(OpenDoor(door="A")) == "opened A"
    with pytest.raises(ValueError, match="already has a handler"):
        bus.register(OpenDoor, open_door)


async def test_a_command_without_a_handler_is_an_error(bus: InProcessBus) -> None:
    with pytest.raises(LookupError, match="OpenDoor"):
        await bus.execute(OpenDoor(door="A"))
