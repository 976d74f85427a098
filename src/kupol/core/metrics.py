"""Prometheus metrics of one kupol process: HTTP requests, the bus (events published and
handled, handling time, lag from an event's creation to its handling, failures), cameras'
frames and the detector's time per frame, decisions made (violations, calls screened,
transfers checked …) and errors. Each container has its own registry (tests build many), served
at ``/metrics`` in the Prometheus text format to the ``monitor`` role.

Rates (frames per second, decisions per second) are what Prometheus computes from the counters
(``rate(kupol_camera_frames_total[1m])``); :meth:`Metrics.summary` gives the same figures for
the console's health page from the counters' movement since the previous look.

Example:
    >>> m = Metrics()
    >>> m.decision("violation")
    >>> m.frame("cam-1", detector_s=0.02)
    >>> b"kupol_decisions_total" in m.exposition()
    True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.pool import QueuePool

from kupol.core.messages import Clock, utcnow

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True, kw_only=True)
class Rate:
    """A counter's value and its rate per second since the previous summary."""

    total: float
    per_s: float | None


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the health page shows."""

    cameras: dict[str, Rate] = field(default_factory=dict)
    """Frames per camera."""
    detector_ms_mean: float | None = None
    decisions: dict[str, Rate] = field(default_factory=dict)
    consumers: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per bus consumer: handled, failed, mean handling ms, last lag s."""
    http: dict[str, float] = field(default_factory=dict)
    """Requests, 5xx answers, mean ms."""
    errors: dict[str, float] = field(default_factory=dict)


