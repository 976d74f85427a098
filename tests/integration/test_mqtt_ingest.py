"""Camera events over MQTT (real Mosquitto): accepted, rejected with a reason, never lost."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import select

from kupol.api.app import create_app
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.quarantine import QuarantinedInput
from kupol.events.model import CameraEvent
from tests.conftest import MQTT_HOST, make_settings, need_service


@pytest.fixture
async def mqtt_container(database_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    need_service("Mosquitto", MQTT_HOST, 1883)
    prefix = f"kupol-test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        mqtt={
            "enabled": True,
            "host": MQTT_HOST,
            "topic": f"{prefix}/cameras/+/events",
            "client_id": prefix,
        },
    )
    container = build_container(settings)
    container.cameras.register(
        camera=CameraCreate(id="cam-mqtt", name="mqtt camera", latitude=43.24, longitude=76.95),
        actor=SYSTEM,
    )
    await container.start(with_sources=False)
    container.prefix = prefix  # type: ignore[attr-defined]
    yield container
    await container.stop()


def publisher(prefix: str, replies: list[str]) -> mqtt.Client:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"{prefix}-device"
    )
    client.on_message = lambda _c, _u, msg: replies.append(msg.payload.decode())
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(MQTT_HOST, 1883)
    client.subscribe(f"{prefix}/cameras/+/events/rejected", qos=1)
    client.loop_start()
    client.subscribed = subscribed  # type: ignore[attr-defined]
    return client


async def subscribed(container: Container, device: mqtt.Client | None = None) -> None:
    """Until kupol's subscription (and the device's, if given) is confirmed by the broker."""
    assert container.mqtt is not None
    mqtt_ingest = container.mqtt
    await wait_for(
        lambda: mqtt_ingest.subscribed and (device is None or device.subscribed.is_set())  # type: ignore[attr-defined]
    )


async def wait_for(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_valid_mqtt_events_are_stored_and_bad_ones_quarantined_with_the_reason(
    mqtt_container: Container,
) -> None:
    prefix = mqtt_container.prefix  # type: ignore[attr-defined]
    replies: list[str] = []
    device = publisher(prefix, replies)
    await subscribed(mqtt_container, device)
    try:
        good = {
            "id": str(uuid.uuid4()),
            "type": "motion",
            "confidence": 0.7,
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": {"area": 0.1},
        }
        device.publish(f"{prefix}/cameras/cam-mqtt/events", json.dumps(good), qos=1)
        device.publish(f"{prefix}/cameras/cam-mqtt/events", b"{not json", qos=1)
        device.publish(
            f"{prefix}/cameras/cam-nowhere/events",
            json.dumps({**good, "id": str(uuid.uuid4())}),
            qos=1,
        )
        device.publish(
            f"{prefix}/cameras/cam-mqtt/events",
            json.dumps({**good, "id": str(uuid.uuid4()), "confidence": 7}),
            qos=1,
        )

        def stored() -> list[CameraEvent]:
            with mqtt_container.db.reader() as session:
                return list(session.scalars(select(CameraEvent)))

        await wait_for(lambda: len(stored()) == 1 and len(replies) == 3)
        assert str(stored()[0].id) == good["id"]
        reasons = " | ".join(json.loads(r)["reason"] for r in replies)
        assert "not JSON" in reasons
        assert "unknown camera 'cam-nowhere'" in reasons
        assert "confidence" in reasons
        with mqtt_container.db.reader() as session:
            kept = list(session.scalars(select(QuarantinedInput)))
        assert len(kept) == 3
        assert {q.source.split("/")[-2] for q in kept} == {"cam-mqtt", "cam-nowhere"}
    finally:
        device.loop_stop()
        device.disconnect()


async def test_an_event_sent_while_kupol_was_down_is_delivered_when_it_comes_back(
    mqtt_container: Container,
) -> None:
    prefix = mqtt_container.prefix  # type: ignore[attr-defined]
    await subscribed(mqtt_container)  # the persistent session is registered with the broker
    assert mqtt_container.mqtt is not None
    await mqtt_container.mqtt.stop()
    device = publisher(prefix, [])
    event_id = str(uuid.uuid4())
    info = device.publish(
        f"{prefix}/cameras/cam-mqtt/events",
        json.dumps(
            {
                "id": event_id,
                "type": "motion",
                "confidence": 0.5,
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        ),
        qos=1,
    )
    info.wait_for_publish(5)
    device.loop_stop()
    device.disconnect()

    from kupol.events.mqtt import MqttIngest

    mqtt_container.mqtt = MqttIngest(
        settings=mqtt_container.settings.mqtt,
        bus=mqtt_container.bus,
        quarantine=mqtt_container.quarantine,
        known_cameras=mqtt_container.cameras.known_ids,
    )
    await mqtt_container.mqtt.start()

    def stored_ids() -> set[str]:
        with mqtt_container.db.reader() as session:
            return {str(i) for i in session.scalars(select(CameraEvent.id))}

    await wait_for(lambda: event_id in stored_ids())


async def test_a_message_without_an_id_redelivered_by_the_broker_is_stored_once(
    mqtt_container: Container,
) -> None:
    prefix = mqtt_container.prefix  # type: ignore[attr-defined]
    device = publisher(prefix, [])
    await subscribed(mqtt_container, device)
    body = json.dumps(
        {"type": "motion", "confidence": 0.4, "occurred_at": datetime.now(UTC).isoformat()}
    )
    try:
        # The same bytes twice: what the broker sends again when kupol crashed before
        # acknowledging the first delivery.
        device.publish(f"{prefix}/cameras/cam-mqtt/events", body, qos=1).wait_for_publish(5)
        device.publish(f"{prefix}/cameras/cam-mqtt/events", body, qos=1).wait_for_publish(5)

        def count() -> int:
            with mqtt_container.db.reader() as session:
                return len(session.scalars(select(CameraEvent.id)).all())

        await wait_for(
            lambda: mqtt_container.mqtt is not None and mqtt_container.mqtt.accepted >= 2
        )
        assert count() == 1
    finally:
        device.loop_stop()
        device.disconnect()


async def test_readiness_needs_the_subscription_confirmed_not_only_the_connection(
    mqtt_container: Container,
) -> None:
    """A broker may keep the connection and refuse the subscription (its access rules): no
    event would arrive, so kupol is not ready. The refusal comes as paho delivers it, a SUBACK
    failure code (this machine's Mosquitto grants a denied subscription and filters instead)."""
    await subscribed(mqtt_container)
    ingest = mqtt_container.mqtt
    assert ingest is not None
    transport = httpx.ASGITransport(app=create_app(mqtt_container))
    async with httpx.AsyncClient(transport=transport, base_url="http://kupol") as api:
        ready = await api.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["mqtt"] == "ok"

        refused = ReasonCode(PacketTypes.SUBACK, identifier=0x80)
        ingest._on_subscribe(ingest._client, None, 1, [refused])
        assert ingest.connected and not ingest.subscribed
        answer = await api.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["mqtt"] == "not subscribed"

        granted = ReasonCode(PacketTypes.SUBACK, identifier=1)
        ingest._on_subscribe(ingest._client, None, 2, [granted])
        assert (await api.get("/readyz")).status_code == 200
