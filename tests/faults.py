"""Fault scenarios under load: NATS or PostgreSQL stopped and started again while a producer
publishes camera events through JetStream and a consumer node records them into PostgreSQL.

Shared by ``tests/integration/test_fault_restarts.py`` (short, asserting) and
``bench/fault_restarts.py`` (longer, printing the figures). The servers are throw-away ones
(:mod:`tests.servers`), never the shared 5432 and 4222.

The producer behaves as a vision worker does: a publish reported *unconfirmed* is sent again
with the same ids until it is confirmed (a later refusal of those events proves nothing: the
first try may have stored them); one *refused* outright is counted as reported to its caller
(an API client would get a 503) and not sent again. Two publish loops run side by side, as
an API node's requests do. So at the end
``sent == stored + rejected``, every acknowledged event stored once, none refused stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import create_engine, text

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.bus.base import DeliveryError, DeliveryUnconfirmedError
from kupol.core.bus.nats import JetStreamBus
from kupol.core.db import upgrade
from kupol.events.messages import CameraEventObserved
from kupol.settings import load_settings
from tests.servers import NatsServer, PostgresServer

CAMERA = "fault-cam-01"
BATCH = 20
RECORDER = "events.recorder"
ACK_WAIT_S = 5.0
MAX_DELIVER = 3
"""Few deliveries: a consumer that spent one per failed try (a nak) while its database was
down would dead-letter events within seconds; held events spend none."""
SECRET = "fault-test-secret-that-is-long-enough-0123"


@dataclass(kw_only=True)
class Figures:
    """What one fault run measured (counts are events)."""

    fault: str
    sent: int = 0
    acked: int = 0
    rejected: int = 0
    """Refused for certain and reported to the caller (not sent again)."""
    resent: int = 0
    """Events of publishes reported unconfirmed, sent again with the same ids."""
    stored: int = 0
    """Distinct event ids in camera_events."""
    rows: int = 0
    handled: int = 0
    """Events handed to the recorder, deliveries again after a fault included."""
    lost: int = 0
    """Acknowledged and not stored."""
    rejected_but_stored: int = 0
    down_s: float = 0.0
    producer_back_s: float | None = None
    """From the server up again to the producer's first acknowledged publish."""
    consumer_back_s: float | None = None
    """From the server up again to the recorder's first stored batch."""
    api: list[tuple[float, int]] = field(default_factory=list)
    """(seconds since the fault began, HTTP status) of GET /api/cameras, polled throughout."""
    api_back_s: float | None = None
    """From the server up again to the API's first 200."""
    api_problem: dict[str, Any] | None = None
    """The first answer other than 200 (a problem document)."""
    drained_s: float = 0.0
    """From the producer's stop until every acknowledged event was stored."""

    @property
    def duplicates(self) -> int:
        """Rows beyond one per event id (0: stored exactly once)."""
        return self.rows - self.stored

    @property
    def redelivered(self) -> int:
        """Events handed to the recorder more than once (skipped by id the second time)."""
        return max(0, self.handled - self.stored)


