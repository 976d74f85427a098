"""The fleet domain, wired: the service, its listeners (MAVLink over UDP, MQTT) and the job that
writes telemetry and watches links — started and stopped with the container."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kupol.core.audit import AuditLog
from kupol.core.auth import Permission, Principal
from kupol.core.bus import Bus
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, ServiceUnavailableError
from kupol.fleet.dispatch import Dispatcher
from kupol.fleet.mavlink import MavlinkListener, listen
from kupol.fleet.missions import Missions, MissionView
from kupol.fleet.mqtt import MqttTelemetry
from kupol.fleet.patrols import Patrols
from kupol.fleet.roads import load_geojson
from kupol.fleet.rounds import GroundRounds
from kupol.fleet.service import Fleet
from kupol.settings import FleetSettings, MqttSettings

if TYPE_CHECKING:
    from kupol.fleet.demo import DemoSimulators

log = logging.getLogger(__name__)


class FleetDomain:
    """The fleet service and what feeds it."""

    def __init__(
        self, *, settings: FleetSettings, mqtt: MqttSettings, db: Database, audit: AuditLog
    ) -> None:
        self.settings = settings
        self._mqtt_settings = mqtt
        self.fleet = Fleet(db=db, audit=audit, settings=settings)
        self.missions = Missions(db=db, audit=audit, settings=settings)
        self.fleet.fences = lambda: self.missions.fences(active_only=True)
        self.missions.on_fences_changed.append(self.fleet.reload_fences)
        self.missions.on_mission_area.append(self.fleet.set_area)
        self.dispatcher = Dispatcher(
            db=db, audit=audit, settings=settings,
            roads=load_geojson(settings.roads) if settings.roads else None,
        )  # fmt: skip
        self.missions.roads = self.dispatcher.roads
        self.patrols = Patrols(db=db, audit=audit, settings=settings, roads=self.dispatcher.roads)
        self.fleet.sample_hooks.append(self.dispatcher.on_sample)
        self.rounds = GroundRounds(db=db, missions=self.missions)
        self.missions.on_mission_area.append(self.rounds.invalidate)
        self.fleet.sample_hooks.append(self.rounds.on_sample)
        self.dispatcher.on_status.append(self.fleet.note_status)
        self.mavlink: MavlinkListener | None = None
        self._transport: Any = None
        self.mqtt: MqttTelemetry | None = None
        self._task: asyncio.Task[None] | None = None
        self.simulators: DemoSimulators | None = None

    async def start(self, bus: Bus) -> None:
        """Open the configured listeners and start the write-and-watch job."""
        if self.settings.mavlink:
            try:
                self._transport, self.mavlink = await listen(
                    self.fleet, self.settings.mavlink_host, self.settings.mavlink_port
                )
            except OSError as exc:
                raise ServiceUnavailableError(
                    f"cannot listen for MAVLink on udp {self.settings.mavlink_host}:"
                    f"{self.settings.mavlink_port}: {exc}"
                ) from exc
            loop = asyncio.get_running_loop()
            missions = self.missions
            self.mavlink.on_progress = lambda callsign, kind, seq: loop.run_in_executor(
                None, _quietly, missions.progress, callsign, kind, seq
            )
            log.info("fleet: MAVLink on udp %s:%d", self.settings.mavlink_host,
                     self.settings.mavlink_port)  # fmt: skip
        if self.settings.mqtt:
            self.mqtt = MqttTelemetry(
                self.fleet, host=self._mqtt_settings.host, port=self._mqtt_settings.port,
                topic=self.settings.mqtt_topic,
            )  # fmt: skip
            await asyncio.to_thread(self.mqtt.start)
        self._task = asyncio.create_task(self._run(bus), name="fleet-telemetry")
        if self.settings.simulate:
            from kupol.fleet.demo import DemoSimulators

            mqtt = (self._mqtt_settings.host, self._mqtt_settings.port) if self.mqtt else None
            self.simulators = DemoSimulators(mavlink_port=self.settings.mavlink_port, mqtt=mqtt)
            self.simulators.start()

    async def _run(self, bus: Bus) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_every_s)
            try:
                self.fleet.watch()
                await asyncio.to_thread(self.fleet.flush)
                advisories = self.fleet.take_messages()
                await asyncio.to_thread(self.dispatcher.record_arrivals)
                if advisories:
                    await bus.publish(*advisories)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fleet: writing telemetry failed; retrying next time")

    async def upload(self, *, actor: Principal, mission_id: int) -> MissionView:
        """Upload a drone's mission to its autopilot over MAVLink (audited as ``uploaded``).

        Raises:
            InvalidInputError: the mission's unit is no MAVLink drone.
            ServiceUnavailableError: the MAVLink listener is off, the drone has not been heard,
                or it did not take the mission.
        """
        actor.require(Permission.FLEET_MANAGE)
        mission = await asyncio.to_thread(self.missions.mission, actor=actor, mission_id=mission_id)
        unit = await asyncio.to_thread(self.fleet.unit, actor=actor, callsign=mission.callsign)
        if unit.mavlink_sysid is None:
            raise InvalidInputError(f"{unit.callsign} has no MAVLink system id")
        if self.mavlink is None:
            raise ServiceUnavailableError("the MAVLink listener is off ([fleet] mavlink)")
        items = self.missions.mission_items(mission, unit.home)
        await self.mavlink.upload_mission(unit.mavlink_sysid, items)
        return await asyncio.to_thread(
            self.missions.set_status, mission_id=mission_id, status="uploaded", actor=actor
        )

    async def stop(self) -> None:
        """Close the listeners and write what is left."""
        if self.simulators is not None:
            self.simulators.stop()
            self.simulators = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._transport is not None:
            self._transport.close()
            self._transport, self.mavlink = None, None
        if self.mqtt is not None:
            await asyncio.to_thread(self.mqtt.stop)
            self.mqtt = None
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.fleet.flush)


def _quietly(progress: Callable[[str, str, int], object], *args: Any) -> None:
    """A drone's progress report applied; a failure is logged, not raised into the listener."""
    try:
        progress(*args)
    except Exception:
        log.exception("fleet: a drone's mission progress could not be recorded")
