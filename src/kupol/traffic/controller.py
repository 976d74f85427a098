"""Traffic-light phases from the controllers: the signal board every camera's red-light rule
reads, fed over HTTP (``POST /api/traffic/signals/{id}``) or MQTT
(``kupol/signals/<id>/phase``, JSON ``{"phase": "red", "at": "2026-12-03T09:40:00+05:00"}``).

Times are wall-clock (UTC epoch seconds on the board): the cameras' frames carry the same
clock. A report older than the signal's last one, of an unknown phase, or without a time
zone is refused with its reason and the board is unchanged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime
from typing import Any

from kupol.core.errors import InvalidInputError
from kupol.traffic.signals import SignalTimeline

log = logging.getLogger(__name__)
SIGNAL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SignalBoard:
    """The phase timelines of every signal head, shared by the cameras (thread-safe)."""

    def __init__(self) -> None:
        self._timelines: dict[str, SignalTimeline] = {}
        self._controlled: set[str] = set()
        self._lock = threading.Lock()

    def report(
        self, *, signal_id: str, phase: str, at: datetime, source: str = "controller"
    ) -> None:
        """A report that ``signal_id`` turned ``phase`` at ``at``, from its controller or
        read by a camera (``source="camera"``).

        The controller is the authority: once a signal has a controller report, the phases
        cameras read from their frames are ignored for it, and its first controller report
        replaces what the cameras had read.

        Raises:
            InvalidInputError: a bad id, a time without its zone, an unknown phase or a
                report older than the last one.
        """
        if not SIGNAL_ID.match(signal_id):
            raise InvalidInputError(f"{signal_id!r} is not a signal id (letters, digits, ._-)")
        if at.tzinfo is None:
            raise InvalidInputError("the time needs its UTC offset")
        with self._lock:
            controlled = signal_id in self._controlled
            if source == "camera" and controlled:
                return
            timeline = self._timelines.get(signal_id)
            if timeline is None or (source == "controller" and not controlled):
                timeline = SignalTimeline(signal_id)
            timeline.change(at=at.timestamp(), phase=phase)
            self._timelines[signal_id] = timeline
            if source == "controller":
                self._controlled.add(signal_id)

    def timeline(self, signal_id: str) -> SignalTimeline:
        """The signal's timeline (an empty one, unknown phase, before its first report)."""
        with self._lock:
            return self._timelines.setdefault(signal_id, SignalTimeline(signal_id))

    def phases(self, at: datetime) -> dict[str, str | None]:
        """Every known signal's phase at ``at``."""
        with self._lock:
            timelines = dict(self._timelines)
        return {sid: t.phase_at(at.timestamp()) for sid, t in sorted(timelines.items())}

    def on_mqtt(self, topic: str, payload: bytes) -> None:
        """One MQTT report on ``…/<signal_id>/phase``; a bad one is logged and dropped."""
        try:
            parts = topic.split("/")
            if len(parts) < 2:
                raise InvalidInputError(f"topic {topic!r} names no signal")
            signal_id = parts[-2]
            data: Any = json.loads(payload)
            if not isinstance(data, dict):
                raise InvalidInputError("the payload must be a JSON object")
            phase, at = data.get("phase"), data.get("at")
            if not isinstance(phase, str) or not isinstance(at, str):
                raise InvalidInputError('the payload needs "phase" and "at" as text')
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                raise InvalidInputError(f"{at!r} is not an ISO 8601 time") from None
            self.report(signal_id=signal_id, phase=phase, at=when)
        except (InvalidInputError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            log.warning("signal report on %s refused: %s", topic, exc)


class MqttSignalFeed:
    """Subscribes the board to the controllers' MQTT topic."""

    def __init__(self, board: SignalBoard, *, host: str, port: int, topic: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.topic = topic
        self._client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self._client.on_message = lambda _c, _u, msg: board.on_mqtt(msg.topic, bytes(msg.payload))
        self._host, self._port = host, port

    def start(self) -> None:
        """Connect (in the background; reconnects on its own)."""
        self._client.connect_async(self._host, self._port, 30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self._client.loop_stop()
        self._client.disconnect()
