"""Hostile MAVLink datagrams on the drones' UDP port: noise, mutated packets, and well-formed
packets (right CRC) whose every field holds any value its type allows. The listener counts
what it cannot parse, hands the fleet only samples it accepts or refuses with a domain error,
and never lets an exception escape — one drone's garbage must not stop the others' telemetry.
A mission upload answered with any acknowledgement fails as ServiceUnavailableError."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymavlink.dialects.v20 import common as mav

from kupol.core.errors import ServiceUnavailableError
from kupol.fleet.mavlink import MavlinkListener
from kupol.fleet.missions import MissionItem
from kupol.fleet.service import Sample, check_sample
from tests.unit.fuzzing import FUZZ, hostile

SYSID = 7
ADDRESS = ("192.0.2.7", 14550)
MESSAGES = [
    mav.MAVLink_heartbeat_message, mav.MAVLink_sys_status_message,
    mav.MAVLink_battery_status_message, mav.MAVLink_global_position_int_message,
    mav.MAVLink_mission_current_message, mav.MAVLink_mission_item_reached_message,
    mav.MAVLink_mission_request_int_message, mav.MAVLink_mission_ack_message,
]  # fmt: skip
INTEGERS = {"int8_t": 8, "int16_t": 16, "int32_t": 32, "int64_t": 64}


class RecordingFleet:
    """The fleet as the listener sees it: drone SYSID is ``drone-1``; samples are checked as
    the real fleet checks them, and kept."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def callsign_of_sysid(self, sysid: int) -> str | None:
        return "drone-1" if sysid == SYSID else None

    def accept(self, callsign: str, sample: Sample) -> None:
        check_sample(sample)
        self.samples.append(sample)


def field_values(kind: str) -> st.SearchStrategy[Any]:
    """Any value a MAVLink field of type ``kind`` can carry."""
    if kind in ("float", "double"):
        return st.floats(width=32 if kind == "float" else 64)
    if kind == "char":
        return st.binary(max_size=16)
    bits = INTEGERS[kind.removeprefix("u")]
    if kind.startswith("u"):
        return st.integers(0, 2**bits - 1)
    return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@st.composite
def packets(draw: st.DrawFn) -> bytes:
    """A well-formed packet from SYSID (or another system) of one of MESSAGES, any values."""
    cls = draw(st.sampled_from(MESSAGES))
    lengths = dict(zip(cls.ordered_fieldnames, cls.array_lengths, strict=True))
    values = []
    for name, kind in zip(cls.fieldnames, cls.fieldtypes, strict=True):
        count = lengths[name]
        if count and kind != "char":
            values.append(draw(st.lists(field_values(kind), min_size=count, max_size=count)))
        else:
            values.append(draw(field_values(kind)))
    sender = mav.MAVLink(None, srcSystem=draw(st.sampled_from([SYSID, SYSID, 42])), srcComponent=1)
    return bytes(cls(*values).pack(sender))


def a_position() -> bytes:
    sender = mav.MAVLink(None, srcSystem=SYSID, srcComponent=1)
    heartbeat = sender.heartbeat_encode(2, 3, mav.MAV_MODE_FLAG_SAFETY_ARMED, 0, 4, 3)
    position = sender.global_position_int_encode(1000, 511_283_000, 714_305_000, 400_000,
                                                 50_000, 120, -80, 0, 9_000)  # fmt: skip
    battery = sender.sys_status_encode(0, 0, 0, 0, 12_000, 500, 76, 0, 0, 0, 0, 0, 0)
    return bytes(heartbeat.pack(sender) + battery.pack(sender) + position.pack(sender))


def test_a_well_formed_drone_is_a_sample() -> None:
    fleet = RecordingFleet()
    listener = MavlinkListener(fleet)  # type: ignore[arg-type]
    listener.datagram_received(a_position(), ADDRESS)
    [sample] = fleet.samples
    assert (sample.lat, sample.lon, sample.battery_pct) == (51.1283, 71.4305, 76.0)
    assert listener.packets == 3 and listener.bad_packets == 0


@FUZZ
@given(datagrams=st.lists(hostile(a_position(), noise="\xfd\xfe\x07\x01\x00\xff"), max_size=4))
def test_noise_and_mutated_packets_are_counted_not_raised(datagrams: list[bytes]) -> None:
    fleet = RecordingFleet()
    listener = MavlinkListener(fleet)  # type: ignore[arg-type]
    for datagram in datagrams:
        listener.datagram_received(datagram, ADDRESS)
    assert all(math.isfinite(s.lat) and math.isfinite(s.lon) for s in fleet.samples)


@FUZZ
@given(datagrams=st.lists(packets(), min_size=1, max_size=6))
def test_well_formed_packets_with_any_values_never_raise(datagrams: list[bytes]) -> None:
    fleet = RecordingFleet()
    listener = MavlinkListener(fleet)  # type: ignore[arg-type]
    for datagram in datagrams:
        listener.datagram_received(datagram, ADDRESS)
    assert listener.packets + listener.bad_packets >= 1


class Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: Any) -> None:
        self.sent.append(data)


async def upload_answered_by(ack_type: int) -> None:
    listener = MavlinkListener(RecordingFleet())  # type: ignore[arg-type]
    listener.connection_made(Transport())  # type: ignore[arg-type]
    listener.datagram_received(a_position(), ADDRESS)  # the drone has been heard
    item = MissionItem(seq=0, frame=6, command=16, params=(0, 0, 0, 0), lat=51.1, lon=71.4,
                       alt=50.0)  # fmt: skip
    upload = asyncio.ensure_future(listener.upload_mission(SYSID, [item], timeout_s=2))
    await asyncio.sleep(0)
    sender = mav.MAVLink(None, srcSystem=SYSID, srcComponent=1)
    ack = sender.mission_ack_encode(255, 190, ack_type, mav.MAV_MISSION_TYPE_MISSION)
    listener.datagram_received(bytes(ack.pack(sender)), ADDRESS)
    await upload


@pytest.mark.parametrize("ack_type", [1, 15, 42, 200, 255])
def test_a_mission_refused_with_any_reason_fails_as_unavailable(ack_type: int) -> None:
    with pytest.raises(ServiceUnavailableError, match="refused the mission"):
        asyncio.run(upload_answered_by(ack_type))
