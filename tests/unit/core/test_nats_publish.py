"""Publishing through a NATS restart (kupol.core.bus.nats_publish), on a fake client: nothing
handed over while disconnected, so a refusal is certain; what was sent and not acknowledged is
sent again under the same Nats-Msg-Id after a reconnection; sent and never answered is
reported unconfirmed, never refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from nats.js.errors import APIError

from kupol.core.bus.base import DeliveryError, DeliveryUnconfirmedError
from kupol.core.bus.nats_publish import Reconnections, publish_confirmed

PACKS = [("k.event.Ping", b"{}", {"Nats-Msg-Id": i}, 1) for i in "ab"]


class FakeClient:
    def __init__(self, connected: bool = True) -> None:
        self.is_connected = connected


class FakeJetStream:
    """Each publish gets a future; ``answer`` decides what becomes of it (None: no answer)."""

    def __init__(self, answer: Callable[[int], Any]) -> None:
        self.answer = answer
        self.sent: list[str] = []

    async def publish_async(self, subject: str, payload: bytes, headers: dict[str, str]) -> Any:
        self.sent.append(headers["Nats-Msg-Id"])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        outcome = self.answer(len(self.sent))
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        elif outcome is not None:
            future.set_result(outcome)
        return future


async def publish(nc: FakeClient, js: FakeJetStream, reconnections: Reconnections,
                  timeout_s: float = 0.3) -> None:  # fmt: skip
    await publish_confirmed(nc=nc, js=js, reconnections=reconnections,  # type: ignore[arg-type]
                            packs=PACKS, timeout_s=timeout_s)  # fmt: skip


async def test_a_publish_while_nats_is_down_hands_nothing_over_and_is_refused_surely() -> None:
    js = FakeJetStream(lambda n: "ack")
    with pytest.raises(DeliveryError) as raised:
        await publish(FakeClient(connected=False), js, Reconnections())
    assert type(raised.value) is DeliveryError and "none stored" in str(raised.value)
    assert js.sent == []


async def test_a_publish_waits_for_the_reconnection_and_then_goes_through() -> None:
    nc, reconnections = FakeClient(connected=False), Reconnections()
    js = FakeJetStream(lambda n: "ack")

    async def come_back() -> None:
        await asyncio.sleep(0.05)
        nc.is_connected = True
        reconnections.happened()

    await asyncio.gather(publish(nc, js, reconnections, timeout_s=2), come_back())
    assert js.sent == ["a", "b"]


async def test_the_unacknowledged_are_sent_again_with_the_same_ids_after_a_reconnection() -> None:
    nc, reconnections = FakeClient(), Reconnections()
    js = FakeJetStream(lambda n: None if n <= 2 else "ack")  # the first two lost with the server

    async def restart() -> None:
        await asyncio.sleep(0.05)
        reconnections.happened()

    await asyncio.gather(publish(nc, js, reconnections, timeout_s=2), restart())
    assert js.sent == ["a", "b", "a", "b"]


async def test_sent_and_never_answered_is_reported_unconfirmed_not_refused() -> None:
    js = FakeJetStream(lambda n: None)
    with pytest.raises(DeliveryUnconfirmedError, match="send them again with the same ids"):
        await publish(FakeClient(), js, Reconnections())


async def test_a_refusal_from_jetstream_itself_is_certain() -> None:
    js = FakeJetStream(lambda n: APIError(code=503, description="insufficient resources"))
    with pytest.raises(DeliveryError) as raised:
        await publish(FakeClient(), js, Reconnections())
    assert type(raised.value) is DeliveryError and "insufficient resources" in str(raised.value)
    assert len(js.sent) >= 2  # asked again, after a pause, until the time-out
