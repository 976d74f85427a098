"""``create_app(container)``: the FastAPI application, with every router registered once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from kupol import __version__
from kupol.api import audit, auth, health, stream
from kupol.api.problems import install_problem_handlers
from kupol.bootstrap import Container

if TYPE_CHECKING:
    from kupol.antifraud.switchport import ScreeningPort

log = logging.getLogger(__name__)


def routers() -> list[APIRouter]:
    """The router registry: each domain's router, in the order OpenAPI lists them."""
    from kupol.alerts.api import router as alerts_router
    from kupol.antifraud.api import router as antifraud_router
    from kupol.api import metrics
    from kupol.cameras.api import router as cameras_router
    from kupol.citizens.api import public_router as public_citizens_router
    from kupol.citizens.api import review_router as citizen_review_router
    from kupol.citizens.api import router as citizens_router
    from kupol.citizens.helpers_api import router as helper_router
    from kupol.citizens.helpers_api import staff_router as helpers_router
    from kupol.documents.api import certificates as certificates_router
    from kupol.documents.api import router as documents_router
    from kupol.events.api import router as events_router
    from kupol.evidence.api import router as evidence_router
    from kupol.evidence.devices_api import router as devices_router
    from kupol.evidence.redactions_api import router as redactions_router
    from kupol.evidence.uploads_api import router as evidence_uploads_router
    from kupol.faces.api import router as faces_router
    from kupol.fleet.api import router as fleet_router
    from kupol.incidents.api import router as incidents_router
    from kupol.plates.api import router as plates_router
    from kupol.roads.api import router as roads_router
    from kupol.schools.api import public_router as public_schools_router
    from kupol.schools.api import router as schools_router
    from kupol.scooters.api import router as scooters_router
    from kupol.traffic.api import router as traffic_router
    from kupol.vision.api import router as vision_router
    from kupol.web.routes import router as console_router

    return [
        health.router,
        metrics.router,
        auth.router,
        cameras_router,
        events_router,
        alerts_router,
        vision_router,
        faces_router,
        plates_router,
        traffic_router,
        roads_router,
        fleet_router,
        schools_router,
        public_schools_router,
        scooters_router,
        citizens_router,
        helper_router,
        citizen_review_router,
        helpers_router,
        public_citizens_router,
        antifraud_router,
        evidence_uploads_router,
        evidence_router,
        devices_router,
        redactions_router,
        incidents_router,
        documents_router,
        certificates_router,
        stream.router,
        audit.router,
        console_router,
    ]


def create_app(container: Container, *, manage_lifecycle: bool = True) -> FastAPI:
    """Build the app around ``container``; with ``manage_lifecycle`` it starts and stops it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await container.start()
        switches = app.state.switches = None
        try:
            await _warm_screening(container)
            switches = app.state.switches = await _switches_port(container)
            yield
        finally:
            if switches is not None:
                try:
                    await switches.stop()
                finally:
                    await container.antifraud.calls.stop_storing_in_process()
            if manage_lifecycle:
                await container.stop()

    app = FastAPI(
        title="kupol",
        version=__version__,
        description="Digital policing platform: cameras, events, alerts, audit.",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.container = container
    install_problem_handlers(app)
    from kupol.antifraud.fastpath import ScreenFastPath
    from kupol.api.metrics import RequestMetrics

    app.add_middleware(ScreenFastPath, container=container)  # switches' calls: the short way
    app.add_middleware(RequestMetrics, metrics=container.metrics)
    for router in routers():
        app.include_router(router)
    from kupol.web.routes import mount_static

    mount_static(app)
    return app


async def _warm_screening(container: Container) -> None:
    """Call screening's windows rebuilt from the last stored decisions before serving."""
    minutes = container.settings.antifraud.warm_start_minutes
    if minutes <= 0:
        return
    started = time.perf_counter()
    try:
        replayed = await asyncio.to_thread(container.antifraud.calls.warm, minutes)
    except Exception:  # best effort: a start with empty windows beats no start
        log.exception("call screening: the stored decisions could not be replayed")
        return
    if replayed:
        log.info(
            "call screening: %d calls of the last %g minutes replayed into its windows in "
            "%.1f s", replayed, minutes, time.perf_counter() - started,
        )  # fmt: skip


async def _switches_port(container: Container) -> ScreeningPort | None:
    """The switches' screening port, when ``[antifraud] screen_listen`` asks for one."""
    listen = container.settings.antifraud.screen_listen
    if not listen:
        return None
    from kupol.antifraud.switchport import ScreeningPort

    host, _, port = listen.rpartition(":")
    if container.settings.antifraud.decision_writer == "process":
        container.antifraud.calls.store_in_process(container.settings.database.url)
    switches = ScreeningPort(container)
    await switches.start(host, int(port))
    return switches


def tune_for_serving() -> None:
    """Garbage collection for a long-running server: what start-up built (modules, models,
    the app) is frozen out of the collector's scans, and collections run less often. Without
    it a full collection over a grown heap stalls every request in flight for 100–250 ms
    (measured on call screening: p99 133 ms at one request at a time, 1.9 ms with it;
    docs/antifraud.md). Young collections stay small, so that each pause is short: after
    2,000 net allocations of tracked objects (after 50,000 each paused the loop 7-26 ms at
    3,000-5,000 calls/s; now at most 4 ms), the middle generation at every 11th (at most
    7 ms), a full collection at most every ~110 million (it was ~106 million). Call once,
    just before the server starts."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 10, 5_000)
