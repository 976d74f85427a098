"""Robot dogs' and patrol devices' telemetry over MQTT.

Topic ``kupol/units/<callsign>/telemetry`` (``[fleet] mqtt_topic``), QoS 0 or 1, one JSON
object per sample (:class:`TelemetryIn`)::

    {"at": "2026-12-04T10:15:02+05:00", "lat": 43.2389, "lon": 76.8897,
     "alt_m": 812.0, "heading_deg": 91.5, "speed_mps": 1.4, "battery_pct": 76,
     "status": "on_mission"}

``at``, ``lat`` and ``lon`` are required; ``status`` is one of idle, on_mission, returning,
charging, fault. A sample that cannot be taken (bad JSON, unknown fields, impossible values, an
unknown callsign, older than the unit's last) is refused and the reason published to
``kupol/units/<callsign>/telemetry/rejected`` so the device's owner sees it. Telemetry is
live data: the subscription is a clean session, and what was sent while kupol was down is
not replayed.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from kupol.core.errors import InvalidInputError, NotFoundError, ServiceUnavailableError
from kupol.fleet.service import Fleet, Sample

log = logging.getLogger(__name__)


class TelemetryIn(BaseModel):
    """One sample from a robot dog or patrol device."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt_m: float | None = Field(None, ge=-500, le=20_000)
    heading_deg: float | None = Field(None, ge=0, le=360)
    speed_mps: float | None = Field(None, ge=0, le=150)
    battery_pct: float | None = Field(None, ge=0, le=100)
    status: str | None = None

    def sample(self) -> Sample:
        return Sample(
            at=self.at, lat=self.lat, lon=self.lon, alt_m=self.alt_m,
            heading_deg=self.heading_deg, speed_mps=self.speed_mps,
            battery_pct=self.battery_pct, status=self.status, source="mqtt",
        )  # fmt: skip


def callsign_of(topic: str) -> str | None:
    """``kupol/units/<callsign>/telemetry`` → the callsign."""
    parts = topic.split("/")
    return parts[2] if len(parts) == 4 and parts[3] == "telemetry" else None


def take(fleet: Fleet, topic: str, payload: bytes | bytearray) -> str | None:
    """Hand one message to the fleet; returns why it was refused, or None."""
    callsign = callsign_of(topic)
    if callsign is None:
        return f"topic {topic!r} is not kupol/units/<callsign>/telemetry"
    try:
        sample = TelemetryIn.model_validate_json(payload).sample()
        fleet.accept(callsign, sample)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
    except (InvalidInputError, NotFoundError) as exc:
        return str(exc)
    return None


class MqttTelemetry:
    """Subscribes to units' telemetry and hands it to the fleet (paho's network thread)."""

    def __init__(self, fleet: Fleet, *, host: str, port: int, topic: str) -> None:
        self._fleet = fleet
        self._host, self._port, self._topic = host, port, topic
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"kupol-fleet-{uuid.uuid4().hex[:8]}",
            clean_session=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.rejected = 0

    def start(self, wait_s: float = 10.0) -> None:
        """Connect and subscribe; returns once the broker confirmed the subscription (or after
        ``wait_s``, logged), so no sample sent after start is missed.

        Raises:
            ServiceUnavailableError: the broker does not answer.
        """
        try:
            self._client.connect(self._host, self._port, 30)
        except OSError as exc:
            raise ServiceUnavailableError(
                f"cannot connect to MQTT at {self._host}:{self._port}: {exc}"
            ) from exc
        self._client.loop_start()
        if not self.subscribed.wait(wait_s):
            log.warning("fleet telemetry: the broker has not confirmed %s yet", self._topic)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_subscribe(self, *_: object) -> None:
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        reason = take(self._fleet, msg.topic, msg.payload)
        if reason is not None:
            self.rejected += 1
            log.info("fleet telemetry on %s refused: %s", msg.topic, reason)
            client.publish(msg.topic + "/rejected", json.dumps({"reason": reason}), qos=0)
