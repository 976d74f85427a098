"""Camera events from an MQTT broker (edge boxes, drones and robots publish there).

Topic ``kupol/cameras/<camera_id>/events``, QoS 1, a JSON body shaped like the API's
:class:`CameraEventIn` (``camera_id`` may be left out: the topic names it).

Nothing is lost: the subscription is a persistent session (fixed client id, no clean
session) with manual acknowledgement, so a message is acknowledged to the broker only after
the bus accepted it; until then the broker keeps it and redelivers it after a crash. A
message that cannot be accepted (bad JSON, invalid fields, unknown camera) is kept in the
quarantine with the reason, acknowledged, and the reason is published to
``<topic>/rejected`` so the device's owner sees it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from kupol.core.bus import Bus
from kupol.core.errors import ServiceUnavailableError
from kupol.core.quarantine import Quarantine
from kupol.events.api import to_message
from kupol.events.schemas import CameraEventIn
from kupol.settings import MqttSettings

log = logging.getLogger(__name__)
_MQTT_NAMESPACE = uuid.UUID("6f1c2f7e-4b0a-4e0c-9a51-6b75706f6c31")


class _RejectedError(Exception):
    """The message was invalid and is now in the quarantine."""


class MqttIngest:
    """Subscribes to camera events on MQTT and publishes them on the bus."""

    def __init__(
        self, *, settings: MqttSettings, bus: Bus, quarantine: Quarantine, known_cameras: Any
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._quarantine = quarantine
        self._known_cameras = known_cameras
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self.accepted = 0
        self.rejected = 0
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            manual_ack=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscribed = threading.Event()

    async def start(self) -> None:
        """Connect and subscribe; the network loop runs in paho's thread."""
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(
                self._client.connect, self._settings.host, self._settings.port, 30
            )
        except OSError as exc:
            raise ServiceUnavailableError(
                f"cannot connect to MQTT at {self._settings.host}:{self._settings.port}: {exc}"
            ) from exc
        self._client.loop_start()

    async def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker."""
        self._stopping.set()
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connection refused: %s", reason)
            return
        self._subscribed.clear()
        client.subscribe(self._settings.topic, qos=1)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any = None
    ) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("MQTT subscription to %s refused: %s", self._settings.topic, reasons)
            self._subscribed.clear()
            return
        self._subscribed.set()

    @property
    def subscribed(self) -> bool:
        """Whether the broker has confirmed the subscription (events are flowing)."""
        return self._subscribed.is_set()

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (readiness)."""
        return bool(self._client.is_connected())

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # Nothing slow or failing runs in paho's network thread (it also keeps the connection
        # alive): the message is handled on the event loop, retried until it is taken.
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._process(msg), self._loop)
        future.add_done_callback(lambda f: self._after_accept(f, msg))

    async def _process(self, msg: mqtt.MQTTMessage) -> None:
        """Validate, then publish or quarantine; database trouble is retried, not dropped."""
        delay = 0.2
        while not self._stopping.is_set():
            try:
                try:
                    event = await asyncio.to_thread(self._parse, msg.topic, bytes(msg.payload))
                except ValueError as exc:
                    await asyncio.to_thread(self._reject, msg, str(exc))
                    raise _RejectedError from None
                break
            except _RejectedError:
                raise
            except Exception as exc:
                log.warning("MQTT message on %s waits for the database: %s", msg.topic, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        else:
            raise ServiceUnavailableError("stopping")
        await self._accept(event)

    def _parse(self, topic: str, payload: bytes) -> CameraEventIn:
        parts = topic.split("/")
        camera_from_topic = parts[-2] if len(parts) >= 2 else None
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"body is not JSON (or nested too deeply): {exc}") from None
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        body.setdefault("camera_id", camera_from_topic)
        # Without an id of its own, the event's id is derived from its content, so a message
        # the broker redelivers (kupol crashed before acknowledging it) is the same event.
        body.setdefault("id", str(uuid.uuid5(_MQTT_NAMESPACE, topic + "\n" + payload.hex())))
        if body["camera_id"] != camera_from_topic:
            raise ValueError(
                f"camera_id {body['camera_id']!r} differs from the topic's {camera_from_topic!r}"
            )
        try:
            event = CameraEventIn.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None
        if event.camera_id not in self._known_cameras():
            raise ValueError(f"unknown camera {event.camera_id!r}")
        return event

    async def _accept(self, event: CameraEventIn) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            try:
                await self._bus.publish(to_message(event))
                return
            except Exception as exc:
                log.warning("MQTT event %s not accepted yet: %s", event.id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        raise ServiceUnavailableError("stopping")

    def _after_accept(self, future: Any, msg: mqtt.MQTTMessage) -> None:
        error = future.exception()
        if error is None:
            self.accepted += 1
            self._client.ack(msg.mid, msg.qos)
        elif isinstance(error, _RejectedError):
            self._client.ack(msg.mid, msg.qos)  # kept in the quarantine with its reason
        # Otherwise (shutting down): not acknowledged, the broker keeps it for the next session.

    def _reject(self, msg: mqtt.MQTTMessage, reason: str) -> None:
        self.rejected += 1
        log.warning("MQTT message on %s rejected: %s", msg.topic, reason)
        self._quarantine.keep(source=f"mqtt:{msg.topic}", reason=reason, body=msg.payload)
        self._client.publish(f"{msg.topic}/rejected", json.dumps({"reason": reason}), qos=1)
