"""Anti-fraud: call screening decisions per second in batch mode (target ≥ 20,000/s on this
2-core machine), beside a naive per-call implementation that scans the recent calls for every
decision; and transfer-hold decisions per second through the service on SQLite.

The calls are kupol's simulated day (kupol.antifraud.cdr_sim: 20,000 subscribers, ~87,000
calls with call centres, SIM-boxes, Wangiri and spoofed calls).

    .venv/bin/python bench/antifraud.py [--naive-calls 20000]

Screening over HTTP (p99 at 5,000 calls/s) is measured by bench/antifraud_http.py.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from kupol.antifraud.cdr_sim import SimCall, simulate_day
from kupol.antifraud.numbers import load_numbering
from kupol.antifraud.screening import CallScreen, Verdict

TARGET = 20_000


def kupol_rate(calls: list[SimCall], ported: dict[str, str]) -> tuple[float, int]:
    screen = CallScreen()
    screen.ported = ported
    blocked = 0
    started = time.perf_counter()
    for c in calls:
        verdict = screen.screen(c.attempt)
        if verdict.verdict is Verdict.BLOCK:
            blocked += 1
        else:
            screen.outcome(c.attempt, answered=c.answered, duration_s=c.duration_s)
    return len(calls) / (time.perf_counter() - started), blocked


def naive_rate(calls: list[SimCall]) -> tuple[float, int]:
    """The same fan-out, short-call and SIM-box rules computed by scanning every earlier call
    of the last day for each decision, numbers parsed each time (no caches, no windows)."""
    numbering = load_numbering()
    history: list[tuple[float, str, str, str | None, str | None, bool]] = []
    blocked = 0
    started = time.perf_counter()
    for c in calls:
        a = c.attempt
        now = a.at.timestamp()
        caller = numbering.classify(a.caller).e164
        callees: set[str] = set()
        outcomes = []
        imsis: dict[str | None, set[str | None]] = defaultdict(set)
        for t, who, whom, imei, imsi, short in history:
            if t < now - 86_400:
                continue
            if who == caller and t >= now - 600:
                callees.add(whom)
            if who == caller and t >= now - 3600:
                outcomes.append(short)
            if imei and imei == a.imei:
                imsis[imei].add(imsi)
        block = len(callees) >= 25 or (len(imsis.get(a.imei, ())) >= 4)
        if len(outcomes) >= 8 and sum(outcomes) >= 0.8 * len(outcomes) and len(callees) >= 10:
            block = True
        blocked += block
        short = (not c.answered) or c.duration_s < 10
        history.append((now, caller, numbering.classify(a.called).e164, a.imei, a.imsi, short))
    return len(calls) / (time.perf_counter() - started), blocked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--naive-calls", type=int, default=20_000)
    args = parser.parse_args()
    day = simulate_day()
    calls = day.calls
    rate, blocked = kupol_rate(calls, day.ported)
    print(f"call screening, batch, {len(calls):,} simulated calls, one process:")
    print(f"  kupol (sliding windows):  {rate:10,.0f} decisions/s  ({blocked:,} blocked)")
    verdict = "met" if rate >= TARGET else "NOT met"
    print(f"  target:                   {TARGET:10,} decisions/s  -> {verdict}")
    naive, naive_blocked = naive_rate(calls[: args.naive_calls])
    print(
        f"  naive (scan per call):    {naive:10,.0f} decisions/s  "
        f"(first {args.naive_calls:,} calls, {naive_blocked:,} blocked)"
    )
    print(f"  kupol / naive:            {rate / naive:10.1f}x")


if __name__ == "__main__":
    main()
