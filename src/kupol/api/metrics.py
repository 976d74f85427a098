"""``/metrics`` for Prometheus (the ``monitor`` role, or an administrator: counts and timings,
no personal data) and the middleware that times every HTTP request by its route's template
(``/api/plates/{plate}/route``, never the plate itself)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kupol.api.deps import ContainerDep, require
from kupol.core.auth import Permission, Principal
from kupol.core.metrics import Metrics

router = APIRouter(tags=["health"])
Monitor = Annotated[Principal, Depends(require(Permission.METRICS_READ))]


@router.get("/metrics", response_class=Response)
def metrics(container: ContainerDep, monitor: Monitor) -> Response:
    """This process's metrics in the Prometheus text format."""
    return Response(container.metrics.exposition(),
                    media_type="text/plain; version=0.0.4; charset=utf-8")  # fmt: skip


@router.get("/api/health/summary")
def summary(container: ContainerDep, monitor: Monitor) -> dict[str, Any]:
    """The health page's figures: frames per camera, detector time, bus consumers' lag and
    failures, decisions per second, HTTP errors, the cameras' own health."""
    figures = asdict(container.metrics.summary())
    vision = container.vision
    figures["pipelines"] = [vars(h).copy() for h in vision.health()] if vision else []
    return figures


class RequestMetrics:
    """Times each HTTP request and counts it by method, route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or _unrouted(scope.get("path", ""))
            self.metrics.request(method=scope.get("method", ""), route=template, status=status,
                                 seconds=time.perf_counter() - start)  # fmt: skip


def _unrouted(path: str) -> str:
    """A path no route matched (static files, the screening fast path, 404s), kept to its
    first two segments so the label's values stay few."""
    parts = [p for p in path.split("/") if p][:2]
    return "/" + "/".join(parts) + ("/…" if parts else "")
