"""Simulators that talk to kupol the way real units do — over the wire, never by calling it:

- :class:`DroneSim` flies a route as a MAVLink autopilot would report it: ``HEARTBEAT`` once
  a second (armed; Return-To-Launch mode once the route is flown), ``GLOBAL_POSITION_INT`` and
  ``SYS_STATUS`` at ``rate`` Hz, over UDP to kupol's MAVLink port; the battery drains over the
  drone's endurance; after the last waypoint it flies home. Flying a mission uploaded to it
  (:meth:`DroneSim.wait_for_mission`) it also reports ``MISSION_CURRENT`` once a second and
  ``MISSION_ITEM_REACHED`` at each waypoint.
- :class:`DogSim` walks a patrol route (closed: it loops) and publishes JSON samples to
  ``kupol/units/<callsign>/telemetry`` on the MQTT broker.

Both run in real time (or ``speedup`` times faster) until their route ends or ``stop()``.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kupol.core.geo import haversine_m

LatLon = tuple[float, float]


def parse_route(text: str) -> list[LatLon]:
    """``"lat,lon;lat,lon;…"`` → points.

    Raises:
        ValueError: fewer than two points, or a malformed or impossible one.
    """
    points = []
    for part in text.split(";"):
        if not part.strip():
            continue
        lat_text, _, lon_text = part.partition(",")
        lat, lon = float(lat_text), float(lon_text)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{part.strip()!r} is not a latitude,longitude")
        points.append((lat, lon))
    if len(points) < 2:
        raise ValueError("a route needs at least two points: lat,lon;lat,lon")
    return points


def bearing_deg(a: LatLon, b: LatLon) -> float:
    """The initial compass bearing from ``a`` to ``b`` (0–360)."""
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlon = math.radians(b[1] - a[1])
    x = math.sin(dlon) * math.cos(lat2)
    y = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return (math.degrees(math.atan2(x, y)) + 360) % 360


@dataclass(frozen=True)
class Fix:
    """Where a simulated unit is at a moment of its run."""

    t: float
    lat: float
    lon: float
    heading: float
    speed: float
    leg: int


def walk(
    route: Sequence[LatLon], speed_mps: float, step_s: float,
    holds: Mapping[int, float] | None = None,
) -> Iterator[Fix]:  # fmt: skip
    """Positions every ``step_s`` seconds along ``route`` at ``speed_mps``, ending on its last
    point; ``holds`` (route index → seconds) keeps the unit still at those points, speed 0 —
    counted in the next leg, as an autopilot reports the point reached on arrival."""
    holds = holds or {}
    t = 0.0
    last_leg = len(route) - 2
    for leg, (a, b) in enumerate(itertools.pairwise(route)):
        heading = bearing_deg(a, b)
        for _ in range(round(holds.get(leg, 0.0) / step_s) if leg > 0 else 0):
            yield Fix(t, a[0], a[1], heading, 0.0, leg)
            t += step_s
        length = haversine_m(a, b)
        steps = max(1, math.ceil(length / (speed_mps * step_s)))
        for i in range(steps):
            share = i / steps
            yield Fix(t, a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share,
                      heading, speed_mps, leg)  # fmt: skip
            t += length / speed_mps / steps
    last = route[-1]
    heading = bearing_deg(route[-2], last)
    for _ in range(round(holds.get(last_leg + 1, 0.0) / step_s)):
        yield Fix(t, last[0], last[1], heading, 0.0, last_leg)
        t += step_s
    yield Fix(t, last[0], last[1], heading, 0.0, last_leg)


class _Runner:
    def __init__(self, speedup: float) -> None:
        self.speedup = speedup
        self._stop = threading.Event()
        self.sent = 0

    def stop(self) -> None:
        self._stop.set()

    def _sleep_until(self, started: float, t: float) -> bool:
        """Wait until simulated second ``t``; False when stopped."""
        delay = started + t / self.speedup - time.monotonic()
        return not self._stop.wait(delay) if delay > 0 else not self._stop.is_set()


class DroneSim(_Runner):
    """A MAVLink drone flying ``route`` from ``route[0]`` (its home), then home again."""

    def __init__(
        self, *, sysid: int, route: Sequence[LatLon], target: str = "127.0.0.1:14550",
        speed_mps: float = 15.0, alt_m: float = 80.0, rate_hz: float = 4.0,
        endurance_min: float = 40.0, battery_start: float = 100.0, speedup: float = 1.0,
        holds: Mapping[int, float] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(speedup)
        from pymavlink import mavutil

        self.route = list(route)
        self.holds = dict(holds or {})
        """Seconds hovering at route points (index → seconds; 0 is home)."""
        self.speed, self.alt, self.rate = speed_mps, alt_m, rate_hz
        self.endurance_s, self.battery_start = endurance_min * 60, battery_start
        self._link = mavutil.mavlink_connection(
            f"udpout:{target}", source_system=sysid, source_component=1
        )
        self.mav = self._link.mav
        self.mission: list[Any] = []
        """The mission items a ground station uploaded (:meth:`wait_for_mission`)."""

    def wait_for_mission(self, timeout_s: float = 30.0) -> bool:
        """Be the autopilot's end of the MAVLink mission protocol: send heartbeats until a
        ground station announces a mission (MISSION_COUNT), ask for each item
        (MISSION_REQUEST_INT), acknowledge (MISSION_ACK), and take its waypoints as the route
        to fly from home. False when none came in time."""
        from pymavlink.dialects.v20 import common as mav

        deadline = time.monotonic() + timeout_s
        next_heartbeat = 0.0
        while time.monotonic() < deadline and not self._stop.is_set():
            if time.monotonic() >= next_heartbeat:
                self._heartbeat(mav, mode=0, armed=False)
                next_heartbeat = time.monotonic() + 1.0
            count = self._link.recv_match(type="MISSION_COUNT", blocking=True, timeout=0.2)
            if count is None:
                continue
            gcs = (count.get_srcSystem(), count.get_srcComponent())
            items = []
            for seq in range(count.count):
                item = None
                for _ in range(3):
                    self.mav.mission_request_int_send(*gcs, seq, mav.MAV_MISSION_TYPE_MISSION)
                    item = self._link.recv_match(type="MISSION_ITEM_INT", blocking=True,
                                                 timeout=1.0)  # fmt: skip
                    if item is not None and item.seq == seq:
                        break
                if item is None:
                    self.mav.mission_ack_send(*gcs, mav.MAV_MISSION_ERROR,
                                              mav.MAV_MISSION_TYPE_MISSION)  # fmt: skip
                    return False
                items.append(item)
            self.mav.mission_ack_send(*gcs, mav.MAV_MISSION_ACCEPTED, mav.MAV_MISSION_TYPE_MISSION)
            waypoints = [
                (i.x / 1e7, i.y / 1e7, i.z, i.param1) for i in items[1:]
                if i.command == mav.MAV_CMD_NAV_WAYPOINT
            ]  # fmt: skip
            self.mission = items
            if waypoints:
                self.route = [self.route[0], *[(lat, lon) for lat, lon, _, _ in waypoints]]
                self.alt = waypoints[0][2]
                self.holds = {n: w[3] for n, w in enumerate(waypoints, start=1) if w[3] > 0}
            return True
        return False

    def _heartbeat(self, mav: Any, *, mode: int, armed: bool) -> None:
        flags = mav.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (
            mav.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0
        )
        self.mav.heartbeat_send(mav.MAV_TYPE_QUADROTOR, mav.MAV_AUTOPILOT_ARDUPILOTMEGA, flags,
                                mode, mav.MAV_STATE_ACTIVE)  # fmt: skip

    def battery(self, t: float) -> float:
        return max(0.0, self.battery_start - 100.0 * t / self.endurance_s)

    def run(self) -> None:
        """Fly the route and back home, sending telemetry; returns when done or stopped."""
        from pymavlink.dialects.v20 import common as mav

        home = self.route[0]
        outbound = list(walk(self.route, self.speed, 1 / self.rate, self.holds))
        back_t = outbound[-1].t
        inbound = [
            Fix(back_t + f.t, f.lat, f.lon, f.heading, f.speed, -1)
            for f in walk([self.route[-1], home], self.speed, 1 / self.rate)
        ]
        started = time.monotonic()
        next_heartbeat = 0.0
        leg = 0
        for fix in outbound + inbound:
            if not self._sleep_until(started, fix.t):
                return
            if self.mission and fix.leg != leg:
                # The route's waypoint i is the mission's item i + 1 (0: home, 1: take-off).
                reached = fix.leg if fix.leg > 0 else len(self.route) - 1
                self.mav.mission_item_reached_send(reached + 1)
                leg = fix.leg
            if fix.t >= next_heartbeat:
                # ArduPilot copter modes: AUTO 3, RTL 6.
                self._heartbeat(mav, mode=6 if fix.leg < 0 else 3, armed=True)
                if self.mission:  # the item flown to now: a waypoint, or the return to launch
                    current = fix.leg + 2 if fix.leg >= 0 else len(self.route) + 1
                    self.mav.mission_current_send(current, len(self.mission))
                next_heartbeat += 1.0
            battery = self.battery(fix.t)
            rad = math.radians(fix.heading)
            self.mav.global_position_int_send(
                int(fix.t * 1000) & 0xFFFFFFFF, int(fix.lat * 1e7), int(fix.lon * 1e7),
                int((400 + self.alt) * 1000), int(self.alt * 1000),
                int(fix.speed * math.cos(rad) * 100), int(fix.speed * math.sin(rad) * 100), 0,
                int(fix.heading * 100) % 36000,
            )  # fmt: skip
            self.mav.sys_status_send(0, 0, 0, 500, int(22_200 * battery / 100 + 18_000), -1,
                                     int(battery), 0, 0, 0, 0, 0, 0)  # fmt: skip
            self.sent += 1
        self._link.close()


class DogSim(_Runner):
    """A robot dog walking ``route`` (looped ``laps`` times) and publishing over MQTT."""

    def __init__(
        self, *, callsign: str, route: Sequence[LatLon], host: str = "127.0.0.1",
        port: int = 1883, speed_mps: float = 1.5, rate_hz: float = 1.0, laps: int = 1,
        endurance_min: float = 90.0, speedup: float = 1.0,
    ) -> None:  # fmt: skip
        super().__init__(speedup)
        self.callsign = callsign
        self.route = list(route) + ([route[0]] if route[0] != route[-1] else [])
        self.speed, self.rate, self.laps = speed_mps, rate_hz, laps
        self.endurance_s = endurance_min * 60
        self.host, self.port = host, port
        self.topic = f"kupol/units/{callsign}/telemetry"

    def run(self) -> None:
        """Walk the laps, publishing telemetry; returns when done or stopped."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        client.connect(self.host, self.port, 30)
        client.loop_start()
        try:
            lap_fixes = list(walk(self.route, self.speed, 1 / self.rate))
            lap_t = lap_fixes[-1].t or 1.0
            started = time.monotonic()
            for lap in range(self.laps):
                for fix in lap_fixes:
                    t = lap * lap_t + fix.t
                    if not self._sleep_until(started, t):
                        return
                    body = {
                        "at": datetime.now(UTC).isoformat(), "lat": round(fix.lat, 7),
                        "lon": round(fix.lon, 7), "heading_deg": round(fix.heading, 1),
                        "speed_mps": fix.speed,
                        "battery_pct": round(max(0.0, 100 - 100 * t / self.endurance_s), 1),
                        "status": "on_mission",
                    }  # fmt: skip
                    client.publish(self.topic, json.dumps(body), qos=1).wait_for_publish(5)
                    self.sent += 1
        finally:
            client.loop_stop()
            client.disconnect()
