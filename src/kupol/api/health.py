"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kupol import __version__
from kupol.api.deps import ContainerDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(container: ContainerDep) -> JSONResponse:
    """The database and the bus answer (and, when MQTT ingest is on, the broker is connected
    and has confirmed the subscription); 503 with what is wrong otherwise."""
    checks: dict[str, str] = {}
    # Anyone may call this: say what is down, log why (hosts and users stay in the log).
    try:
        await asyncio.to_thread(container.db.ping)
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: database: %s", exc)
        checks["database"] = "unavailable"
    try:
        await asyncio.wait_for(container.bus.ping(), 3)
        checks["bus"] = "ok"
    except Exception as exc:
        log.warning("readiness: bus: %s", exc)
        checks["bus"] = "unavailable"
    if container.mqtt is not None:
        # Connected is not enough: events flow once the broker has confirmed the subscription
        # (a broker may refuse it, e.g. by its access rules, and keep the connection up).
        ingest = container.mqtt
        connected = ingest.connected
        checks["mqtt"] = (
            "unavailable" if not connected else "ok" if ingest.subscribed else "not subscribed"
        )
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