class Metrics:
    """The process's metrics (see the module)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "kupol_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "kupol_http_request_seconds", "Time to answer an HTTP request", ["method", "route"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.published = Counter(
            "kupol_bus_published", "Events handed to the bus", ["event"], registry=r
        )
        self.handled = Counter(
            "kupol_bus_handled", "Events a consumer handled", ["consumer"], registry=r
        )
        self.failed = Counter(
            "kupol_bus_failed", "Batches a consumer failed (delivered again)", ["consumer"],
            registry=r,
        )  # fmt: skip
        self.handle_seconds = Histogram(
            "kupol_bus_handle_seconds", "Time a consumer took for a batch", ["consumer"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.lag_seconds = Histogram(
            "kupol_bus_lag_seconds", "From an event's creation to its handling", ["consumer"],
            buckets=LAG_BUCKETS, registry=r,
        )  # fmt: skip
        self.last_lag = Gauge(
            "kupol_bus_last_lag_seconds", "The lag of the last event handled", ["consumer"],
            registry=r,
        )  # fmt: skip
        self.frames = Counter(
            "kupol_camera_frames", "Frames analysed per camera", ["camera"], registry=r
        )
        self.detector_seconds = Histogram(
            "kupol_detector_seconds", "The detector's time per frame", buckets=LATENCY_BUCKETS,
            registry=r,
        )  # fmt: skip
        self._decision_kinds: dict[str, Any] = {}
        self.decisions = Counter(
            "kupol_decisions", "Decisions made (violations, calls screened …)", ["kind"],
            registry=r,
        )  # fmt: skip
        self.errors = Counter("kupol_errors", "Errors by where", ["where"], registry=r)
        self.clock_skew = Gauge(
            "kupol_clock_skew_seconds", "This node's clock minus the database server's "
            "(positive: ahead); the node's timestamps are corrected by it", registry=r,
        )  # fmt: skip
        self.clock_uncertainty = Gauge(
            "kupol_clock_uncertainty_seconds", "Half the round trip of the last clock "
            "measurement: the skew is known to within this", registry=r,
        )  # fmt: skip
        self._lock = threading.Lock()
        self._previous: dict[str, tuple[float, float]] = {}

    # Recording ------------------------------------------------------------------------------

    def request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)

    def frame(self, camera: str, *, detector_s: float | None = None) -> None:
        self.frames.labels(camera).inc()
        if detector_s is not None:
            self.detector_seconds.observe(detector_s)

    def decision(self, kind: str, count: int = 1) -> None:
        # the labelled child kept: looking it up again cost as much as the rest of the count
        child = self._decision_kinds.get(kind)
        if child is None:
            child = self._decision_kinds[kind] = self.decisions.labels(kind)
        child.inc(count)

    def error(self, where: str) -> None:
        self.errors.labels(where).inc()

    def clock(self, clock: Clock) -> None:
        """Expose a node's measured clock skew (``clock``: a
        :class:`~kupol.core.messages.Clock` just synchronised)."""
        self.clock_skew.set(-clock.offset_s)
        if clock.uncertainty_s is not None:
            self.clock_uncertainty.set(clock.uncertainty_s)

    def cameras(self, read: Callable[[], Sequence[Any]]) -> None:
        """Expose the camera pipelines' own health (``read()``: their
        :class:`~kupol.vision.worker.CameraHealth`), read at each scrape."""
        self.registry.register(_CameraCollector(read))

    def database(self, engine: Engine) -> None:
        """Expose ``engine``'s connection pool: connections opened since start (a count that
        keeps rising under steady load means the pool is too small: connections beyond it are
        closed as they are returned and opened again), and those in use, idle and beyond the
        pool's size now. (On PostgreSQL a node has this one engine; on SQLite it is the
        writer's, readers have their own.)"""
        self.registry.register(_PoolCollector(engine))

    def instrument(
        self, handler: Callable[[Sequence[Any]], Awaitable[None]], consumer: str
    ) -> Callable[[Sequence[Any]], Awaitable[None]]:
        """``handler`` timed, its lag measured and its failures counted, for the bus."""

        async def timed(batch: Sequence[Any]) -> None:
            start = time.perf_counter()
            try:
                await handler(batch)
            except Exception:
                self.failed.labels(consumer).inc()
                self.errors.labels(f"bus:{consumer}").inc()
                raise
            self.handle_seconds.labels(consumer).observe(time.perf_counter() - start)
            self.handled.labels(consumer).inc(len(batch))
            now = utcnow()
            lag = 0.0
            lags = self.lag_seconds.labels(consumer)  # once a batch: the look-up costs more
            for event in batch:
                created = getattr(event, "created_at", None)
                if created is not None:
                    lag = max(0.0, (now - created).total_seconds())
                    lags.observe(lag)
            self.last_lag.labels(consumer).set(lag)

        return timed

    # Reading --------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return bytes(generate_latest(self.registry))

    def summary(self) -> Summary:
        """The figures of the health page (rates since the previous call)."""
        values = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for metric in self.registry.collect()
            for s in metric.samples
        }
        now = time.monotonic()

        def total(name: str, **labels: str) -> float:
            return values.get((name, tuple(sorted(labels.items()))), 0.0)

        def rate(key: str, value: float) -> Rate:
            with self._lock:
                before = self._previous.get(key)
                self._previous[key] = (now, value)
            if before is None or now <= before[0]:
                return Rate(total=value, per_s=None)
            return Rate(total=value, per_s=round((value - before[1]) / (now - before[0]), 2))

        def labelled(name: str, label: str) -> dict[str, float]:
            return {
                dict(k[1])[label]: v for k, v in values.items()
                if k[0] == name and label in dict(k[1])
            }  # fmt: skip

        frames = labelled("kupol_camera_frames_total", "camera")
        frames.update(labelled("kupol_camera_analysed_frames_total", "camera"))
        cameras = {c: rate(f"frames:{c}", v) for c, v in frames.items()}
        decisions = {k: rate(f"decisions:{k}", v)
                     for k, v in labelled("kupol_decisions_total", "kind").items()}  # fmt: skip
        detector_n = total("kupol_detector_seconds_count") + sum(
            labelled("kupol_camera_analysed_frames_total", "camera").values()
        )
        spent_s = total("kupol_detector_seconds_sum") + sum(
            labelled("kupol_camera_analysis_seconds_total", "camera").values()
        )
        detector = round(1000 * spent_s / detector_n, 2) if detector_n else None
        consumers: dict[str, dict[str, float]] = {}
        for consumer, handled in labelled("kupol_bus_handled_total", "consumer").items():
            batches = total("kupol_bus_handle_seconds_count", consumer=consumer)
            spent = total("kupol_bus_handle_seconds_sum", consumer=consumer)
            consumers[consumer] = {
                "handled": handled,
                "failed": total("kupol_bus_failed_total", consumer=consumer),
                "mean_ms": round(1000 * spent / batches, 2) if batches else 0.0,
                "last_lag_s": round(total("kupol_bus_last_lag_seconds", consumer=consumer), 3),
            }
        for consumer, failed in labelled("kupol_bus_failed_total", "consumer").items():
            consumers.setdefault(consumer, {"handled": 0.0, "failed": failed, "mean_ms": 0.0,
                                            "last_lag_s": 0.0})  # fmt: skip
        requests = sum(labelled_all(values, "kupol_http_requests_total").values())
        server_errors = sum(
            v for k, v in values.items()
            if k[0] == "kupol_http_requests_total" and dict(k[1]).get("status", "").startswith("5")
        )  # fmt: skip
        count = sum(labelled_all(values, "kupol_http_request_seconds_count").values())
        spent = sum(labelled_all(values, "kupol_http_request_seconds_sum").values())
        return Summary(
            cameras=cameras, detector_ms_mean=detector, decisions=decisions, consumers=consumers,
            http={"requests": requests, "server_errors": server_errors,
                  "mean_ms": round(1000 * spent / count, 2) if count else 0.0},
            errors=labelled("kupol_errors_total", "where"),
        )  # fmt: skip


