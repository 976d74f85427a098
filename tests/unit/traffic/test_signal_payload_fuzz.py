"""Hostile MQTT reports from traffic-light controllers: each changes the board or is logged and
dropped — never an exception in the MQTT client's thread, which would stop every signal's
reports."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kupol.traffic.controller import SignalBoard
from tests.unit.fuzzing import FUZZ, hostile, json_mutated

TOPIC = "kupol/signals/sig-1/phase"
REPORT = {"phase": "red", "at": "2026-12-03T09:40:00+05:00"}


@FUZZ
@given(payload=hostile(json.dumps(REPORT).encode(), noise='{}[]":,0e-.+T'))
def test_hostile_bytes_change_the_board_or_are_dropped(payload: bytes) -> None:
    SignalBoard().on_mqtt(TOPIC, payload)


@FUZZ
@given(
    report=json_mutated(REPORT),
    at=st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-12-03"]),
    topic=st.sampled_from([TOPIC, "sig-1", "", "kupol/signals/../phase", "a/ä ü/phase"]),
)
def test_hostile_values_change_the_board_or_are_dropped(
    report: dict[str, object], at: str, topic: str
) -> None:
    board = SignalBoard()
    board.on_mqtt(topic, json.dumps(report).encode())
    board.on_mqtt(topic, json.dumps({**REPORT, "at": at}).encode())


def test_a_payload_nested_too_deeply_is_dropped() -> None:
    SignalBoard().on_mqtt(TOPIC, b"[" * 100_000)
