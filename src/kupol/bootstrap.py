"""The composition root: builds settings, database, bus, services and the app. Nothing at import.

Example:
    >>> from kupol.settings import load_settings
    >>> container = build_container(load_settings(toml_file=None, environ={},
    ...                             database={"url": "sqlite://"}))
    >>> container.settings.bus.type
    'memory'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kupol.alerts.messages import AlertChanged
from kupol.alerts.service import AlertEngine, AlertService
from kupol.antifraud.domain import Antifraud, build_antifraud
from kupol.cameras.schemas import CameraRead
from kupol.cameras.service import CameraService
from kupol.citizens.domain import Citizens
from kupol.core.audit import AuditLog
from kupol.core.auth import AuthService
from kupol.core.auth.ratelimit import FailureLimiter
from kupol.core.auth.sessions import SessionPolicy
from kupol.core.auth.tokens import TokenSigner
from kupol.core.bus import Bus, InProcessBus
from kupol.core.bus.base import Handler
from kupol.core.db import ClockSync, Database
from kupol.core.errors import ConfigError
from kupol.core.live import LiveFeed
from kupol.core.messages import PROCESS_CLOCK, Clock, Event, utcnow
from kupol.core.metrics import Metrics
from kupol.core.outbox import OutboxRelay
from kupol.core.partitions import History, Interval
from kupol.core.quarantine import Quarantine
from kupol.documents.pki import Authority
from kupol.documents.service import DocumentService
from kupol.events.messages import CameraEventObserved, CameraEventsRecorded
from kupol.events.queries import EventQueries
from kupol.events.service import EventRecorder
from kupol.evidence.devices import DeviceRegistry
from kupol.evidence.redactions import Finder, Redactions
from kupol.evidence.service import EvidenceVault
from kupol.evidence.store import ContentStore, Store
from kupol.faces.domain import Faces, build_faces
from kupol.faces.messages import FaceObserved
from kupol.fleet.domain import FleetDomain
from kupol.incidents.service import IncidentService
from kupol.plates.casefile import RouteCaseFiles
from kupol.plates.domain import Plates, build_plates
from kupol.plates.hotlists import HotlistService
from kupol.plates.messages import PlateObserved
from kupol.plates.queries import PlateQueries
from kupol.plates.store import PlateStore
from kupol.roads.domain import Roads, build_roads
from kupol.schools.service import Schools
from kupol.scooters.service import Scooters
from kupol.settings import DEFAULT_SECRET, Settings
from kupol.traffic.domain import Traffic, build_traffic
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.recorder import CrossingRecorder, ViolationRecorder
from kupol.vision.leases import CameraLeases, default_worker_id
from kupol.vision.manager import PipelineManager
from kupol.vision.messages import TrackObserved
from kupol.vision.queries import TrackQueries
from kupol.vision.store import TrackRecorder
from kupol.vision.worker import bus_publisher

if TYPE_CHECKING:
    from kupol.events.mqtt import MqttIngest
    from kupol.traffic.controller import MqttSignalFeed

log = logging.getLogger(__name__)
RECORDER_BATCH = 2000
"""Events the recorder stores in one transaction: on NATS, up to four packs of 500 (one commit,
one flush of the write-ahead log, instead of four; bench/load.py)."""


@dataclass(kw_only=True)
class Container:
    """Everything a running kupol is made of, wired once."""

    settings: Settings
    db: Database
    bus: Bus
    metrics: Metrics
    audit: AuditLog
    auth: AuthService
    cameras: CameraService
    recorder: EventRecorder
    events: EventQueries
    alert_engine: AlertEngine
    alerts: AlertService
    quarantine: Quarantine
    live: LiveFeed
    outbox: OutboxRelay
    clock_sync: ClockSync
    mqtt: MqttIngest | None = None
    tracks: TrackRecorder
    track_queries: TrackQueries
    faces: Faces
    plate_store: PlateStore
    plates: PlateQueries
    hotlists: HotlistService
    plate_domain: Plates
    plate_case_files: RouteCaseFiles
    traffic: Traffic
    evidence: EvidenceVault
    documents: DocumentService
    devices: DeviceRegistry
    incidents: IncidentService
    redactions: Redactions
    roads: Roads
    antifraud: Antifraud
    fleet: FleetDomain
    schools: Schools
    scooters: Scooters
    citizens: Citizens
    vision: PipelineManager | None = None
    leases: CameraLeases | None = None
    lease_task: asyncio.Task[None] | None = None
    leased: set[str] = field(default_factory=set)
    signal_feed: MqttSignalFeed | None = None
    section_task: asyncio.Task[None] | None = None
    purge_task: asyncio.Task[None] | None = None
    history_task: asyncio.Task[None] | None = None
    clock_task: asyncio.Task[None] | None = None
    started: bool = False

    @property
    def clock(self) -> Clock:
        """This node's clock, corrected to the database server's."""
        return self.clock_sync.clock

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files live."""
        return self.settings.data_dir / "evidence"

    async def start(self, *, with_sources: bool = True) -> None:
        """Connect the bus, start consumers and (optionally) the camera pipelines."""
        if self.started:
            return
        if self.db.dialect == "postgresql" and self.settings.server.clock_sync_every_s > 0:
            # Before anything is stamped: the first events already carry corrected times.
            await self._sync_clock_once()
            self.clock_task = asyncio.create_task(self._sync_clock(), name="clock-sync")
        await self.bus.start()
        self.started = True
        self.outbox.start()
        if self.mqtt is not None:
            await self.mqtt.start()
        if self.settings.traffic.mqtt:
            from kupol.traffic.controller import MqttSignalFeed

            self.signal_feed = MqttSignalFeed(
                self.traffic.signals,
                host=self.settings.mqtt.host,
                port=self.settings.mqtt.port,
                topic=self.settings.traffic.signals_topic,
            )
            self.signal_feed.start()
        self.faces.start()
        await self.fleet.start(self.bus)
        if self.settings.traffic.sections:
            self.section_task = asyncio.create_task(self._run_sections(), name="traffic-sections")
        self.purge_task = asyncio.create_task(self._run_purge(), name="evidence-purge")
        self.history_task = asyncio.create_task(self._run_history(), name="history")
        stuck = await asyncio.to_thread(self.redactions.recover)
        if stuck:
            log.warning("evidence: %d redactions were interrupted by a restart", stuck)
        if with_sources and self.settings.vision.enabled:
            await self.start_pipelines()

    async def _run_sections(self) -> None:
        """The average-speed sections' job, every ``sections_every_s``, until stopped."""
        from kupol.traffic.section_job import SectionJob

        traffic = self.settings.traffic
        job = SectionJob(
            db=self.db,
            sections=traffic.sections,
            tolerance_kmh=traffic.section_tolerance_kmh,
            min_confidence=traffic.section_min_confidence,
        )
        while True:
            try:
                until = utcnow()
                found = await asyncio.to_thread(job.run_once, until=until)
                if found:
                    await self.bus.publish(*found)
                job.commit(until)
            except Exception:
                log.exception("average-speed sections: the run failed; retrying next time")
            await asyncio.sleep(traffic.sections_every_s)

    async def _sync_clock_once(self) -> None:
        try:
            await asyncio.to_thread(self.clock_sync.sync)
        except Exception as exc:  # the database is down: the last offset stays in force
            log.warning("clock: not measured against the database: %s", exc)

    async def _sync_clock(self) -> None:
        """Measure this node's clock against the database server's every
        ``[server] clock_sync_every_s``."""
        while True:
            await asyncio.sleep(self.settings.server.clock_sync_every_s)
            await self._sync_clock_once()

    async def _run_purge(self) -> None:
        """The evidence vault's scheduled purge of items past their retention."""
        from kupol.core.auth.service import SYSTEM

        while True:
            try:
                purged = await asyncio.to_thread(self.evidence.purge_due, actor=SYSTEM)
                if purged:
                    log.info("evidence: purged %d items past their retention", len(purged))
                expired = await asyncio.to_thread(self.evidence.uploads.expire)
                if expired:
                    log.info("evidence: removed %d unfinished uploads past their expiry", expired)
            except Exception:
                log.exception("evidence: the scheduled purge failed; retrying next time")
            await asyncio.sleep(self.settings.evidence.purge_every_s)

    async def _run_history(self) -> None:
        """Time partitions made ahead of the clock, and events and sightings past their
        retention removed (kupol.core.partitions)."""
        history = self.settings.history
        keeper = History(
            self.db.engine,
            interval=Interval(history.partition_interval),
            ahead=history.partitions_ahead,
            retention_days={
                "camera_events": history.camera_events_days,
                "plate_sightings": history.plate_sightings_days,
            },
        )
        while True:
            try:
                await asyncio.to_thread(keeper.run)
            except Exception:
                log.exception("history: partitions or retention failed; retrying next time")
            await asyncio.sleep(history.every_s)

    async def start_pipelines(self) -> None:
        """Run a pipeline per enabled camera with a stream, following camera changes."""
        loop = asyncio.get_running_loop()
        vision = self.settings.vision

        def mine() -> list[CameraRead]:
            cameras = [c for c in self.cameras.list(enabled_only=True)
                       if not vision.camera_ids or c.id in vision.camera_ids]  # fmt: skip
            if self.leases is None:
                return cameras
            return [c for c in cameras if c.id in self.leased]

        if vision.leases:
            self.leases = CameraLeases(db=self.db, worker=vision.worker_id or default_worker_id(),
                                       ttl_s=vision.lease_ttl_s, clock=self.clock.now)  # fmt: skip
            self.lease_task = asyncio.create_task(self._hold_leases(), name="camera-leases")
        self.vision = PipelineManager(
            cameras=mine,
            publish=lambda: bus_publisher(self.bus.publish, loop),
            evidence_dir=self.evidence_dir,
            poll_s=vision.poll_s,
            loop_files=vision.loop_files,
            realtime=vision.realtime_files,
            faces=self.faces.stage,
            plates=self.plate_domain.stage,
            traffic=self.traffic.stage,
        )
        await self.vision.start()

    async def _hold_leases(self) -> None:
        """Beat the lease table every third of the lease's life; tell the pipelines when the
        cameras this worker holds change."""
        assert self.leases is not None
        vision = self.settings.vision
        while True:
            try:
                cameras = await asyncio.to_thread(self.cameras.list, enabled_only=True)
                wanted = [c.id for c in cameras if c.stream_url
                          and (not vision.camera_ids or c.id in vision.camera_ids)]  # fmt: skip
                held = await asyncio.to_thread(self.leases.beat, wanted)
                if held != self.leased:
                    log.info("worker %s: cameras %s", self.leases.worker, sorted(held))
                    self.leased = held
                    if self.vision is not None:
                        self.vision.changed()
            except Exception:
                log.exception("camera leases: the heartbeat failed; trying again")
            await asyncio.sleep(vision.lease_ttl_s / 3)

    async def stop(self) -> None:
        """Stop the pipelines, then the bus, then close the database."""
        if self.lease_task is not None:
            self.lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.lease_task
            self.lease_task = None
        if self.vision is not None:
            await self.vision.stop()
            self.vision = None
        if self.leases is not None:
            with contextlib.suppress(Exception):  # the others take over when the leases expire
                await asyncio.to_thread(self.leases.release)
            self.leases = None
            self.leased = set()
        if self.mqtt is not None and self.started:
            await self.mqtt.stop()
        await self.faces.stop()
        if self.started:
            await self.fleet.stop()
        for task in (self.purge_task, self.history_task, self.clock_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.purge_task = self.history_task = self.clock_task = None
        if self.section_task is not None:
            self.section_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.section_task
            self.section_task = None
        if self.signal_feed is not None:
            self.signal_feed.stop()
            self.signal_feed = None
        self.traffic.close()
        if self.started:
            await self.outbox.stop()
            await self.bus.stop()
            self.started = False
        self.db.dispose()


def token_secret(settings: Settings) -> bytes:
    """The key that signs login tokens.

    Outside dev mode it is the configured secret (settings refuse the built-in one). In dev
    mode the built-in secret is public, so a random key is made once and kept beside the data
    (``<data_dir>/token.key``, readable by its owner only): even a demo cannot be logged into
    with a forged token.
    """
    configured = settings.security.secret_key.get_secret_value()
    if configured != DEFAULT_SECRET:
        return configured.encode()
    path = settings.data_dir / "token.key"
    if not path.exists():
        # Written whole under a temporary name, then linked into place: a process starting
        # at the same moment sees either no key or the complete one, never half of it.
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".token.key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its key
        finally:
            temporary.unlink()
    key = path.read_text().strip().encode()
    if len(key) < 32:
        raise ConfigError(f"{path} holds a key shorter than 32 characters; delete it to renew")
    return key


def build_bus(settings: Settings) -> Bus:
    """The bus the settings ask for."""
    if settings.bus.type == "nats":
        from kupol.core.bus.nats import JetStreamBus

        return JetStreamBus(
            url=settings.bus.nats_url,
            stream=settings.bus.stream,
            subject_prefix=settings.bus.subject_prefix,
            max_deliver=settings.bus.max_deliver,
            ack_wait_s=settings.bus.ack_wait_s,
            publish_timeout_s=settings.bus.publish_timeout_s,
            consumer_tasks=settings.bus.consumer_tasks,
            keep_hours=settings.bus.stream_keep_hours,
            max_gb=settings.bus.stream_max_gb,
        )
    return InProcessBus(retry_delays_s=settings.bus.retry_delays_s)


def content_store(settings: Settings) -> Store:
    """The evidence vault's store: local disk, or the configured S3 bucket."""
    evidence = settings.evidence
    if evidence.storage == "local":
        return ContentStore(settings.data_dir / "vault")
    from kupol.evidence.s3store import S3Store

    return S3Store.connect(
        settings.data_dir / "vault",
        endpoint=evidence.s3_endpoint,
        bucket=evidence.s3_bucket,
        prefix=evidence.s3_prefix,
        region=evidence.s3_region,
        access_key=evidence.s3_access_key,
        secret_key=evidence.s3_secret_key.get_secret_value() if evidence.s3_secret_key else None,
    )


def build_container(
    settings: Settings, *, bus: Bus | None = None, clock: Clock | None = None
) -> Container:
    """Wire every service for ``settings`` (connections open lazily or at :meth:`start`).

    ``clock``: this node's clock (default: the process's, which ``utcnow()`` reads); tests
    give nodes clocks of their own, skewed."""
    # Each consumer task works on its own batches, as another node would: it gets a pool's
    # worth of connections (with a pool of 5 and two tasks, a node opened and closed about two
    # connections a second beyond its pool — bench/load.py --pool-size).
    tasks = settings.bus.consumer_tasks if settings.bus.type == "nats" else 1
    db = Database.from_url(
        settings.database.url,
        echo=settings.database.echo,
        pool_size=settings.database.pool_size * tasks,
    )
    bus = bus if bus is not None else build_bus(settings)
    metrics = Metrics()
    metrics.database(db.engine)

    def subscribe(event_type: type[Event], handler: Handler, **options: Any) -> None:
        """A bus subscription timed, its lag and failures counted (``/metrics``)."""
        bus.subscribe(event_type, metrics.instrument(handler, str(options["consumer"])), **options)

    audit = AuditLog(db)
    secret = token_secret(settings)
    signer = TokenSigner(
        secret,
        ttl_s=settings.security.token_ttl_minutes * 60,
    )
    limiter = FailureLimiter(
        max_failures=settings.security.login_max_failures, window_s=settings.security.login_window_s
    )
    auth = AuthService(db=db, audit=audit, signer=signer, limiter=limiter,
                       policy=SessionPolicy.of(settings.security))  # fmt: skip
    cameras = CameraService(db=db, audit=audit)
    quarantine = Quarantine(db)
    # One process is the only relay on the in-process bus: nothing to claim. On NATS several
    # nodes share the outbox: a writer's rows are its own for a grace, a relay's for longer
    # than a publish may wait.
    several = settings.bus.type == "nats"
    outbox = OutboxRelay(
        db=db,
        bus=bus,
        grace_s=settings.bus.outbox_grace_s if several else 0.0,
        lease_s=settings.bus.publish_timeout_s + settings.bus.outbox_grace_s,
    )
    recorder = EventRecorder(
        db=db, bus=bus, outbox=outbox, quarantine=quarantine, known_cameras=cameras.known_ids
    )
    tracks = TrackRecorder(db=db, known_cameras=cameras.known_ids)
    subscribe(TrackObserved, tracks.handle, consumer=TrackRecorder.consumer, batch_size=200)
    faces = build_faces(
        settings=settings.faces,
        db=db,
        audit=audit,
        outbox=outbox,
        evidence_dir=settings.data_dir / "evidence",
        known_cameras=cameras.known_ids,
    )
    subscribe(FaceObserved, faces.matcher.handle, consumer=faces.matcher.consumer, batch_size=100)
    plates = build_plates(
        settings=settings.plates,
        db=db,
        audit=audit,
        outbox=outbox,
        evidence_dir=settings.data_dir / "evidence",
        known_cameras=cameras.known_ids,
    )
    subscribe(PlateObserved, plates.store.handle, consumer=PlateStore.consumer, batch_size=500)
    authority = Authority(settings.data_dir / "pki", extra_anchors=settings.documents.trust_anchors)
    traffic = build_traffic(
        settings=settings.traffic,
        authority=authority,
        db=db,
        audit=audit,
        secret=(
            settings.traffic.signing_secret.get_secret_value().encode()
            if settings.traffic.signing_secret
            else secret
        ),
        evidence_dir=settings.data_dir / "evidence",
        known_cameras=cameras.known_ids,
        mqtt_host=settings.mqtt.host,
        mqtt_port=settings.mqtt.port,
    )
    subscribe(
        ViolationObserved,
        traffic.recorder.handle,
        consumer=ViolationRecorder.consumer,
        batch_size=100,
    )
    subscribe(
        CrossingActivity,
        traffic.crossings.handle,
        consumer=CrossingRecorder.consumer,
        batch_size=500,
    )
    engine = AlertEngine(db=db)
    recorder.add_processor(engine)
    alerts = AlertService(db=db, audit=audit, outbox=outbox, engine=engine)
    live = LiveFeed()

    subscribe(
        CameraEventObserved,
        recorder.handle,
        consumer=EventRecorder.consumer,
        batch_size=RECORDER_BATCH,
    )
    for notice, consumer in ((AlertChanged, "console-live-alerts"),
                             (CameraEventsRecorded, "console-live-events")):  # fmt: skip
        subscribe(notice, live.on_events, consumer=consumer, durable=False, wanted=live.listening)
    mqtt = None
    if settings.mqtt.enabled:
        from kupol.events.mqtt import MqttIngest

        mqtt = MqttIngest(
            settings=settings.mqtt, bus=bus, quarantine=quarantine, known_cameras=cameras.known_ids
        )
    vault = EvidenceVault(
        db=db,
        audit=audit,
        store=content_store(settings),
        key_path=settings.data_dir / "evidence-signing.key",
        retention=settings.evidence,
    )
    incidents = IncidentService(db=db, audit=audit)

    def redaction_finders() -> dict[str, Finder]:
        """Faces by the face detector, plates by the plate reader's locator."""
        engine = faces.analyzer.engine()
        reader = plates.readers.get()
        return {
            "face": lambda image: [f.box for f in engine.detect(image)],
            "plate": lambda image: [r.box for r in reader.read_photo(image) if r.box is not None],
        }

    vault.on_ingest.append(incidents.link_new_item)
    # A citizen's photo or video, kept in the vault, backs the violation it shows; its fine
    # paid earns the citizen's reward.
    traffic.review.vault_reader = vault.read_bytes
    roads = build_roads(settings=settings.roads, db=db, audit=audit)
    citizens = Citizens(
        settings=settings.citizens, data_dir=settings.data_dir, db=db, audit=audit, auth=auth,
        vault=vault, secret=secret.hex(), violations=traffic.recorder, cameras=cameras,
        incidents=incidents, crime=roads.crime, plate_reader=plates.readers.get,
        face_finder=lambda: redaction_finders()["face"],
    )  # fmt: skip
    traffic.notices.on_paid.append(citizens.rewards.on_paid)
    traffic.notices.on_refunded.append(citizens.rewards.on_refunded)
    fleet = FleetDomain(settings=settings.fleet, mqtt=settings.mqtt, db=db, audit=audit)
    # What a drone's or robot dog's camera sees is placed on the unit's track.
    recorder.geotag = fleet.fleet.position_at
    traffic.recorder.geotag = fleet.fleet.position_at
    container = Container(
        settings=settings,
        db=db,
        bus=bus,
        metrics=metrics,
        audit=audit,
        auth=auth,
        cameras=cameras,
        recorder=recorder,
        tracks=tracks,
        events=EventQueries(db=db, audit=audit),
        track_queries=TrackQueries(db=db, audit=audit),
        faces=faces,
        plate_store=plates.store,
        plates=plates.queries,
        hotlists=plates.hotlists,
        plate_domain=plates,
        plate_case_files=RouteCaseFiles(
            db=db, audit=audit, queries=plates.queries, files=plates.files, vault=vault
        ),
        traffic=traffic,
        evidence=vault,
        devices=DeviceRegistry(db=db, audit=audit),
        incidents=incidents,
        redactions=Redactions(db=db, vault=vault, finders=redaction_finders),
        roads=roads,
        antifraud=build_antifraud(settings=settings.antifraud, db=db, audit=audit, vault=vault),
        fleet=fleet,
        schools=Schools(db=db, audit=audit),
        scooters=Scooters(db=db, audit=audit, settings=settings.scooters),
        citizens=citizens,
        documents=DocumentService(
            db=db,
            audit=audit,
            vault=vault,
            authority=authority,
        ),
        alert_engine=engine,
        alerts=alerts,
        quarantine=quarantine,
        live=live,
        outbox=outbox,
        clock_sync=ClockSync(db=db, clock=clock or PROCESS_CLOCK,
                             max_skew_s=settings.server.max_clock_skew_s, report=metrics.clock),
        mqtt=mqtt,
    )  # fmt: skip
    # The camera pipelines' health, read at each scrape of /metrics.
    metrics.cameras(lambda: container.vision.health() if container.vision else [])
    return container
