"""Hostile MQTT payloads from cameras: each is an event or refused with its reason (a
ValueError, which quarantines the message) — never another exception, which the ingest would
take for a database outage and retry for ever."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kupol.events.mqtt import MqttIngest
from kupol.settings import MqttSettings
from tests.unit.fuzzing import FUZZ, hostile, json_mutated

TOPIC = "kupol/cameras/cam-1/events"
EVENT = {
    "camera_id": "cam-1",
    "type": "line_crossed",
    "occurred_at": "2026-03-02T09:00:00+05:00",
    "confidence": 0.9,
    "zone": "entry",
    "payload": {"label": "car", "box": [10, 20, 110, 80]},
}


def ingest() -> MqttIngest:
    return MqttIngest(settings=MqttSettings(), bus=None, quarantine=None,  # type: ignore[arg-type]
                      known_cameras=lambda: {"cam-1"})  # fmt: skip


def parsed_or_refused(topic: str, payload: bytes) -> None:
    with contextlib.suppress(ValueError):  # quarantined with its reason
        ingest()._parse(topic, payload)


@FUZZ
@given(payload=hostile(json.dumps(EVENT).encode(), noise='{}[]":,0e-.'))
def test_hostile_bytes_are_an_event_or_refused(payload: bytes) -> None:
    parsed_or_refused(TOPIC, payload)


@FUZZ
@given(event=json_mutated(EVENT), topic=st.sampled_from([TOPIC, "cam-1", "", "a/b/c/d/e"]))
def test_hostile_values_are_an_event_or_refused(event: object, topic: str) -> None:
    parsed_or_refused(topic, json.dumps(event).encode())


def test_a_valid_event_is_read() -> None:
    assert ingest()._parse(TOPIC, json.dumps(EVENT).encode()).camera_id == "cam-1"


def test_a_payload_nested_too_deeply_is_refused() -> None:
    for payload in (b"[" * 100_000, b'{"a":' * 100_000):
        parsed_or_refused(TOPIC, payload)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_at_the_calendar_s_edge_is_refused(at: str) -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        ingest()._parse(TOPIC, json.dumps({**EVENT, "occurred_at": at}).encode())
