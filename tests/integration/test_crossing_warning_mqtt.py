"""A smart crossing's warning device over real Mosquitto: on when someone waits or crosses,
off after the hold, the current state retained for a device that reconnects, every command
logged with its latency."""

from __future__ import annotations

import json
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kupol.core.errors import ServiceUnavailableError
from kupol.traffic.crosswalk import CrossingLayout, WarningCommand, WarningSwitch
from kupol.traffic.warning_device import MqttWarningDevice
from tests.conftest import MQTT_HOST, need_service

pytestmark = pytest.mark.mqtt

LAYOUT = CrossingLayout(
    crosswalk=((0.0, 0.0), (7.0, 0.0), (7.0, 4.0), (0.0, 4.0)),
    waiting_areas=(((-2.0, 0.0), (0.0, 0.0), (0.0, 4.0), (-2.0, 4.0)),),
)


def listen(topic: str) -> tuple[mqtt.Client, list[dict[str, object]], threading.Event]:
    got: list[dict[str, object]] = []
    arrived = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4().hex[:6]}"
    )

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(json.loads(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.connect(MQTT_HOST, 1883)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client, got, arrived


def wait_for(got: list[dict[str, object]], n: int) -> None:
    deadline = time.monotonic() + 5
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.02)


def test_the_device_gets_on_and_off_in_order_and_every_command_is_logged() -> None:
    need_service("Mosquitto", MQTT_HOST, 1883)
    prefix = f"kupol-test-{uuid.uuid4().hex[:8]}/crossings"
    device = MqttWarningDevice(host=MQTT_HOST, prefix=prefix, client_id=f"c-{uuid.uuid4().hex[:6]}")
    lights, got, _ = listen(device.topic("x1"))
    try:
        switch = WarningSwitch("x1", LAYOUT, hold_s=2.0)
        frames = [(0.0, [(-5.0, 2.0)]), (1.0, [(-1.0, 2.0)]), (2.0, [(1.0, 2.0)]), (3.0, [])]
        frames += [(4.0, []), (5.5, [])]
        for t, people in frames:
            captured = time.perf_counter()
            command = switch.update(t=t, pedestrians=people)
            if command is not None:
                device.send(command, frame_captured=captured)
        wait_for(got, 2)
        assert [(m["on"], m["reason"], m["t"]) for m in got] == [
            (True, "waiting", 1.0),
            (False, "clear", 4.0),
        ]
        assert [(a.on, a.t) for a in device.log] == [(True, 1.0), (False, 4.0)]
        assert all(a.latency_ms > 0 for a in device.log)
    finally:
        lights.loop_stop()
        lights.disconnect()

    # A device that (re)connects now is told the current state: off.
    late, late_got, arrived = listen(device.topic("x1"))
    try:
        assert arrived.wait(5), "no retained state"
        assert late_got[-1]["on"] is False
    finally:
        late.loop_stop()
        late.disconnect()
        # Clear the retained message so the broker does not keep test state.
        device._client.publish(device.topic("x1"), b"", qos=1, retain=True).wait_for_publish(5)
        device.close()


def test_no_broker_is_a_clear_error() -> None:
    with pytest.raises(ServiceUnavailableError, match="cannot connect to MQTT"):
        MqttWarningDevice(host="127.0.0.1", port=1, client_id="nobody")


def test_a_command_not_acknowledged_in_time_is_an_error_and_not_logged() -> None:
    need_service("Mosquitto", MQTT_HOST, 1883)
    device = MqttWarningDevice(
        host=MQTT_HOST, prefix=f"kupol-test-{uuid.uuid4().hex[:8]}", timeout_s=0.5
    )
    device._client.loop_stop()  # the network loop stops: nothing reaches the broker any more
    try:
        with pytest.raises(ServiceUnavailableError, match="did not acknowledge"):
            device.send(
                WarningCommand("x9", True, 0.0, "waiting"), frame_captured=time.perf_counter()
            )
        assert device.log == []
    finally:
        device._client.disconnect()