class Producer:
    """Publishes ``rate`` events a second through its own JetStream connection."""

    def __init__(self, bus: JetStreamBus, *, rate: int, loops: int = 2) -> None:
        self.bus = bus
        self.loops = loops
        self.pause_s = BATCH * loops / rate
        self.sent = 0
        self.acked: dict[UUID, float] = {}
        self.rejected: set[UUID] = set()
        self.resent = 0

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._loop(stop) for _ in range(self.loops)))

    async def _loop(self, stop: asyncio.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            now = datetime.now(UTC)
            events = [
                CameraEventObserved(
                    camera_id=CAMERA, type="motion", occurred_at=now, confidence=0.5, zone="road"
                )
                for _ in range(BATCH)
            ]
            self.sent += len(events)
            uncertain = False
            while True:
                try:
                    await self.bus.publish(*events)
                except DeliveryUnconfirmedError:
                    uncertain = True  # some may be stored: the same ids again until confirmed
                    self.resent += len(events)
                    continue
                except DeliveryError:
                    if uncertain:
                        self.resent += len(events)
                        continue
                    self.rejected.update(e.id for e in events)  # the caller is told: refused
                    break
                at = time.monotonic()
                self.acked.update((e.id, at) for e in events)
                break
            next_at = max(next_at + self.pause_s, time.monotonic() - 1)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def consumer_settings(*, database_url: str, nats_url: str, stream: str, data_dir: Path) -> Any:
    """A consumer node's settings: PostgreSQL, JetStream, short publish and ack time-outs.

    ``ack_wait_s`` 5 s: a message the server handed out just as it went down (never received)
    comes again after it — with the default 30 s those few events are stored 30 s late."""
    return load_settings(
        toml_file=None,
        environ={},
        mode="test",
        data_dir=data_dir,
        database={"url": database_url, "pool_size": 3},
        bus={
            "type": "nats",
            "nats_url": nats_url,
            "stream": stream,
            "subject_prefix": stream.lower(),
            "publish_timeout_s": 2.0,
            "ack_wait_s": ACK_WAIT_S,
            "max_deliver": MAX_DELIVER,
        },
        security={"secret_key": SECRET},
        vision={"enabled": False},
    )


def consumer(settings: Any) -> Container:
    """The consumer node, with the camera the producer sends for."""
    container = build_container(settings)
    container.cameras.register(
        camera=CameraCreate(id=CAMERA, name="Fault", latitude=51.1, longitude=71.4), actor=SYSTEM
    )
    return container


def handled(container: Container) -> int:
    """Events the recorder has been handed so far."""
    value = container.metrics.registry.get_sample_value(
        "kupol_bus_handled_total", {"consumer": RECORDER}
    )
    return int(value or 0)


async def _count(url: str, figures: Figures, producer: Producer) -> None:
    def read() -> tuple[set[UUID], int]:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                ids = {UUID(str(r[0])) for r in conn.execute(text("SELECT id FROM camera_events"))}
                rows = conn.execute(text("SELECT count(*) FROM camera_events")).scalar_one()
            return ids, int(rows)
        finally:
            engine.dispose()

    ids, rows = await asyncio.to_thread(read)
    figures.sent, figures.acked = producer.sent, len(producer.acked)
    figures.rejected, figures.resent = len(producer.rejected), producer.resent
    figures.stored, figures.rows = len(ids), rows
    figures.lost = len(set(producer.acked) - ids)
    figures.rejected_but_stored = len(producer.rejected & ids)


async def _drain(url: str, producer: Producer, deadline_s: float) -> float:
    """Wait until every acknowledged event is stored; returns how long it took."""
    began = time.monotonic()
    wanted = set(producer.acked)
    engine = create_engine(url)
    try:
        while time.monotonic() - began < deadline_s:
            with engine.connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM camera_events")).scalar_one()
            if have >= len(wanted):
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT id FROM camera_events"))
                    ids = {UUID(str(r[0])) for r in rows}
                if wanted <= ids:
                    break
            await asyncio.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - began


async def _run(
    *,
    figures: Figures,
    container: Container,
    producer: Producer,
    database_url: str,
    fault: Callable[[], Awaitable[float]],
    before_s: float,
    after_s: float,
    api: httpx.AsyncClient | None = None,
    api_headers: dict[str, str] | None = None,
) -> Figures:
    """Produce for ``before_s``, run ``fault`` (returns when the server is up again, the
    monotonic time it came up), produce for ``after_s`` more, then drain and count."""
    stop, consumer_back = asyncio.Event(), asyncio.Event()
    began = time.monotonic()
    up_at: list[float] = []
    handled_at_fault = [0]

    async def watch() -> None:
        """The moments the producer, the recorder and the API are back after the fault."""
        while not stop.is_set():
            await asyncio.sleep(0.05)
            if not up_at:
                continue
            since = time.monotonic() - up_at[0]
            if figures.producer_back_s is None and any(
                t > up_at[0] for t in producer.acked.values()
            ):
                figures.producer_back_s = since
            if figures.consumer_back_s is None and handled(container) > handled_at_fault[0]:
                figures.consumer_back_s = since
                consumer_back.set()

    async def poll_api() -> None:
        assert api is not None
        while not stop.is_set():
            try:
                answer = await api.get("/api/cameras", headers=api_headers, timeout=10)
                status = answer.status_code
                if status != 200 and figures.api_problem is None:
                    figures.api_problem = answer.json()
            except httpx.HTTPError:
                status = 0
            now = time.monotonic()
            figures.api.append((now - began, status))
            if up_at and status == 200 and figures.api_back_s is None and now > up_at[0]:
                figures.api_back_s = now - up_at[0]
            await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(producer.run(stop)), asyncio.create_task(watch())]
    if api is not None:
        tasks.append(asyncio.create_task(poll_api()))
    await asyncio.sleep(before_s)
    handled_at_fault[0] = handled(container)
    fault_began = time.monotonic()
    up = await fault()
    figures.down_s = up - fault_began
    handled_at_fault[0] = handled(container)
    up_at.append(up)
    await asyncio.sleep(after_s)
    with contextlib.suppress(TimeoutError):  # bounded: a consumer that never comes back fails
        await asyncio.wait_for(consumer_back.wait(), 30)
    stop.set()
    await asyncio.gather(*tasks)
    figures.drained_s = await _drain(database_url, producer, 30)
    await asyncio.sleep(0.5)  # let a late redelivery show as one
    figures.handled = handled(container)
    await _count(database_url, figures, producer)
    return figures


