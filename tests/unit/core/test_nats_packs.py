"""Events travel packed in JetStream messages; packing must lose, reorder or merge nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg

from kupol.core.bus.nats import PACK_EVENTS, packs, unpack
from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class PackPing(Event):
    n: int
    blob: str = ""


@dataclass(frozen=True, kw_only=True)
class PackPong(Event):
    n: int


def subject(event_type: type[Event]) -> str:
    return f"t.{event_type.type_name()}"


def as_msgs(items: list[tuple[str, bytes, dict[str, str]]]) -> list[Msg]:
    client: Any = None
    return [Msg(client, subject=s, data=p, headers=h) for s, p, h in items]


def test_a_pack_round_trips_every_event_in_order_and_by_type() -> None:
    events: list[Event] = [PackPing(n=i) for i in range(3)] + [PackPong(n=9), PackPing(n=3)]

    msgs = as_msgs(list(packs(events, subject)))

    assert [m.subject for m in msgs] == ["t.PackPing", "t.PackPong"]
    assert unpack(PackPing, msgs[0]) == [e for e in events if isinstance(e, PackPing)]
    assert unpack(PackPong, msgs[1]) == [events[3]]
    assert "Kupol-Pack" not in (msgs[1].headers or {})  # a lone event travels as itself
    assert msgs[1].headers == {"Nats-Msg-Id": str(events[3].id)}


def test_packs_are_split_by_count_and_by_size() -> None:
    many = [PackPing(n=i) for i in range(PACK_EVENTS + 1)]
    big = [PackPing(n=i, blob="x" * 200_000) for i in range(4)]

    by_count = as_msgs(list(packs(many, subject)))
    by_size = as_msgs(list(packs(big, subject)))

    assert [len(unpack(PackPing, m)) for m in by_count] == [PACK_EVENTS, 1]
    assert all(len(m.data) <= 512 * 1024 + 1024 for m in by_size)
    assert sum(len(unpack(PackPing, m)) for m in by_size) == 4


def test_publishing_the_same_events_again_gives_the_same_message_id() -> None:
    events = [PackPing(n=i) for i in range(5)]

    first = list(packs(events, subject))
    again = list(packs(events, subject))
    other = list(packs([*events[:4], PackPing(n=99)], subject))

    assert first[0][2]["Nats-Msg-Id"] == again[0][2]["Nats-Msg-Id"]
    assert first[0][2]["Nats-Msg-Id"] != other[0][2]["Nats-Msg-Id"]


def test_a_pack_that_is_not_a_list_of_the_events_is_refused_saying_which_item() -> None:
    import pytest

    from kupol.core.errors import InvalidInputError

    (subject_, payload, headers), *_ = packs([PackPing(n=1), PackPing(n=2)], subject)
    client: Any = None
    broken = payload.replace(b'"n":2', b'"n":"two"')
    for data, says in ((broken, "item 1"), (b'{"n": 1}', "PackPing list")):
        with pytest.raises(InvalidInputError, match=says):
            unpack(PackPing, Msg(client, subject=subject_, data=data, headers=headers))
