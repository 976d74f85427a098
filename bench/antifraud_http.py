"""Call screening over HTTP: decisions per second and latency percentiles (the issue's
target: p99 ≤ 5 ms per decision at 5,000 calls/s on this 2-core machine).

A kupol API (uvicorn, one worker, SQLite, tuned as ``kupol serve`` tunes it) runs in a process
of its own, with the switches' port (``[antifraud] screen_listen``) beside it, and the
simulated day's calls as the attempts sent to ``POST /api/antifraud/calls/screen`` on both.
After a warm-up:

- **wrk** (``scripts/ensure_wrk.sh`` installs Debian's wrk), closed loop: ``--connections``
  clients each sending the next request as soon as the last is answered, for ``--seconds``:
  the server's throughput and latency at that concurrency;
- **open loop** (``bench/openloop.c``, compiled here): calls offered at fixed ``--open-rates``
  whether or not earlier ones were answered, each call's latency counted from when it was
  due — what "p99 at 5,000 calls/s" asks;
- an **asyncio client** (httpx), open loop at low ``--rates`` (a Python client cannot offer
  much more than a few hundred a second; its figures include its own delays).

Client and server share the machine's two cores, so the figures are a floor for a server
alone.

    .venv/bin/python bench/antifraud_http.py [--connections 1 4 16 64] [--rates 100 250]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from kupol.antifraud.cdr_sim import simulate_day
from kupol.api.app import create_app, tune_for_serving
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
    run = uuid.uuid4().hex[:8]
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
            # a call id of its own: the same id again would be a switch's retry, answered
            # from memory without screening (kupol.antifraud.calls)
            body = {**bodies[i % len(bodies)], "call_id": f"{run}-{i}"}
            tasks.append(asyncio.create_task(one(body)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {
        "offered": rate, "answered_per_s": round(len(ms) / elapsed), "errors": errors,
        "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
    }  # fmt: skip


PORT = 8792  # the switches' port ([antifraud] screen_listen)


def serve(url: str, folder: str, writer: str = "process") -> None:
    """The API in its own process (the client must not share its interpreter lock), with the
    switches' port beside it; ``writer``: who stores the decisions meanwhile."""
    settings = load_settings(
        toml_file=None, database={"url": url}, data_dir=folder,
        antifraud={"screen_listen": f"127.0.0.1:{PORT}", "decision_writer": writer},
    )  # fmt: skip
    app = create_app(build_container(settings))
    tune_for_serving()
    uvicorn.run(app, host="127.0.0.1", port=8791, log_level="warning", lifespan="on", ws="none")


WRK_SCRIPT = """
local path = os.getenv("KUPOL_PATH")
local bodies = {}
local n = 0
for line in io.lines(os.getenv("KUPOL_BODIES")) do
  n = n + 1
  bodies[n] = line
end
local i = math.random(1, n)
local headers = {["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer " .. os.getenv("KUPOL_TOKEN")}
-- Every call gets an id of its own (the run's, the request's): the same id again would be a
-- switch's retry, answered from memory without screening (kupol.antifraud.calls).
local run = os.getenv("KUPOL_RUN")
local k = 0
request = function()
  i = i % n + 1
  k = k + 1
  local body = string.gsub(bodies[i], '"call_id": "', '"call_id": "' .. run .. "-" .. k .. "-")
  return wrk.format("POST", path, headers, body)
end
"""


def run_wrk(base: str, token: str, bodies_file: Path, connections: int, seconds: float,
            path: str = "/api/antifraud/calls/screen") -> dict[str, float] | str:  # fmt: skip
    script = bodies_file.with_name("screen.lua")
    script.write_text(WRK_SCRIPT)
    env = {"KUPOL_BODIES": str(bodies_file), "KUPOL_TOKEN": token, "PATH": "/usr/bin:/bin",
           "KUPOL_PATH": path, "KUPOL_RUN": uuid.uuid4().hex[:8]}  # fmt: skip
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
         base],
        capture_output=True, text=True, env=env, check=False,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([0-9.]+)(us|ms|s)\b", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not rate:
        return out.strip()[-300:] or "wrk gave no figures"
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"connections": connections, "per_s": round(float(rate.group(1))),
            "p50_ms": ms("50"), "p90_ms": ms("90"), "p99_ms": ms("99"),
            "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else ""}  # fmt: skip


def settle(base: str, limit_s: float = 60.0) -> None:
    """Wait until the server has worked off what an overloaded run left queued (the health
    check answers within 20 ms twice running), so that it does not weigh on the next run."""
    deadline = time.monotonic() + limit_s
    quick = 0
    with httpx.Client(base_url=base, timeout=limit_s) as client:
        while quick < 2 and time.monotonic() < deadline:
            started = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):
                client.get("/healthz")
            quick = quick + 1 if time.perf_counter() - started < 0.02 else 0
            time.sleep(0.2)


