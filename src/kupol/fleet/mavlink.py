"""Drones' telemetry over MAVLink (v1 or v2, UDP): kupol listens where a ground station would
(port 14550) and reads what every autopilot sends —

- ``HEARTBEAT``: the link is alive; ``MAV_STATE_CRITICAL``/``EMERGENCY`` mark the unit
  ``fault``, an autopilot in Return-To-Launch (ArduPilot copter mode 6, PX4 auto-RTL) marks it
  ``returning``;
- ``GLOBAL_POSITION_INT``: position (1e-7 degrees), altitude above home (mm), ground velocity
  (cm/s), heading (centidegrees; 65535 unknown) — one track sample each;
- ``SYS_STATUS`` and ``BATTERY_STATUS``: remaining battery (%; −1 unknown), carried on the
  next sample;
- ``MISSION_CURRENT`` and ``MISSION_ITEM_REACHED``: an uploaded mission's progress (it becomes
  active, then done at its last waypoint), and the mission protocol's replies when kupol
  uploads one.

A drone is known by its MAVLink system id (``mavlink_sysid`` in the registry); an unknown one
is counted and logged once, not stored. Samples are stamped with their arrival time
(``GLOBAL_POSITION_INT`` carries only the autopilot's time since boot). Packets that do not
parse (a wrong CRC, noise) are counted and skipped by pymavlink's robust parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymavlink.dialects.v20 import common as mav

from kupol.core.errors import InvalidInputError, NotFoundError, ServiceUnavailableError
from kupol.core.messages import utcnow
from kupol.fleet.missions import MissionItem
from kupol.fleet.service import Fleet, Sample

log = logging.getLogger(__name__)

GCS_SYSID = 255
"""kupol's own MAVLink system id, as a ground station's (255 by convention)."""
GCS_COMPONENT = 190  # MAV_COMP_ID_MISSIONPLANNER
_ARDUPILOT_COPTER_RTL = 6
_PX4_AUTO_RTL = (4 << 16) | (5 << 24)  # main mode AUTO, sub mode RTL


@dataclass
class _Drone:
    battery: float | None = None
    status: str | None = None


class MavlinkListener(asyncio.DatagramProtocol):
    """The UDP endpoint drones send to; hands samples to the fleet."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet
        self._parsers: dict[Any, Any] = {}
        self._drones: dict[int, _Drone] = {}
        self._unknown: set[int] = set()
        self._addresses: dict[int, Any] = {}
        self._uploads: dict[int, _Upload] = {}
        self._gcs = mav.MAVLink(None, srcSystem=GCS_SYSID, srcComponent=GCS_COMPONENT)
        self.packets = 0
        self.bad_packets = 0
        self.on_progress: Callable[[str, str, int], object] | None = None
        """Called with (callsign, MISSION_CURRENT or MISSION_ITEM_REACHED, item) — the
        mission's progress as the drone reports it."""
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        parser = self._parsers.get(addr)
        if parser is None:
            parser = self._parsers[addr] = mav.MAVLink(None)
            parser.robust_parsing = True
        try:
            messages = parser.parse_buffer(data) or []
        except Exception:  # pymavlink raises its own error types for malformed input
            self.bad_packets += 1
            return
        for message in messages:
            if message.get_type() == "BAD_DATA":
                self.bad_packets += 1
                continue
            self.packets += 1
            self._addresses[message.get_srcSystem()] = addr
            self.handle(message)

    def handle(self, message: Any) -> None:
        """One parsed MAVLink message."""
        sysid = message.get_srcSystem()
        callsign = self._fleet.callsign_of_sysid(sysid)
        if callsign is None:
            if sysid not in self._unknown:
                self._unknown.add(sysid)
                log.warning("MAVLink: system id %d is no registered drone; ignored", sysid)
            return
        drone = self._drones.setdefault(sysid, _Drone())
        kind = message.get_type()
        if kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK"):
            self._mission_reply(sysid, message)
            return
        if kind in ("MISSION_CURRENT", "MISSION_ITEM_REACHED"):
            if self.on_progress is not None:
                self.on_progress(callsign, kind, int(message.seq))
            return
        if kind == "HEARTBEAT":
            if message.autopilot == mav.MAV_AUTOPILOT_INVALID:
                return  # a ground station or gimbal, not the vehicle
            if message.system_status in (mav.MAV_STATE_CRITICAL, mav.MAV_STATE_EMERGENCY):
                drone.status = "fault"
            elif message.custom_mode in (_ARDUPILOT_COPTER_RTL, _PX4_AUTO_RTL):
                drone.status = "returning"
            elif message.base_mode & mav.MAV_MODE_FLAG_SAFETY_ARMED:
                drone.status = "on_mission"
            else:
                drone.status = None  # disarmed: leave the registry's status as people set it
        elif kind in ("SYS_STATUS", "BATTERY_STATUS"):
            if message.battery_remaining >= 0:
                drone.battery = float(message.battery_remaining)
        elif kind == "GLOBAL_POSITION_INT":
            speed = (message.vx**2 + message.vy**2) ** 0.5 / 100
            sample = Sample(
                at=utcnow(), lat=message.lat / 1e7, lon=message.lon / 1e7,
                alt_m=message.relative_alt / 1000,
                heading_deg=None if message.hdg == 65535 else message.hdg / 100,
                speed_mps=speed, battery_pct=drone.battery, status=drone.status,
                source="mavlink",
            )  # fmt: skip
            try:
                self._fleet.accept(callsign, sample)
            except (InvalidInputError, NotFoundError) as exc:
                log.warning("MAVLink: %s's sample refused: %s", callsign, exc)

    # The mission protocol (ground station side) -------------------------------------------

    async def upload_mission(
        self, sysid: int, items: list[MissionItem], *, timeout_s: float = 10.0
    ) -> None:
        """Upload ``items`` to drone ``sysid`` over the MAVLink mission protocol: MISSION_COUNT,
        then each MISSION_ITEM_INT the autopilot asks for, until its MISSION_ACK.

        Raises:
            ServiceUnavailableError: the drone has not been heard, did not answer in time, or
                refused the mission (the reason its acknowledgement gave).
        """
        if sysid not in self._addresses or self.transport is None:
            raise ServiceUnavailableError(f"drone {sysid} has not been heard: cannot upload")
        if sysid in self._uploads:
            raise ServiceUnavailableError(f"an upload to drone {sysid} is under way")
        upload = _Upload(items, asyncio.get_running_loop().create_future())
        self._uploads[sysid] = upload
        try:
            deadline = time.monotonic() + timeout_s
            while not upload.done.done():
                if not upload.requested:  # no request yet: (re)announce the count
                    self._send(sysid, self._gcs.mission_count_encode(
                        sysid, 1, len(items), mav.MAV_MISSION_TYPE_MISSION))  # fmt: skip
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceUnavailableError(
                        f"drone {sysid} did not take the mission in {timeout_s:.0f} s"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(upload.done), min(1.0, left))
            await upload.done
        finally:
            self._uploads.pop(sysid, None)

    def _mission_reply(self, sysid: int, message: Any) -> None:
        upload = self._uploads.get(sysid)
        if upload is None or upload.done.done():
            return
        if message.get_type() == "MISSION_ACK":
            if message.type == mav.MAV_MISSION_ACCEPTED:
                upload.done.set_result(None)
            else:
                known = mav.enums["MAV_MISSION_RESULT"].get(message.type)
                name = known.name if known is not None else f"result {message.type}"  # a newer one
                upload.done.set_exception(
                    ServiceUnavailableError(f"drone {sysid} refused the mission: {name}")
                )
            return
        seq = message.seq
        if not 0 <= seq < len(upload.items):
            return
        upload.requested = True
        item = upload.items[seq]
        self._send(sysid, self._gcs.mission_item_int_encode(
            sysid, 1, item.seq, item.frame, item.command, 0, 1, *item.params,
            round(item.lat * 1e7), round(item.lon * 1e7), item.alt,
            mav.MAV_MISSION_TYPE_MISSION,
        ))  # fmt: skip

    def _send(self, sysid: int, message: Any) -> None:
        assert self.transport is not None
        self.transport.sendto(message.pack(self._gcs), self._addresses[sysid])


@dataclass
class _Upload:
    items: list[MissionItem]
    done: asyncio.Future[None]
    requested: bool = False


async def listen(
    fleet: Fleet, host: str, port: int
) -> tuple[asyncio.DatagramTransport, MavlinkListener]:
    """Bind the listener on ``host:port`` (UDP)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: MavlinkListener(fleet), local_addr=(host, port)
    )
    return transport, protocol
