"""The fleet domain, wired: the service, its listeners (MAVLink over UDP, MQTT) and the job that
writes telemetry and watches links — started and stopped with the container."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from kupol.core.audit import AuditLog
from kupol.core.bus import Bus
from kupol.core.db import Database
from kupol.fleet.mavlink import MavlinkListener, listen
from kupol.fleet.mqtt import MqttTelemetry
from kupol.fleet.service import Fleet
from kupol.settings import FleetSettings, MqttSettings

log = logging.getLogger(__name__)


class FleetDomain:
    """The fleet service and what feeds it."""

    def __init__(
        self, *, settings: FleetSettings, mqtt: MqttSettings, db: Database, audit: AuditLog
    ) -> None:
        self.settings = settings
        self._mqtt_settings = mqtt
        self.fleet = Fleet(db=db, audit=audit, settings=settings)
        self.mavlink: MavlinkListener | None = None
        self._transport: Any = None
        self.mqtt: MqttTelemetry | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, bus: Bus) -> None:
        """Open the configured listeners and start the write-and-watch job."""
        if self.settings.mavlink:
            self._transport, self.mavlink = await listen(
                self.fleet, self.settings.mavlink_host, self.settings.mavlink_port
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

    async def _run(self, bus: Bus) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_every_s)
            try:
                self.fleet.watch()
                advisories = await asyncio.to_thread(self.fleet.flush)
                if advisories:
                    await bus.publish(*advisories)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fleet: writing telemetry failed; retrying next time")

    async def stop(self) -> None:
        """Close the listeners and write what is left."""
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