def build_openloop(folder: Path) -> Path | None:
    """bench/openloop.c compiled, or ``None`` without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    binary = folder / "openloop"
    source = Path(__file__).with_name("openloop.c")
    subprocess.run([compiler, "-O2", "-o", str(binary), str(source)], check=True)
    return binary


def run_openloop(binary: Path, base: str, token: str, bodies_file: Path, rate: int,
                 seconds: float, connections: int) -> dict[str, float] | str:  # fmt: skip
    """Calls offered at ``rate`` a second whether or not earlier ones were answered, latency
    counted from when each was due (bench/openloop.c)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    out = subprocess.run(
        [str(binary), host, port, "/api/antifraud/calls/screen", token, str(bodies_file),
         str(rate), f"{seconds:g}", str(connections)],
        capture_output=True, text=True, check=False, timeout=seconds + 60,
        env={**os.environ, "KUPOL_RUN": uuid.uuid4().hex[:8]},
    )  # fmt: skip
    try:
        figures: dict[str, float] = json.loads(out.stdout)
    except json.JSONDecodeError:
        return (out.stdout + out.stderr).strip()[-300:] or "no figures"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 250])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--batch", type=int, default=20, help="Calls per request for the batch endpoint run."
    )
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--open-rates", type=int, nargs="+", default=[1000, 2000, 3000, 4000, 5000])
    parser.add_argument("--open-connections", type=int, nargs="+", default=[32])
    parser.add_argument(
        "--decision-writer", choices=["process", "thread"], default="process",
        help="Who stores the decisions while the switches' port is served "
        "([antifraud] decision_writer).",
    )  # fmt: skip
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
        target=serve, args=(url, str(folder), args.decision_writer), daemon=True
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
    bodies_file = folder / "bodies.jsonl"
    bodies_file.write_text("\n".join(json.dumps(b) for b in bodies) + "\n")
    by = "a process of their own" if args.decision_writer == "process" else "a thread"
    print(
        "call screening over HTTP (uvicorn, one worker, SQLite; client on the same 2 cores; "
        f"decisions stored by {by})"
    )
    warm = asyncio.run(offer(base, token, bodies[-2000:], 200, 3, args.concurrency))
    print(f"  warm-up: {warm['answered_per_s']}/s for 3 s")
    openloop = build_openloop(folder)
    if shutil.which("wrk"):
        port = f"http://127.0.0.1:{PORT}"
        for name, where in (("the API", base), ("the switches' port", port)):
            print(
                f"  wrk, closed loop (each connection sends its next call once answered), {name}:"
            )
            for connections in args.connections:
                figures = run_wrk(where, token, bodies_file, connections, args.seconds)
                settle(base)
                if isinstance(figures, str):
                    print(f"    {connections:3} connections: wrk failed: {figures}")
                    continue
                verdict = (
                    "met" if figures["p99_ms"] <= 5 and figures["per_s"] >= 5000 else "not met"
                )
                print(
                    f"    {connections:3} connections: {figures['per_s']:6,}/s, "
                    f"p50 {figures['p50_ms']:7.2f} ms, p90 {figures['p90_ms']:7.2f} ms, "
                    f"p99 {figures['p99_ms']:7.2f} ms, non-2xx {figures['non_2xx']} "
                    f"{figures['socket_errors']}  (target 5,000/s at p99 ≤ 5 ms -> {verdict})"
                )
            if openloop is None:
                print("    (no C compiler for bench/openloop.c: the open-loop runs are skipped)")
                continue
            for conns in args.open_connections:
                print(f"  open loop (bench/openloop.c, {conns} connections), {name}:")
                for rate in args.open_rates:
                    found = run_openloop(openloop, where, token, bodies_file, rate, args.seconds,
                                         conns)  # fmt: skip
                    settle(base)
                    if isinstance(found, str):
                        print(f"    offered {rate:6,}/s: failed: {found}")
                        continue
                    met = found["p99_ms"] <= 5 and found["unanswered"] == 0
                    print(
                        f"    offered {rate:6,}/s: answered {found['per_s']:6,.0f}/s, "
                        f"p50 {found['p50_ms']:7.2f} ms, p90 {found['p90_ms']:7.2f} ms, "
                        f"p99 {found['p99_ms']:7.2f} ms, p99.9 {found['p999_ms']:7.2f} ms, "
                        f"non-2xx {found['non_2xx']:.0f}, unanswered {found['unanswered']:.0f}  "
                        f"(p99 ≤ 5 ms at this rate -> {'met' if met else 'not met'})"
                    )
        batches = folder / "batches.jsonl"
        batches.write_text("\n".join(
            json.dumps({"calls": bodies[i : i + args.batch]})
            for i in range(0, len(bodies) - args.batch, args.batch)
        ) + "\n")  # fmt: skip
        print(f"  wrk, the batch endpoint ({args.batch} calls a request), closed loop:")
        for connections in (1, 4, 16):
            figures = run_wrk(base, token, batches, connections, args.seconds,
                              path="/api/antifraud/calls/screen-batch")  # fmt: skip
            if isinstance(figures, str):
                print(f"    {connections:3} connections: wrk failed: {figures}")
                continue
            decisions = figures["per_s"] * args.batch
            verdict = "met" if figures["p99_ms"] <= 5 and decisions >= 5000 else "not met"
            print(
                f"    {connections:3} connections: {decisions:6,} decisions/s "
                f"({figures['per_s']:,} requests/s), per request p50 {figures['p50_ms']:.2f} ms, "
                f"p90 {figures['p90_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, non-2xx "
                f"{figures['non_2xx']}  (5,000 decisions/s at p99 ≤ 5 ms -> {verdict})"
            )
    else:
        print("  wrk is not installed (scripts/ensure_wrk.sh): closed-loop figures skipped")
    print("  asyncio client (httpx), open loop at fixed rates:")
    offset = 0
    for rate in args.rates:
        chunk = bodies[offset:] + bodies[:offset]
        figures = asyncio.run(offer(base, token, chunk, rate, args.seconds, args.concurrency))
        offset = (offset + int(rate * args.seconds)) % len(bodies)
        print(
            f"    offered {rate:5,}/s: answered {figures['answered_per_s']:5,}/s, "
            f"p50 {figures['p50_ms']:7.2f} ms, p95 {figures['p95_ms']:7.2f} ms, "
            f"p99 {figures['p99_ms']:8.2f} ms, errors {figures['errors']}"
        )
    server.terminate()
    server.join(10)


if __name__ == "__main__":
    main()
