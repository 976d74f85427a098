"""Call screening over HTTP: decisions per second and latency percentiles at offered rates
(the issue's target: p99 ≤ 5 ms per decision at 5,000 calls/s on this 2-core machine).

A kupol API (uvicorn, one worker, SQLite) runs in a process of its own; an asyncio client
offers ``POST /api/antifraud/calls/screen`` at a fixed rate (open loop: each request is sent
at its time whether or not earlier ones have answered, up to ``--concurrency`` in flight) for
``--seconds`` per rate, with the simulated day's calls as the attempts. Client and server
share the machine's two cores, so the figures are a floor for a server alone.

    .venv/bin/python bench/antifraud_http.py [--rates 250 500 1000 2000 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn

from kupol.antifraud.cdr_sim import simulate_day
from kupol.api.app import create_app
from kupol.bootstrap import build_container
from kupol.core.db import upgrade
from kupol.settings import load_settings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def offer(url: str, token: str, bodies: list[dict[str, object]], rate: int, seconds: float,
                concurrency: int) -> dict[str, float]:  # fmt: skip
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    total = int(rate * seconds)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:

        async def one(body: dict[str, object]) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                try:
                    answer = await client.post("/api/antifraud/calls/screen", json=body)
                    if answer.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        tasks = []
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(bodies[i % len(bodies)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {
        "offered": rate, "answered_per_s": round(len(ms) / elapsed), "errors": errors,
        "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
    }  # fmt: skip


def serve(url: str, folder: str) -> None:
    """The API in its own process (the client must not share its interpreter lock)."""
    settings = load_settings(toml_file=None, database={"url": url}, data_dir=folder)
    uvicorn.run(create_app(build_container(settings)), host="127.0.0.1", port=8791,
                log_level="warning", lifespan="on", ws="none")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=int, nargs="+", default=[250, 500, 1000, 2000, 5000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kupol-bench-af-"))
    url = f"sqlite:///{folder / 'kupol.sqlite'}"
    upgrade(url)
    settings = load_settings(toml_file=None, database={"url": url}, data_dir=str(folder))
    container = build_container(settings)
    password = "bench-switch-password"
    container.auth.create_user(username="switch", password=password, roles=["telecom"])
    container.db.dispose()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(url, str(folder)), daemon=True
    )
    server.start()
    base = "http://127.0.0.1:8791"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the API did not start")
        time.sleep(0.2)
    login = {"username": "switch", "password": password}
    token = httpx.post(f"{base}/api/auth/login", json=login).json()["access_token"]
    calls = simulate_day(3, subscribers=5000).calls
    bodies = []
    for n, c in enumerate(calls):
        a = c.attempt
        bodies.append({"call_id": f"b{n}", "caller": a.caller, "called": a.called,
                       "international": a.international, "imsi": a.imsi, "imei": a.imei,
                       "cell": a.cell})  # fmt: skip
    print("call screening over HTTP (uvicorn, one worker, SQLite; client on the same 2 cores)")
    offset = 0
    for rate in args.rates:
        chunk = bodies[offset:] + bodies[:offset]
        figures = asyncio.run(offer(base, token, chunk, rate, args.seconds, args.concurrency))
        offset = (offset + int(rate * args.seconds)) % len(bodies)
        verdict = (
            "met"
            if figures["p99_ms"] <= 5 and figures["answered_per_s"] >= rate * 0.95
            else "not met"
        )
        print(
            f"  offered {rate:5,}/s: answered {figures['answered_per_s']:5,}/s, "
            f"p50 {figures['p50_ms']:7.2f} ms, p95 {figures['p95_ms']:7.2f} ms, "
            f"p99 {figures['p99_ms']:8.2f} ms, errors {figures['errors']}  "
            f"(target at 5,000/s: p99 ≤ 5 ms -> {verdict})"
        )
    server.terminate()
    server.join(10)


if __name__ == "__main__":
    main()
