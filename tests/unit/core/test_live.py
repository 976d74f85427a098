"""The live feed: every listening client gets events; a slow one loses its oldest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from kupol.core.live import LiveFeed, LiveMessage, sse_format
from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class LampLit(Event):
    lamp: int


async def lamp_of(listener: AsyncGenerator[LiveMessage | None, None]) -> int:
    message = await anext(listener)
    assert message is not None
    assert message.type == "LampLit"
    lamp: int = json.loads(message.data)["lamp"]
    return lamp


async def connected(
    feed: LiveFeed,
) -> tuple[AsyncGenerator[LiveMessage | None, None], asyncio.Task[int]]:
    """A client whose first read is under way (a client registers when it starts reading)."""
    listener = feed.listen(heartbeat_s=5)
    first = asyncio.ensure_future(lamp_of(listener))
    await asyncio.sleep(0)
    return listener, first


async def test_each_listening_client_gets_each_event() -> None:
    feed = LiveFeed()
    (one, one_first), (two, two_first) = await connected(feed), await connected(feed)

    await feed.on_events([LampLit(lamp=1)])

    assert feed.clients == 2
    assert (await one_first, await two_first) == (1, 1)
    await one.aclose()
    await two.aclose()
    assert feed.clients == 0


async def test_a_slow_client_loses_its_oldest_messages_not_the_newest() -> None:
    feed = LiveFeed(queue_size=2)
    listener, first = await connected(feed)
    await feed.on_events([LampLit(lamp=1)])
    assert await first == 1

    await feed.on_events([LampLit(lamp=n) for n in (2, 3, 4)])

    assert [await lamp_of(listener), await lamp_of(listener)] == [3, 4]
    await listener.aclose()


async def test_a_quiet_feed_sends_heartbeats() -> None:
    listener = LiveFeed().listen(heartbeat_s=0.01)

    assert await anext(listener) is None
    await listener.aclose()


def test_messages_are_framed_as_server_sent_events() -> None:
    assert sse_format(None) == ": heartbeat\n\n"
    assert sse_format(LiveMessage(type="AlertChanged", data='{"a": 1}')) == (
        'event: AlertChanged\ndata: {"a": 1}\n\n'
    )