async def nats_restart(
    *,
    database_url: str,
    how: signal.Signals,
    down_s: float = 3.0,
    rate: int = 500,
    before_s: float = 2.0,
    after_s: float = 3.0,
) -> Figures:
    """NATS (a throw-away server) stopped with ``how`` mid-stream and started again on the
    same store after ``down_s``; the consumer records into ``database_url`` (migrated, empty)."""
    figures = Figures(fault=f"NATS {how.name}, down {down_s:g} s")
    stream = f"KF{uuid.uuid4().hex[:8].upper()}"
    with NatsServer.started() as nats, tempfile.TemporaryDirectory() as tmp:
        settings = consumer_settings(
            database_url=database_url, nats_url=nats.url, stream=stream, data_dir=Path(tmp)
        )
        container = consumer(settings)
        bus = JetStreamBus(
            url=nats.url,
            stream=stream,
            subject_prefix=stream.lower(),
            publish_timeout_s=settings.bus.publish_timeout_s,
        )
        await container.start(with_sources=False)
        await bus.start()

        async def fault() -> float:
            await asyncio.to_thread(nats.stop, how)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(nats.start)
            return time.monotonic()

        try:
            return await _run(
                figures=figures,
                container=container,
                producer=Producer(bus, rate=rate),
                database_url=database_url,
                fault=fault,
                before_s=before_s,
                after_s=after_s,
            )
        finally:
            await bus.stop()
            await container.stop()


async def postgres_restart(
    *,
    mode: str,
    down_s: float = 3.0,
    rate: int = 500,
    before_s: float = 2.0,
    after_s: float = 3.0,
) -> Figures:
    """PostgreSQL (a throw-away cluster) stopped (``fast``: a clean shut-down; ``immediate``:
    a crash) while the consumer records from NATS (a throw-away server) and the API is asked
    for the cameras every 0.2 s; started again after ``down_s``."""
    figures = Figures(fault=f"PostgreSQL {mode} stop, down {down_s:g} s")
    stream = f"KF{uuid.uuid4().hex[:8].upper()}"
    with (
        PostgresServer.started() as pg,
        NatsServer.started() as nats,
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = pg.create_database("kupol")
        await asyncio.to_thread(upgrade, url)
        settings = consumer_settings(
            database_url=url, nats_url=nats.url, stream=stream, data_dir=Path(tmp)
        )
        container = consumer(settings)
        password = "fault-operator-password-1"
        container.auth.create_user(
            username="fault-operator", password=password, roles=("operator",)
        )
        bus = JetStreamBus(url=nats.url, stream=stream, subject_prefix=stream.lower())
        await container.start(with_sources=False)
        await bus.start()
        app = create_app(container, manage_lifecycle=False)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://kupol") as api:
                login = await api.post(
                    "/api/auth/login", json={"username": "fault-operator", "password": password}
                )
                login.raise_for_status()
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                api.cookies.clear()

                async def fault() -> float:
                    await asyncio.to_thread(pg.stop, mode)
                    await asyncio.sleep(down_s)
                    await asyncio.to_thread(pg.start)
                    return time.monotonic()

                figures = await _run(
                    figures=figures,
                    container=container,
                    producer=Producer(bus, rate=rate),
                    database_url=url,
                    fault=fault,
                    before_s=before_s,
                    after_s=after_s,
                    api=api,
                    api_headers=headers,
                )
                return figures
        finally:
            await bus.stop()
            await container.stop()
