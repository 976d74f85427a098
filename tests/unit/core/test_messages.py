"""Messages: frozen, identified, and carried as JSON back to the same type."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from kupol.alerts.messages import AlertChanged
from kupol.core.errors import InvalidInputError
from kupol.core.messages import (
    decode,
    decode_as,
    decode_list_as,
    encode,
    encode_list,
    envelope,
    message_type,
    utcnow,
)
from kupol.events.messages import CameraEventObserved, EvidenceRef


def observed(**fields: Any) -> CameraEventObserved:
    values: dict[str, Any] = {
        "camera_id": "ast-01",
        "type": "motion",
        "confidence": 0.8,
        "zone": "road",
        "occurred_at": datetime(2026, 1, 5, 20, 0, 0, 123456, tzinfo=UTC),
        "payload": {"box": [0.1, 0.2, 0.3, 0.4], "note": "Қазақстан"},
        "evidence": (EvidenceRef(kind="snapshot", uri="ast-01/a.jpg", sha256="0" * 64),),
    }
    values.update(fields)
    return CameraEventObserved(**values)


def test_a_message_survives_the_json_envelope_unchanged() -> None:
    event = observed()

    copy = decode(envelope(event))

    assert copy == event
    assert type(copy) is CameraEventObserved
    assert isinstance(copy.evidence[0], EvidenceRef)


def test_a_list_of_messages_is_one_json_array_of_their_own_json() -> None:
    events = [observed(), observed(zone=None, payload={}, evidence=())]

    data = encode_list(CameraEventObserved, events)

    assert json.loads(data) == [json.loads(encode(e)) for e in events]
    assert decode_list_as(CameraEventObserved, data) == events
    assert encode_list(CameraEventObserved, []) == b"[]"


def test_every_message_gets_its_own_id_and_an_aware_creation_time() -> None:
    first, second = observed(), observed()

    assert isinstance(first.id, UUID)
    assert first.id != second.id
    assert first.created_at.tzinfo is not None
    assert utcnow().utcoffset() is not None


def test_messages_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        observed().camera_id = "other"  # type: ignore[misc]


def test_message_classes_register_under_their_name() -> None:
    assert message_type("AlertChanged") is AlertChanged
    assert message_type("CameraEventObserved") is CameraEventObserved


def test_an_unknown_message_type_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="NoSuchEvent"):
        decode(b'{"type":"NoSuchEvent","body":{}}')


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"body":{}}', b'{"type":"AlertChanged"}'])
def test_a_malformed_envelope_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInputError, match="malformed"):
        decode(data)


def test_a_body_with_a_wrong_field_is_invalid_input_naming_the_type() -> None:
    body = json.loads(encode(observed()))
    body["confidence"] = "very"

    with pytest.raises(InvalidInputError, match="CameraEventObserved"):
        decode_as(CameraEventObserved, body)


def test_message_ids_are_version_7_and_sort_by_creation_time() -> None:
    import time
    import uuid

    from kupol.core.messages import uuid7

    first = [uuid7() for _ in range(1000)]
    time.sleep(0.002)
    later = uuid7()
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in first)
    assert len(set(first)) == 1000  # random within a millisecond
    assert max(first) < later  # a later millisecond sorts after
    ms = later.int >> 80
    assert abs(ms - time.time() * 1000) < 1000  # the Unix time in milliseconds
    assert observed().id.version == 7


def test_message_ids_stay_unique_across_forked_processes_and_a_seeded_random_module() -> None:
    import os
    import random
    import uuid

    from kupol.core.messages import uuid7

    # Workers forked from one parent must not repeat its (or each other's) random bits.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, b"".join(uuid7().bytes for _ in range(100)))
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    child = {uuid.UUID(bytes=data[i : i + 16]) for i in range(0, len(data), 16)}
    parent = {uuid7() for _ in range(100)}
    assert len(child) == 100 and not child & parent
    assert {i.int & (1 << 74) - 1 for i in child}.isdisjoint(
        {i.int & (1 << 74) - 1 for i in parent}
    )
    # A test (or a library) seeding the random module does not make ids repeat.
    random.seed(1)
    first = uuid7()
    random.seed(1)
    assert uuid7() != first
    # A plain UUID in every respect: equal to its parsed text, hashes and compares alike.
    made = uuid7()
    assert uuid.UUID(str(made)) == made and hash(uuid.UUID(made.hex)) == hash(made)
    assert made.version == 7 and made.variant == uuid.RFC_4122
