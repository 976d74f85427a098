"""A camera pipeline's thread publishing onto the bus's event loop."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from kupol.core.messages import Event
from kupol.vision.worker import bus_publisher


def test_a_publish_onto_a_closed_loop_is_refused_and_leaves_no_coroutine_behind() -> None:
    # At shutdown the loop can close while a pipeline still publishes: the refusal makes the
    # pipeline retry (until it is stopped), and the coroutine made for it must not be left
    # un-awaited (Python warns of that, and CI turned the warning up).
    published: list[Event] = []

    async def publish(*messages: Event) -> None:
        published.extend(messages)

    loop = asyncio.new_event_loop()
    loop.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeError, match="closed"):
            bus_publisher(publish, loop)([])
        gc.collect()
    assert published == []


def test_a_publish_runs_on_the_loop_and_returns_when_done() -> None:
    published: list[Event] = []

    async def publish(*messages: Event) -> None:
        published.extend(messages)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        event = Event()
        await asyncio.to_thread(bus_publisher(publish, loop), [event])
        assert published == [event]

    asyncio.run(main())
