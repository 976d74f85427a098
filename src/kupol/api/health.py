"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kupol import __version__
from kupol.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(container: ContainerDep) -> JSONResponse:
    """The database and the bus answer; 503 with what is wrong otherwise."""
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(container.db.ping)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = str(exc)
    try:
        await asyncio.wait_for(container.bus.ping(), 3)
        checks["bus"] = "ok"
    except Exception as exc:
        checks["bus"] = str(exc) or type(exc).__name__
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
