"""A smart crossing's warning device over MQTT, and the log of its activations.

Each crossing's device listens on ``<prefix>/<crossing_id>/warning``. kupol publishes the
:class:`~kupol.traffic.crosswalk.WarningCommand` there as JSON, QoS 1 and *retained*, so a
device that reconnects after a power cut gets the current state at once. Every command is
logged with its latency: from the moment the deciding frame was taken to the broker's
acknowledgement of the command (the part of "frame to lights on" kupol controls).

Payload: ``{"crossing_id": "x1", "on": true, "reason": "waiting", "t": 12.4,
"sent_at": "2026-12-03T09:40:00.123+00:00"}`` (``t``: the frame's time in the camera's
seconds).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kupol.core.errors import ServiceUnavailableError
from kupol.traffic.crosswalk import WarningCommand

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Activation:
    """One command sent to a crossing's device."""

    crossing_id: str
    on: bool
    reason: str
    t: float
    sent_at: datetime
    latency_ms: float
    """From the deciding frame's capture to the broker's acknowledgement."""


class MqttWarningDevice:
    """Publishes crossings' warning commands to an MQTT broker and keeps their log."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        prefix: str = "kupol/crossings",
        client_id: str = "kupol-crossings",
        timeout_s: float = 5.0,
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.timeout_s = timeout_s
        self.log: list[Activation] = []
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id
        )
        try:
            self._client.connect(host, port, 30)
        except OSError as exc:
            raise ServiceUnavailableError(
                f"cannot connect to MQTT at {host}:{port} for the crossings: {exc}"
            ) from exc
        self._client.loop_start()

    def topic(self, crossing_id: str) -> str:
        """The topic a crossing's device listens on."""
        return f"{self.prefix}/{crossing_id}/warning"

    def send(self, command: WarningCommand, *, frame_captured: float) -> Activation:
        """Publish ``command`` and wait for the broker's acknowledgement.

        Args:
            command: What :class:`~kupol.traffic.crosswalk.WarningSwitch` decided.
            frame_captured: ``time.perf_counter()`` when the deciding frame was taken.

        Raises:
            ServiceUnavailableError: The broker did not acknowledge in ``timeout_s``; the
                command is not logged as sent.
        """
        sent_at = datetime.now(UTC)
        payload = json.dumps(
            {
                "crossing_id": command.crossing_id,
                "on": command.on,
                "reason": command.reason,
                "t": command.t,
                "sent_at": sent_at.isoformat(),
            }
        )
        info = self._client.publish(self.topic(command.crossing_id), payload, qos=1, retain=True)
        try:
            info.wait_for_publish(timeout=self.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise ServiceUnavailableError(f"MQTT refused the command: {exc}") from exc
        if not info.is_published():
            raise ServiceUnavailableError(
                f"the MQTT broker did not acknowledge the command for {command.crossing_id} "
                f"within {self.timeout_s} s"
            )
        activation = Activation(
            crossing_id=command.crossing_id,
            on=command.on,
            reason=command.reason,
            t=command.t,
            sent_at=sent_at,
            latency_ms=(time.perf_counter() - frame_captured) * 1000.0,
        )
        self.log.append(activation)
        return activation

    def close(self) -> None:
        """Stop the network loop and disconnect."""
        self._client.loop_stop()
        self._client.disconnect()


class LoggedWarningDevice:
    """A crossing without a device on the network (the embedded default): each command is
    logged and counted, its latency measured to the decision."""

    def __init__(self) -> None:
        self.log: list[Activation] = []

    def send(self, command: WarningCommand, *, frame_captured: float) -> Activation:
        """Log ``command`` as sent."""
        activation = Activation(
            crossing_id=command.crossing_id,
            on=command.on,
            reason=command.reason,
            t=command.t,
            sent_at=datetime.now(UTC),
            latency_ms=(time.perf_counter() - frame_captured) * 1000.0,
        )
        _log.info(
            "crossing %s: warning %s (%s)",
            command.crossing_id,
            "on" if command.on else "off",
            command.reason,
        )
        self.log.append(activation)
        return activation


class RetryingMqttDevice:
    """The crossings' MQTT device that survives its broker: while the broker cannot be
    reached, commands are logged (and counted) and the connection is tried again every
    ``retry_s``; once connected, paho reconnects on its own."""

    def __init__(self, connect: Callable[[], MqttWarningDevice], *, retry_s: float = 30.0) -> None:
        self._connect = connect
        self._retry_s = retry_s
        self._mqtt: MqttWarningDevice | None = None
        self._tried = -math.inf
        self._fallback = LoggedWarningDevice()
        self._lock = threading.Lock()

    def _device(self) -> MqttWarningDevice | None:
        with self._lock:
            if self._mqtt is None and time.monotonic() - self._tried >= self._retry_s:
                self._tried = time.monotonic()
                try:
                    self._mqtt = self._connect()
                except ServiceUnavailableError as exc:
                    _log.error("crossings: %s; warnings are only logged until it answers", exc)
            return self._mqtt

    def send(self, command: WarningCommand, *, frame_captured: float) -> Activation:
        """Send over MQTT when the broker answers, else log."""
        device = self._device()
        if device is not None:
            try:
                return device.send(command, frame_captured=frame_captured)
            except ServiceUnavailableError as exc:
                _log.error("crossing %s: %s", command.crossing_id, exc)
        return self._fallback.send(command, frame_captured=frame_captured)

    def close(self) -> None:
        """Disconnect."""
        with self._lock:
            if self._mqtt is not None:
                self._mqtt.close()
                self._mqtt = None