def labelled_all(
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str
) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of ``name``, by its labels."""
    return {labels: v for (n, labels), v in values.items() if n == name}


class _PoolCollector(Collector):
    """A SQLAlchemy engine's pool as metrics (see :meth:`Metrics.database`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._opened = 0
        self._lock = threading.Lock()
        sqlalchemy_event.listen(engine, "connect", self._connected)

    def _connected(self, *_: Any) -> None:
        with self._lock:
            self._opened += 1

    def collect(self) -> Any:
        opened = CounterMetricFamily(
            "kupol_db_connections_opened", "Database connections opened by this process"
        )
        opened.add_metric([], float(self._opened))
        yield opened
        pool = self._engine.pool
        if isinstance(pool, QueuePool):  # (an in-memory SQLite database has a single one)
            state = GaugeMetricFamily(
                "kupol_db_pool_connections", "Pooled connections now", labels=["state"]
            )
            state.add_metric(["in_use"], float(pool.checkedout()))
            state.add_metric(["idle"], float(pool.checkedin()))
            state.add_metric(["beyond_size"], float(max(0, pool.overflow())))
            yield state


class _CameraCollector(Collector):
    """The pipelines' health as metrics: frames analysed, analysis time, fps in and out, lag,
    frames dropped, restarts, and whether each is running."""

    def __init__(self, read: Callable[[], Sequence[Any]]) -> None:
        self._read = read

    def collect(self) -> Any:
        cam = ["camera"]
        frames = CounterMetricFamily("kupol_camera_analysed_frames", "Frames analysed", labels=cam)
        spent = CounterMetricFamily(
            "kupol_camera_analysis_seconds", "Seconds spent analysing frames", labels=cam
        )
        dropped = CounterMetricFamily(
            "kupol_camera_dropped_frames", "Frames not analysed (fell behind)", labels=cam
        )
        restarts = CounterMetricFamily("kupol_camera_restarts", "Stream reconnections", labels=cam)
        fps = GaugeMetricFamily("kupol_camera_fps", "Frames per second", labels=["camera", "way"])
        lag = GaugeMetricFamily("kupol_camera_lag_seconds", "Behind real time", labels=cam)
        up = GaugeMetricFamily("kupol_camera_up", "1 when the pipeline runs", labels=cam)
        for h in self._read():
            camera = str(h.camera_id)
            frames.add_metric([camera], float(h.frames))
            spent.add_metric([camera], float(getattr(h, "analysis_s", 0.0)))
            dropped.add_metric([camera], float(h.dropped))
            restarts.add_metric([camera], float(h.restarts))
            fps.add_metric([camera, "in"], float(h.fps_in))
            fps.add_metric([camera, "out"], float(h.fps_out))
            lag.add_metric([camera], float(h.lag_s))
            up.add_metric([camera], 1.0 if h.state == "running" else 0.0)
        yield from (frames, spent, dropped, restarts, fps, lag, up)
